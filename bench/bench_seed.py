"""Foundation and registry figures: load_places, seed_demo (SQLite and PostgreSQL), `vitreem stats` live.

Each run uses fresh databases (a temporary SQLite file; a scratch PostgreSQL database on 127.0.0.1
when reachable), so the timings include migrations-free seeding only.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))
PG_URL = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432/vitreem_bench")


def _vitreem(env: dict, *args: str, timeout: int = 900) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-m", "vitreem.cli", *args, "--skip-checks"], env=env, check=True,
                   timeout=timeout, capture_output=True)
    return time.perf_counter() - start


def _pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True, connect_timeout=3) as c:
            c.execute("DROP DATABASE IF EXISTS vitreem_bench")
            c.execute("CREATE DATABASE vitreem_bench")
        return True
    except Exception:
        return False


def run(emit) -> None:
    base_env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    with tempfile.TemporaryDirectory() as tmp:
        env = {**base_env, "VITREEM_VAR_DIR": tmp}
        env.pop("DATABASE_URL", None)
        _vitreem(env, "migrate", "-v0")
        places = _vitreem(env, "load_places")
        places_again = _vitreem(env, "load_places")
        emit("load_places.first", places, "s", "load_places.second_run_idempotent", places_again)
        sqlite = _vitreem(env, "seed_demo", "--children", str(CHILDREN))
        emit("seed_demo.sqlite", sqlite, "s", "target", 60.0, children=CHILDREN)
        stats = _vitreem(env, "stats", "--year", "2022", "--json")
        emit("stats_cli.live.sqlite", stats, "s")
    if _pg_available():
        env = {**base_env, "DATABASE_URL": PG_URL}
        _vitreem(env, "migrate", "-v0")
        _vitreem(env, "load_places")
        pg = _vitreem(env, "seed_demo", "--children", str(CHILDREN))
        emit("seed_demo.postgresql", pg, "s", "seed_demo.sqlite", sqlite, children=CHILDREN)
        emit("stats_cli.live.postgresql", _vitreem(env, "stats", "--year", "2022", "--json"), "s",
             "stats_cli.live.sqlite", stats)
