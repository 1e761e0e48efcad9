"""Duplicate detection over the whole demo province: time, precision and recall against the planted
near-duplicates, side by side with an exact-personal-ID matcher (the way social-registry systems
match records) on the same data in the same run.

Truth: the demo generator marks each planted duplicate with source "demo-dup:<pk of the original>"
(typos, dropped diacritics, swapped day/month, year ±1, missing ID). A found pair counts as right
when it is such a (original, copy) pair; any other pair counts against precision. Nothing is written
(duplicates_find reads and scores only).
"""

from __future__ import annotations

import os
import time
from collections import defaultdict

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))


def _truth() -> set[tuple[int, int]]:
    from vitreem.registry.models import Child

    pairs = set()
    rows = Child.objects.filter(source__startswith="demo-dup:", ended_on__isnull=True).values_list("pk", "source")
    active = set(Child.objects.filter(ended_on__isnull=True).values_list("pk", flat=True))
    for pk, source in rows:
        original = int(source.split(":", 1)[1])
        if original in active:
            pairs.add((min(pk, original), max(pk, original)))
    return pairs


def _exact_id_pairs() -> set[tuple[int, int]]:
    """The baseline: two active records are the same child when, and only when, their IDs are equal."""
    from vitreem.registry.models import Child

    groups: dict[str, list[int]] = defaultdict(list)
    rows = Child.objects.filter(ended_on__isnull=True).exclude(personal_id="").values_list("personal_id", "pk")
    for pid, pk in rows.iterator(chunk_size=5000):
        groups[pid].append(pk)
    pairs = set()
    for ids in groups.values():
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                pairs.add((min(a, b), max(a, b)))
    return pairs


def _quality(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> tuple[float, float]:
    hits = len(found & truth)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(truth) if truth else 1.0
    return precision, recall


def run(emit) -> None:
    from bench.common import ensure_demo
    from vitreem.registry.duplicates import SCAN_THRESHOLD, duplicates_find
    from vitreem.registry.models import Child

    ensure_demo(children=CHILDREN)
    truth = _truth()
    active = Child.objects.filter(ended_on__isnull=True).count()
    emit("duplicates.children", active, "records", planted=len(truth))
    if not truth:
        emit("duplicates.no_planted_duplicates", 1, "flag")
        return

    started = time.perf_counter()
    baseline = _exact_id_pairs()
    baseline_seconds = time.perf_counter() - started

    cpu = time.process_time()
    result = duplicates_find(threshold=SCAN_THRESHOLD, skip_decided=False)
    cpu = time.process_time() - cpu
    found = {(a, b) for a, b, _s, _r in result.found}
    precision, recall = _quality(found, truth)
    base_precision, base_recall = _quality(baseline, truth)

    emit("duplicates.scan_seconds", result.seconds, "s", "exact_id.seconds", baseline_seconds,
         target=60.0, pairs_compared=result.pairs_compared)
    # CPU time of the scan process: on a busy machine the wall time above also counts waiting.
    emit("duplicates.scan_cpu_seconds", cpu, "s")
    emit("duplicates.recall", recall, "ratio", "exact_id.recall", base_recall, target=0.95)
    emit("duplicates.precision", precision, "ratio", "exact_id.precision", base_precision, target=0.95)
    emit("duplicates.pairs_found", len(found), "pairs", "exact_id.pairs_found", len(baseline))

    # Recall by kind of planted error, to see which ones each matcher misses.
    by_pk = dict(Child.objects.filter(pk__in={p for pair in truth for p in pair})
                 .values_list("pk", "personal_id"))
    with_id = {pair for pair in truth if by_pk[pair[0]] and by_pk[pair[0]] == by_pk[pair[1]]}
    emit("duplicates.recall_on_pairs_without_shared_id", _quality(found, truth - with_id)[1], "ratio",
         "exact_id.recall_on_pairs_without_shared_id", _quality(baseline, truth - with_id)[1])
