"""The statistics' change stamps at the size of the country (issue 13): `make bench BENCH_ARGS=stamps`.

A change stamps its commune and every unit whose figures include it (`stats.rollups.stamp_units`), once
per year and app it can reach. After a year of use nationally nearly every unit holds such stamps: the
country's ~14,000 units of both versions × 7 years × 6 apps is ~600,000 rows, where the demo province
alone holds ~22,000 at most. On the bench database (the demo province of BENCH_CHILDREN children and the
country's unit tree), inside a transaction rolled back at the end:

- the stamps the province's pages read (`_Stamps` over the ~400 units of its scope), the country's (every
  unit), the task worker's query for what changed since its last turn, and two pages of the province that
  read them (its dashboard with nothing kept, the allowances' home): the medians of 5, with the table as
  the database has it (the baseline), then with a stamp for every unit, year and app of the country;
- how many rows the province's read brought back (each unit's latest stamp per app), against the table's.
Bounded in count; no network.
"""

from __future__ import annotations

import datetime as dt
import os
import statistics
import time

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))
ROUNDS = 5


def _median_ms(fn) -> float:
    samples = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def _measure() -> dict[str, float]:
    from django.core.cache import cache
    from django.test import Client
    from django.utils import timezone
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from vitreem.accounts.models import User
    from vitreem.places.models import AdminUnit
    from vitreem.places.selectors import unit_resolve
    from vitreem.stats.models import UnitStamp
    from vitreem.stats.rollups import REFRESHED_KEY, _Stamps

    today = timezone.localdate()
    province = unit_resolve("2025:51")
    leader, officer = User.objects.get(username="leader"), User.objects.get(username="province")
    scope = set(AdminUnit.objects.filter(province_code__in=["51", "62"]).values_list("pk", flat=True))
    everything = list(AdminUnit.objects.values_list("pk", flat=True))
    since = timezone.now() - dt.timedelta(seconds=5)
    clients = {}
    for name, user in (("leader", leader), ("province", officer)):
        clients[name] = Client()
        clients[name].force_login(user)
        session = clients[name].session  # the second factor passed, as the OTP page leaves it
        session["otp_device_id"] = TOTPDevice.objects.get_or_create(
            user=user, name="bench", defaults={"confirmed": True})[0].persistent_id
        session.save()

    def page(name: str, path: str) -> None:
        cache.clear()  # nothing kept of the page
        response = clients[name].get(path)
        assert response.status_code == 200, (path, response.status_code)

    return {
        "province_read": _median_ms(lambda: _Stamps(scope, today)),
        "country_read": _median_ms(lambda: _Stamps(everything, today)),
        "worker_changes_query": _median_ms(lambda: list(  # RefreshTurns.turn's
            UnitStamp.objects.filter(changed_at__gt=since).exclude(key=REFRESHED_KEY)
            .values_list("key", "unit_id", "year", "app", "changed_at"))),
        "province_dashboard_page": _median_ms(lambda: page("leader", f"/stats/?unit={province.ref}")),
        "province_benefits_home": _median_ms(lambda: page("province", "/benefits/")),
        "province_rows_read": float(sum(len(v) for v in _Stamps(scope, today).of_unit.values())),
        "table_rows": float(UnitStamp.objects.count()),
    }


def _fill() -> int:
    """A stamp, an hour old, for every unit of the country × every dated year and none × every app and
    none (`stamp_units`' keys), as a year of use leaves them."""
    from django.db import connection
    from django.utils import timezone

    from vitreem.places.models import AdminUnit
    from vitreem.stats.models import UnitStamp
    from vitreem.stats.rollups import APP_STAMPED, DATED_FROM_YEAR, stamp_row

    at = timezone.now() - dt.timedelta(hours=1)
    existing = set(UnitStamp.objects.values_list("key", flat=True))
    rows = [row for pk in AdminUnit.objects.values_list("pk", flat=True)
            for year in [None, *range(DATED_FROM_YEAR, timezone.localdate().year + 1)] for app in ["", *APP_STAMPED]
            if (row := stamp_row(pk, year, app)).key not in existing]
    for row in rows:
        row.changed_at = at
    UnitStamp.objects.bulk_create(rows, batch_size=5000)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:  # the planner's statistics, as autovacuum would leave them
            cursor.execute("ANALYZE stats_unitstamp")
    return len(rows)


def _vacuum() -> None:
    """The rows of a fill rolled back are dead rows that a read of the table walks past on a server
    without autovacuum (this machine's setting), and pages of the table's file even after a plain VACUUM
    (191 rows in 38 MB after three runs: 10 ms a read): the table rewritten as the installation has it."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("VACUUM (FULL, ANALYZE) stats_unitstamp")


def run(emit) -> None:
    from django.db import transaction

    from bench.common import ensure_demo
    from vitreem.stats.rollups import rollups_refresh

    ensure_demo(CHILDREN)
    rollups_refresh()  # the stored figures as the demo leaves them: the pages read them
    _vacuum()
    before = _measure()
    with transaction.atomic():
        started = time.perf_counter()
        added = _fill()
        emit("stamps.fill", time.perf_counter() - started, "s", rows=added)
        after = _measure()
        transaction.set_rollback(True)  # the bench database keeps its own stamps only
    _vacuum()
    for name in ("province_read", "country_read", "worker_changes_query", "province_dashboard_page",
                 "province_benefits_home"):
        emit(f"stamps.{name}.national_table", after[name], "ms", f"stamps.{name}.as_found", before[name])
    emit("stamps.province_rows_read.national_table", after["province_rows_read"], "rows",
         "stamps.table_rows.national_table", after["table_rows"])
