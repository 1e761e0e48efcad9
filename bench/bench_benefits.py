"""Payroll for the whole demo province: one month and twelve months, time and number of queries.

The baseline for queries is the number of recipients (what a per-recipient implementation would
issue at least); ours must stay constant. The 12-month run computes each month in turn, as the
budget and the payroll index do. Nothing is written.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from django.utils import timezone

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))


def run(emit) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from bench.common import ensure_demo
    from vitreem.accounts.models import User
    from vitreem.benefits.rules import month_add
    from vitreem.benefits.selectors import payroll_for_user

    ensure_demo(CHILDREN)
    officer = User.objects.get(username="province")
    open_month = timezone.localdate().replace(day=1)

    seconds: dict[str, float] = {}
    for label, month in (("open", open_month), ("locked_2024_07", dt.date(2024, 7, 1))):
        payroll_for_user(user=officer, month=month)  # warm the unit mapping
        with CaptureQueriesContext(connection) as queries:
            start = time.perf_counter()
            result = payroll_for_user(user=officer, month=month)
            seconds[label] = elapsed = time.perf_counter() - start
        emit(f"benefits.payroll_province.{label}.seconds", elapsed, "s", recipients=result.recipients)
        emit(f"benefits.payroll_province.{label}.queries", len(queries), "queries",
             baseline_name="recipients (one query each)", baseline_value=result.recipients)

    # A rule correction recorded after every lock (an installation upgrading, issue 14 item 8): until a
    # payroll is locked after it, the open month reconciles every paid month it affects — here from
    # 07/2021, every paid line of the province (the dry run computes the same; nothing is written).
    from vitreem.benefits.payroll import payroll_compute
    from vitreem.benefits.rules import PROGRAMME_START

    start = time.perf_counter()
    result = payroll_compute(month=open_month, commune_ids=None, assumed_changes=[(PROGRAMME_START, timezone.now())])
    emit("benefits.payroll_province.open_with_rule_correction.seconds", time.perf_counter() - start, "s",
         baseline_name="open month, no pending correction", baseline_value=seconds["open"],
         adjustments=sum(len(ln.details) for ln in result.lines))

    months = [month_add(open_month, -i) for i in range(12)]
    with CaptureQueriesContext(connection) as queries:
        start = time.perf_counter()
        total = 0
        for m in months:
            total += payroll_for_user(user=officer, month=m).total
        elapsed = time.perf_counter() - start
    emit("benefits.payroll_province.12_months.seconds", elapsed, "s", total_vnd=total)
    emit("benefits.payroll_province.12_months.queries", len(queries), "queries")
