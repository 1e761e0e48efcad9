"""The synthetic country (issue 13 items 5–6): `make bench BENCH_ARGS=national`.

Builds the country once in its own PostgreSQL database (BENCH_NATIONAL_DB, default `national_bench`,
on the server of DATABASE_URL) with `vitreem seed_demo --national --children N` (BENCH_NATIONAL_CHILDREN,
default 25,000,000), and reuses it when its completion marker says it holds N children; a partial one
is dropped and built again. Then, on that database:

- the build: seconds, peak memory, database and table sizes (only when built in this run);
- the floor: one plain GROUP BY commune over the dated residences per as-of date (year-ends 2021 →
  last year, and today) counting children and the poverty and special-circumstance flags — the
  baseline of the engine's figures below; and the same counts in the EXISTS shape the indicators use
  (a reference, bounded by BENCH_NATIONAL_EXISTS_TIMEOUT seconds, default the step's bound; 0 skips it);
- the engine's full fill (`vitreem stats_refresh` when the engine has it; otherwise, with the
  per-unit engine, the country's figures for one year by `vitreem stats --json`), time and peak memory;
- `vitreem stats --year Y --json` for the country;
- the dashboards of a province (2025:51, as `leader`) and a commune (2025:23500, as `commune`) through
  a real gunicorn: cold (rollups cleared) and kept (p50/p95 at 1 and 20 connections); the country's
  dashboard when the view offers one (`/stats/?unit=country`), else said so;
- a registry change (an episode opened in the commune) until the province's dashboard shows it;
- the 2022 annual report of the province, .docx then .pdf.

Every heavy step runs in a subprocess bounded by BENCH_NATIONAL_TIMEOUT seconds (default 900) and
reports its peak memory (ru_maxrss). Traffic only to 127.0.0.1. The database is kept for the next run
and for the load test (`docs/en/scaling.md` says how to build and drop it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DB = os.environ.get("BENCH_NATIONAL_DB", "national_bench")
CHILDREN = int(os.environ.get("BENCH_NATIONAL_CHILDREN", "25000000"))
TIMEOUT = int(os.environ.get("BENCH_NATIONAL_TIMEOUT", "900"))
# The floor's reference EXISTS shape has its own bound (0: not run): at 25 M children one date of it took
# longer than the whole fill, and it is a reference, not a target.
EXISTS_TIMEOUT = int(os.environ.get("BENCH_NATIONAL_EXISTS_TIMEOUT", str(TIMEOUT)))
PROVINCE, COMMUNE = "2025:51", "2025:23500"


def _settings() -> dict:
    from django.db import connection

    return connection.settings_dict


def _url(name: str) -> str:
    s = _settings()
    auth = (s["USER"] or "postgres") + (f":{s['PASSWORD']}" if s["PASSWORD"] else "")
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{name}"


def _admin(sql: str) -> list:
    import psycopg

    s = _settings()
    with psycopg.connect(host=s["HOST"] or "127.0.0.1", port=s["PORT"] or 5432, user=s["USER"] or "postgres",
                         password=s["PASSWORD"] or "", dbname="postgres", autocommit=True) as admin:
        cur = admin.execute(sql)
        return cur.fetchall() if cur.description else []


# A wrapper around each step: its own child's peak resident memory (ru_maxrss, KiB), printed last.
PEAK = ("import resource, subprocess, sys\nrc = subprocess.call(sys.argv[1:])\n"
        "print(f'peak_kib={resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}', file=sys.stderr)\nsys.exit(rc)")


def _run(args: list[str], *, timeout: int = TIMEOUT) -> dict:
    """Run `args` against the national database; wall seconds, peak RSS (MiB), output, or timed_out."""
    env = {**os.environ, "DATABASE_URL": _url(DB), "DJANGO_SETTINGS_MODULE": "config.settings.base"}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", PEAK, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        out, err = proc.communicate(timeout=timeout)
        timed_out = False
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        timed_out = True
    seconds = time.perf_counter() - started
    tail = err.rstrip().rsplit("\n", 1)[-1]
    peak = int(tail.removeprefix("peak_kib=")) / 1024 if tail.startswith("peak_kib=") else float("nan")
    return {"seconds": seconds, "peak_mib": peak, "out": out, "err": err, "rc": proc.returncode,
            "timed_out": timed_out}


def _vitreem(*args: str, timeout: int = TIMEOUT) -> dict:
    return _run([str(Path(sys.executable).with_name("vitreem")), *args], timeout=timeout)


def _python(code: str, *args: str, timeout: int = TIMEOUT) -> dict:
    return _run([sys.executable, "-c", "import django; django.setup()\n" + code, *args], timeout=timeout)


def _use_national_db() -> None:
    from django.db import connection

    connection.close()
    connection.settings_dict["NAME"] = DB


def _ensure(emit) -> None:
    if not _admin(f"SELECT 1 FROM pg_database WHERE datname = '{DB}'"):  # noqa: S608 — our own name
        _admin(f'CREATE DATABASE "{DB}"')
    migrated = _vitreem("migrate", "--noinput", "-v0")
    if migrated["rc"] != 0:
        raise RuntimeError(migrated["err"][-2000:])
    _use_national_db()
    from vitreem.demo.national import national_complete

    done = national_complete()
    if done and done.get("requested") == CHILDREN:
        emit("national.reused", 1, "flag", children=done.get("children"))
        return
    from vitreem.registry.models import Child

    if Child.objects.exists():  # an interrupted or different load: start again from an empty database
        from django.db import connection

        connection.close()
        _admin(f'DROP DATABASE "{DB}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{DB}"')
        _vitreem("migrate", "--noinput", "-v0")
    built = _vitreem("seed_demo", "--national", "--children", str(CHILDREN), timeout=max(TIMEOUT, 4 * 3600))
    if built["rc"] != 0 or built["timed_out"]:
        raise RuntimeError(f"national seed failed: {built['err'][-2000:]}")
    emit("national.seed", built["seconds"], "s", children=CHILDREN, peak_mib=round(built["peak_mib"]),
         summary=built["out"].strip().splitlines()[-1][:600])


def _sizes(emit) -> None:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("SELECT pg_database_size(current_database())")
        emit("national.database_size", cur.fetchone()[0] / 2**30, "GiB")
        cur.execute("SELECT c.relname, pg_table_size(c.oid), pg_indexes_size(c.oid), c.reltuples::bigint "
                    "FROM pg_class c WHERE c.relkind = 'r' AND c.relname LIKE 'registry_%' ORDER BY 2 DESC")
        for name, table, indexes, rows in cur.fetchall():
            emit(f"national.size.{name}", (table + indexes) / 2**30, "GiB", table_gib=round(table / 2**30, 3),
                 indexes_gib=round(indexes / 2**30, 3), rows=rows)


# Both start with the review in force per commune (registry/rules.py poverty_years_on, without the 2025 crosswalk: the
# national demo records each review in the unit its households carry).
FLOOR_JOIN = """
WITH in_force AS (SELECT unit_id, max(year) AS year FROM registry_povertyreview
                  WHERE year <= %(year)s AND decided_on <= %(day)s GROUP BY unit_id)
SELECT r.unit_id, count(*),
       count(*) FILTER (WHERE p.status = 'poor'), count(*) FILTER (WHERE p.status = 'near_poor'),
       count(*) FILTER (WHERE s.child_id IS NOT NULL)
FROM registry_residence r
JOIN registry_child c ON c.id = r.child_id
LEFT JOIN registry_household h ON h.id = c.household_id
LEFT JOIN in_force f ON f.unit_id = h.unit_id
LEFT JOIN registry_householdpoverty p ON p.household_id = c.household_id AND p.year = f.year
LEFT JOIN (SELECT DISTINCT child_id FROM registry_specialepisode
           WHERE start <= %(day)s AND ("end" IS NULL OR "end" >= %(day)s)) s ON s.child_id = c.id
WHERE r.start <= %(day)s AND (r."end" IS NULL OR r."end" >= %(day)s)
  AND c.birth_date <= %(day)s AND c.birth_date > %(born_after)s
  AND (c.ended_on IS NULL OR c.ended_on > %(day)s) AND c.end_reason <> 'merged'
GROUP BY r.unit_id
"""
# The shape the indicators have (registry/rules.py): EXISTS per flag.
FLOOR_EXISTS = """
WITH in_force AS (SELECT unit_id, max(year) AS year FROM registry_povertyreview
                  WHERE year <= %(year)s AND decided_on <= %(day)s GROUP BY unit_id)
SELECT r.unit_id, count(*),
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM registry_householdpoverty p
                                      JOIN registry_household h ON h.id = p.household_id
                                      JOIN in_force f ON f.unit_id = h.unit_id AND f.year = p.year
                                      WHERE p.household_id = c.household_id AND p.status = 'poor')),
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM registry_householdpoverty p
                                      JOIN registry_household h ON h.id = p.household_id
                                      JOIN in_force f ON f.unit_id = h.unit_id AND f.year = p.year
                                      WHERE p.household_id = c.household_id AND p.status = 'near_poor')),
       count(*) FILTER (WHERE EXISTS (SELECT 1 FROM registry_specialepisode e WHERE e.child_id = c.id
                                      AND e.start <= %(day)s AND (e."end" IS NULL OR e."end" >= %(day)s)))
FROM registry_residence r
JOIN registry_child c ON c.id = r.child_id
WHERE r.start <= %(day)s AND (r."end" IS NULL OR r."end" >= %(day)s)
  AND c.birth_date <= %(day)s AND c.birth_date > %(born_after)s
  AND (c.ended_on IS NULL OR c.ended_on > %(day)s) AND c.end_reason <> 'merged'
GROUP BY r.unit_id
"""


def _days() -> list[dt.date]:
    """The dates the rollups are filled for (the fill is compared with the floor over the same dates)."""
    from vitreem.stats.rollups import refresh_days

    return refresh_days()


def _floor(emit, sql: str, name: str, *, timeout: int = TIMEOUT) -> tuple[float, dict, dict]:
    from django.db import connection

    from vitreem.registry.rules import sixteen_years_before

    total, per_day, seconds = 0.0, {}, {}
    with connection.cursor() as cur:
        cur.execute("SET statement_timeout = %s", [timeout * 1000])
        for day in _days():
            started = time.perf_counter()
            cur.execute(sql, {"day": day, "year": day.year, "born_after": sixteen_years_before(day)})
            rows = cur.fetchall()
            spent = time.perf_counter() - started
            total += spent
            seconds[day] = spent
            per_day[day] = [sum(r[i] for r in rows) for i in range(1, 5)]
            emit(f"national.{name}.{day.isoformat()}", spent, "s", communes=len(rows), children=per_day[day][0],
                 poor=per_day[day][1], near_poor=per_day[day][2], special=per_day[day][3])
        cur.execute("RESET statement_timeout")
    emit(f"national.{name}.all_dates", total, "s", dates=len(per_day))
    return total, per_day, seconds


def run(emit) -> None:  # noqa: PLR0915 — one story, step by step
    from django.db import OperationalError, connection

    if connection.vendor != "postgresql":
        emit("national.skipped_not_postgresql", 1, "flag")
        return
    main_commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                                 text=True).stdout.strip()
    emit("national.load_average", os.getloadavg()[0], "load", commit=main_commit, cores=os.cpu_count())
    _ensure(emit)
    _sizes(emit)

    floor, per_day, floor_seconds = _floor(emit, FLOOR_JOIN, "floor")
    try:  # a reference shape only: at 25 M children one date ran past the timeout (stop 31)
        if EXISTS_TIMEOUT > 0:
            _floor(emit, FLOOR_EXISTS, "floor_exists_shape", timeout=EXISTS_TIMEOUT)
        else:
            emit("national.floor_exists_shape.skipped", 0, "s")
    except OperationalError as exc:
        emit("national.floor_exists_shape.timed_out", EXISTS_TIMEOUT, "s", error=str(exc)[:200])
        with connection.cursor() as cur:
            cur.execute("RESET statement_timeout")

    from django.core.management import get_commands
    from django.utils import timezone

    from bench.common import rollups_cleared

    year = timezone.localdate().year - 1

    rollups_cleared()
    if "stats_refresh" in get_commands():
        fill = _vitreem("stats_refresh")
        emit("national.fill", fill["seconds"], "s", "national.floor.all_dates", floor, peak_mib=round(fill["peak_mib"]),
             timed_out=fill["timed_out"], rc=fill["rc"])
    else:
        emit("national.fill_unavailable", 1, "flag", note="no stats_refresh in this commit: the per-unit engine")
    # The baseline of a command: a process that only starts Python and Django (`django.setup()`).
    start = min((_python("pass") for _ in range(3)), key=lambda r: r["seconds"])
    emit("national.process_start", start["seconds"], "s", note="python -c 'django.setup()', min of 3")
    stats = _vitreem("stats", "--year", str(year), "--json")
    country = json.loads(stats["out"]) if stats["rc"] == 0 and not stats["timed_out"] else {}
    day = dt.date(year, 12, 31)
    emit("national.stats_json_country", stats["seconds"], "s", "national.process_start", start["seconds"],
         peak_mib=round(stats["peak_mib"]), timed_out=stats["timed_out"], rc=stats["rc"],
         children=country.get("children"), floor_children=per_day.get(day, [None])[0],
         err=stats["err"][-300:] if stats["rc"] else "")

    _dashboards(emit, floor)

    for fmt in ("docx", "pdf"):
        built = _python("from vitreem.places.selectors import unit_resolve\n"
                        "from vitreem.reports.services import report_build\n"
                        f"report_build(year=2022, unit=unit_resolve('{PROVINCE}'), fmt='{fmt}')")
        emit(f"national.annual_report_2022_province_{fmt}", built["seconds"], "s", timed_out=built["timed_out"],
             rc=built["rc"], peak_mib=round(built["peak_mib"]), err=built["err"][-300:] if built["rc"] else "")
    emit("national.load_average_end", os.getloadavg()[0], "load")


def _dashboards(emit, floor: float) -> None:
    from django.conf import settings
    from django.utils import timezone

    from bench.bench_stats import _figure, _session_for
    from bench.common import p50_p95
    from vitreem.accounts.models import User
    from vitreem.stats.rollups import rollups_clear

    port, server = _serve(settings.VAR_DIR)
    try:
        _wait_port(port)
        # "cold": a fresh server, no page kept, the rollups as the fill left them (what the first visitor
        # of the day finds); the first page with nothing stored at all is measured at the end
        leader = User.objects.get(username="leader")
        worker = User.objects.get(username="commune")
        pages = [("province", leader, f"/stats/?unit={PROVINCE}"), ("commune", worker, f"/stats/?unit={COMMUNE}"),
                 ("country", _country_viewer(), "/stats/?unit=country")]
        for name, user, path in pages:
            cookie = _session_for(user)
            try:
                status, _body, cold = _get(port, cookie, path)
            except OSError as exc:
                emit(f"national.dashboard_{name}_cold", float("nan"), "ms", error=str(exc)[:200])
                continue
            if status != 200:
                emit(f"national.dashboard_{name}_unavailable", status, "http_status")
                continue
            emit(f"national.dashboard_{name}_cold", cold, "ms", "national.floor.all_dates", floor * 1000)
            one = [_get(port, cookie, path)[2] for _ in range(50)]
            p50, p95 = p50_p95(one)
            emit(f"national.dashboard_{name}_kept_p95_1conn", p95, "ms", p50=round(p50, 1))

            def hit(c=cookie, p=path):
                return _get(port, c, p)

            many = _concurrent_path(hit, 100, 20)
            p50, p95 = p50_p95(many)
            emit(f"national.dashboard_{name}_kept_p95_20conn", p95, "ms", p50=round(p50, 1),
                 load=round(os.getloadavg()[0], 2))

        # A registry change in the commune, until the province's dashboard shows it. Pages show stored
        # figures; the task worker recomputes what a change made stale (as in production): started
        # now, and the change made once its first turn (a check of every stored row) is over.
        from vitreem.stats.rollups import rollups_refresh

        rollups_refresh()  # what the pages above stored or left stale, so the worker's first turn only reads
        task_worker = _worker(settings.VAR_DIR)
        from vitreem.places.selectors import unit_resolve
        from vitreem.registry import services
        from vitreem.registry.models import Child, SpecialGroup
        from vitreem.registry.rules import q_child_on, q_special_on

        _wait_idle(task_worker.pid, quiet=5.0)
        today = timezone.localdate()
        cookie = _session_for(leader)
        path = f"/stats/?unit={PROVINCE}"
        before = _figure(_get(port, cookie, path)[1], "special_circumstances")
        if before is None:
            raise RuntimeError("bench_national: the province dashboard shows no special_circumstances figure")
        child = (Child.objects.filter(q_child_on(today), unit=unit_resolve(COMMUNE)).exclude(q_special_on(today))
                 .order_by("pk").first())
        assert child is not None, f"no child without special circumstances in {COMMUNE}"
        officer = User.objects.get(username="province")
        changed = time.perf_counter()
        episode = services.special_episode_open(actor=officer, child=child, group=SpecialGroup.objects.get(code="3"),
                                                start=today - dt.timedelta(days=1))
        seen = None
        while time.perf_counter() - changed < TIMEOUT:
            if _figure(_get(port, cookie, path)[1], "special_circumstances") == (before or 0) + 1:
                seen = time.perf_counter() - changed
                break
            time.sleep(0.2)
        emit("national.change_to_province_dashboard", (seen if seen is not None else float("nan")) * 1000, "ms",
             refresh_every_s=settings.VITREEM_STATS_REFRESH_SECONDS)
        services.special_episode_close(actor=officer, episode=episode, end=today - dt.timedelta(days=1))
        task_worker.terminate()
        task_worker.wait(timeout=120)

        # the province's first page with nothing stored (rollups cleared): what a wipe would cost
        rollups_clear()
        status, _body, ms = _get(port, _session_for(leader), f"/stats/?unit={PROVINCE}&year={today.year - 1}")
        emit("national.dashboard_province_nothing_stored", ms, "ms", "national.floor.all_dates", floor * 1000,
             status=status)
    finally:
        server.terminate()
        server.wait(timeout=60)


def _country_viewer():
    """A leader assigned every province of both versions (the Ministry's view): the one kind of account
    the country's dashboard opens for (stats.selectors.country_for_user)."""
    from vitreem.accounts.models import Role, User
    from vitreem.places.models import AdminUnit, Level

    user, _created = User.objects.get_or_create(username="national_leader",
                                                defaults={"role": Role.LEADER, "full_name": "Lãnh đạo Bộ"})
    user.units.set(AdminUnit.objects.filter(level=Level.PROVINCE))
    return user


def _serve(var_dir) -> tuple[int, subprocess.Popen]:
    """Our own gunicorn (2 sync workers, DEBUG off, as bench_stats) on the national database, with a
    worker timeout long enough for a cold page of the per-unit engine."""
    from bench.bench_stats import _free_port

    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": _url(DB),
           "VITREEM_VAR_DIR": str(var_dir), "CONN_MAX_AGE": "60", "DEBUG": "0"}
    server = subprocess.Popen(  # our own gunicorn, bound to 127.0.0.1
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--timeout", str(TIMEOUT), "--log-level", "warning"], cwd=ROOT, env=env)
    return port, server


def _worker(var_dir) -> subprocess.Popen:
    """Our own task worker (`vitreem run_worker`) on the national database."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "config.settings.base", "DATABASE_URL": _url(DB),
           "VITREEM_VAR_DIR": str(var_dir), "CONN_MAX_AGE": "60"}
    return subprocess.Popen([str(Path(sys.executable).with_name("vitreem")), "run_worker"], cwd=ROOT, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _wait_idle(pid: int, quiet: float = 3.0) -> None:
    """Until the process has used almost no CPU (at most a twentieth of a core: its idle polls, which read
    the queue and the figures' stamps every second, cost a clock tick every few seconds), and no other
    connection to the database has run a query, for `quiet` seconds (its first turn done: the turn's
    queries keep PostgreSQL busy while the worker itself waits on them), at most TIMEOUT."""
    from django.db import connection

    hz = os.sysconf("SC_CLK_TCK")

    def ticks() -> int:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime in clock ticks

    def busy() -> bool:
        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                        "AND pid <> pg_backend_pid() AND state = 'active'")
            return bool(cur.fetchone()[0])

    deadline = time.perf_counter() + TIMEOUT
    since, base = time.perf_counter(), ticks()
    while time.perf_counter() < deadline and time.perf_counter() - since < quiet:
        time.sleep(0.5)
        if busy() or ticks() - base > max(1, 0.05 * hz * (time.perf_counter() - since)):
            since, base = time.perf_counter(), ticks()


def _wait_port(port: int) -> None:
    import socket

    deadline = time.perf_counter() + 120
    while time.perf_counter() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.3)


def _get(port: int, cookie: str, path: str) -> tuple[int, str, float]:
    import http.client

    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=TIMEOUT)
    conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, body, (time.perf_counter() - started) * 1000


def _concurrent_path(hit, total: int, workers: int) -> list[float]:
    import threading

    samples: list[float] = []
    lock = threading.Lock()
    deadline = time.perf_counter() + TIMEOUT

    def worker() -> None:
        for _ in range(total // workers):
            if time.perf_counter() > deadline:
                return
            status, _body, ms = hit()
            with lock:
                samples.append(ms if status == 200 else float("inf"))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples
