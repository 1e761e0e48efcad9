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
