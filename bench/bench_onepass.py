"""One pass for every unit, on the demo province (issue 13): `make bench BENCH_ARGS=onepass`.

On the bench database (SQLite by default; PostgreSQL with DATABASE_URL), the demo of BENCH_CHILDREN
(default 200,000) children:

- the floor: one plain GROUP BY commune over the dated residences per as-of date (year-ends 2021 →
  last year, and today) counting children and the poverty and special-circumstance flags — the
  baseline of every figure below (bench_national's query, on this database);
- the full fill of the rollups (`rollups_refresh(full=True)`: every unit of both versions × every
  as-of date), against 5 × the floor of all dates;
- one commune's figures against the province's, computed cold (nothing stored) for one date: the medians
  of BENCH_ONEPASS_ROUNDS rounds (7), and the share round by round (median, lowest, highest);
- the dashboard page (the view, in process: scope, rollups, rendering; the kept page forgotten before
  each request) for the province, a legacy district, a legacy commune and a 2025 commune, every year
  2021 → today: p50/p95 with the rollups filled; and the province's first page with nothing stored;
- the figures of `vitreem stats --json` for the province from the rollups.
Bounded in count; no network.
"""

from __future__ import annotations

import os
import statistics
import time

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))
ROUNDS = int(os.environ.get("BENCH_ONEPASS_ROUNDS", "7"))  # one commune against the province


def _floor(emit) -> float:
    from django.db import connection

    from bench.bench_national import FLOOR_JOIN
    from vitreem.registry.rules import sixteen_years_before
    from vitreem.stats.rollups import refresh_days

    total = 0.0
    sql = FLOOR_JOIN if connection.vendor == "postgresql" else FLOOR_JOIN.replace("%(", ":").replace(")s", "")
    with connection.cursor() as cur:
        for day in refresh_days():
            params = {"day": day, "year": day.year, "born_after": sixteen_years_before(day)}
            started = time.perf_counter()
            if connection.vendor == "postgresql":
                cur.execute(sql, params)
                rows = cur.fetchall()
            else:  # Django's SQLite cursor takes "%s" only; the driver's own takes named parameters
                rows = cur.connection.execute(sql, {k: str(v) for k, v in params.items()}).fetchall()
            spent = time.perf_counter() - started
            total += spent
            emit(f"onepass.floor.{day.isoformat()}", spent, "s", communes=len(rows), children=sum(r[1] for r in rows))
    emit("onepass.floor.all_dates", total, "s", database=connection.vendor)
    return total


def _dashboard_pages(emit, label: str, pages: list[tuple[object, str]]) -> None:
    from django.core.cache import cache
    from django.test import Client

    from bench.common import p50_p95

    samples = []
    for user, path in pages:
        client = Client()
        client.force_login(user)
        cache.clear()
        started = time.perf_counter()
        response = client.get(path)
        samples.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (path, response.status_code)
    p50, p95 = p50_p95(samples)
    emit(f"onepass.dashboard_cold_{label}_p95", p95, "ms", p50=round(p50, 1), pages=len(samples))


def run(emit) -> None:
    from django.utils import timezone

    from bench.common import autovacuum, ensure_demo, rollups_cleared
    from vitreem.accounts.models import User
    from vitreem.places import selectors as places
    from vitreem.places.selectors import unit_resolve
    from vitreem.stats.engine import compute_units, indicators
    from vitreem.stats.rollups import figures, mode_of, refresh_days, rollups_clear, rollups_refresh

    ensure_demo(CHILDREN)
    emit("onepass.load_average", os.getloadavg()[0], "load", cores=os.cpu_count(), autovacuum=autovacuum())
    floor = _floor(emit)
    days = refresh_days()

    rollups_cleared()
    started = time.perf_counter()
    pairs = rollups_refresh(full=True)
    fill = time.perf_counter() - started
    emit("onepass.fill_all_units_all_dates", fill, "s", "onepass.floor_all_dates_x5", 5 * floor, pairs=pairs,
         dates=len(days))

    # one commune against the province, cold, every stored indicator, one date
    codes = [c for c in indicators() if mode_of(c) != "live"]
    day = days[-1]
    province, commune = unit_resolve("2025:51"), unit_resolve("2025:23500")
    # ROUNDS rounds, each unit computed with nothing of its figures kept; the medians compared (one round
    # each varied 0.09–0.13 on the same code and database, 0.10–0.15 on a slower, noisier machine). The
    # unit tree's shape is kept, as a server process keeps it from its first computation to the tree's
    # next change (places.selectors.unit_tree); what reading it costs is printed beside.
    tree_reads = []
    for _round in range(3):
        places._SHAPE.clear()
        started = time.perf_counter()
        places.unit_tree()
        tree_reads.append((time.perf_counter() - started) * 1000)
    emit("onepass.unit_tree_read", statistics.median(tree_reads), "ms", communes=len(places.unit_tree().up))
    samples: dict[str, list[float]] = {"province": [], "commune": []}
    for _round in range(ROUNDS):
        for name, unit in (("province", province), ("commune", commune)):
            started = time.perf_counter()
            compute_units([unit], day, codes)
            samples[name].append((time.perf_counter() - started) * 1000)
    emit("onepass.one_commune_cold", statistics.median(samples["commune"]), "ms", "onepass.province_cold",
         statistics.median(samples["province"]), rounds={k: [round(v, 1) for v in vs] for k, vs in samples.items()})
    # the share round by round (each commune against the province of its own round): its spread
    shares = sorted(c / p for c, p in zip(samples["commune"], samples["province"], strict=True))
    emit("onepass.one_commune_share", round(statistics.median(shares), 3), "ratio", "target", 0.1,
         lowest=round(shares[0], 3), highest=round(shares[-1], 3))

    # dashboards with the rollups filled, nothing kept of the pages
    leader, worker = User.objects.get(username="leader"), User.objects.get(username="commune")
    years = range(2021, timezone.localdate().year + 1)
    district = unit_resolve("legacy:611")
    legacy_commune = unit_resolve("legacy:23377")
    _dashboard_pages(emit, "province", [(leader, f"/stats/?unit=legacy:62&year={y}") for y in years]
                     + [(leader, f"/stats/?unit=2025:51&year={y}") for y in years])
    _dashboard_pages(emit, "district_and_communes",
                     [(leader, f"/stats/?unit={district.ref}&year={y}") for y in years]
                     + [(leader, f"/stats/?unit={legacy_commune.ref}&year={y}") for y in years]
                     + [(worker, f"/stats/?year={y}") for y in years])
    started = time.perf_counter()
    figures(units=[province], days=[day], codes=codes)
    emit("onepass.stats_json_province_from_rollups", (time.perf_counter() - started) * 1000, "ms")

    rollups_clear()
    _dashboard_pages(emit, "province_nothing_stored", [(leader, "/stats/?unit=2025:51")])
    rollups_refresh()  # leave the bench database as the demo leaves it
