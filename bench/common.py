"""Helpers shared by the benchmarks."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def ensure_demo(children: int = 200_000) -> None:
    """Load places and the demo province into the bench database when it is not there yet."""
    from django.core.management import call_command

    from vitreem.demo.services import demo_exists
    from vitreem.places.models import AdminUnit

    call_command("migrate", verbosity=0)
    if not AdminUnit.objects.exists():
        call_command("load_places", verbosity=0)
    if not demo_exists():
        from vitreem.demo.services import demo_seed

        demo_seed(children=children, log=lambda *_: None)


def rollups_cleared() -> None:
    """Clear the stored figures (`rollups_clear`) and vacuum their table, as autovacuum would have: a
    server without it (this machine's CI setting) keeps the dead rows of every earlier fill, and each
    later fill reads past them (the demo province after five runs: 248,000 dead rows beside 31,000 live)."""
    from django.db import connection

    from vitreem.stats.models import Rollup
    from vitreem.stats.rollups import rollups_clear

    rollups_clear()
    if connection.vendor == "postgresql" and not connection.in_atomic_block:
        with connection.cursor() as cursor:
            cursor.execute(f"VACUUM (ANALYZE) {connection.ops.quote_name(Rollup._meta.db_table)}")


def autovacuum() -> str:
    """The server's autovacuum setting, printed beside the figures it affects ("-" on SQLite)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return "-"
    with connection.cursor() as cursor:
        cursor.execute("SHOW autovacuum")
        return cursor.fetchone()[0]


def timed(fn: Callable[[], object], *, repeat: int = 100, max_seconds: float = 120.0) -> list[float]:
    """Run fn up to `repeat` times (stopping after max_seconds); durations in milliseconds."""
    out: list[float] = []
    deadline = time.perf_counter() + max_seconds
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
        if time.perf_counter() > deadline:
            break
    return out


def p50_p95(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, int(round(0.95 * (len(ordered) - 1))))]
