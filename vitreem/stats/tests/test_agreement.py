"""The engine gives the recorded figures: every indicator × every unit (the province, its districts and
communes, in both versions, and the whole installation) × every year-end 2021 → "today", on a small
demo province (fixed seed, fixed day).

`agreement.json.gz` was recorded with the engine as it was before the one-pass redesign (issue 13),
which computed each indicator for one unit and one date at a time. The redesigned engine must give
identical values. The clock is set to the day of the recording, so the demo (whose cases and
allowances are generated up to "today") and every "today" figure are those of the recording on any
day the test runs.

To record again (only when a counting rule changes on purpose, and say why in the commit):
`VITREEM_RECORD_AGREEMENT=1 .venv/bin/pytest vitreem/stats/tests/test_agreement.py`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import os
from pathlib import Path

import pytest
import time_machine
from django.db import transaction

FIXTURE = Path(__file__).with_name("agreement.json.gz")
# "Today" of the recording (Asia/Ho_Chi_Minh 15:00): the demo's generated history and every figure of
# the current year depend on it.
RECORDED_AT = dt.datetime(2026, 12, 3, 8, 0, tzinfo=dt.UTC)
YEARS = range(2021, 2027)
DEMO_CHILDREN = 4000
DEMO_SEED = 7
DEMO_PARTS = ["registry", "cases", "benefits", "programme", "activities"]
RECORD = bool(os.environ.get("VITREEM_RECORD_AGREEMENT"))
WHOLE = "*"  # the whole installation (no unit)


@pytest.fixture(scope="module")
def recorded_demo(django_db_setup, django_db_blocker):
    from vitreem.demo.services import demo_seed

    with time_machine.travel(RECORDED_AT, tick=True), django_db_blocker.unblock(), transaction.atomic():
        demo_seed(children=DEMO_CHILDREN, seed=DEMO_SEED, parts=DEMO_PARTS, log=lambda line: None)
        yield
        transaction.set_rollback(True)


def _units():
    from vitreem.places.models import AdminUnit
    from vitreem.places.selectors import descendant_ids, unit_resolve

    roots = [unit_resolve("legacy:62"), unit_resolve("2025:51")]
    return list(AdminUnit.objects.filter(pk__in=descendant_ids(roots)).order_by("version", "level", "code"))


def _as_json(value):
    return json.loads(json.dumps(value, default=str))


def _days():
    from vitreem.stats.engine import params_for

    return [params_for(year=y).as_of for y in YEARS]


def _record(days, units) -> dict:
    from vitreem.stats.engine import compute, indicators, params_for

    codes = list(indicators())
    out: dict = {"recorded_at": RECORDED_AT.isoformat(), "days": [d.isoformat() for d in days], "codes": codes,
                 "values": {}}
    for unit in [None, *units]:
        key = unit.ref if unit is not None else WHOLE
        out["values"][key] = {d.isoformat(): _as_json(compute(params_for(as_of=d, unit=unit), codes)) for d in days}
    return out


def _load() -> dict:
    with gzip.open(FIXTURE, "rt", encoding="utf-8") as f:
        return json.load(f)


@pytest.mark.django_db
def test_engine_agrees_with_recorded_figures(recorded_demo):
    from vitreem.stats.engine import compute, compute_units, indicators, params_for

    with time_machine.travel(RECORDED_AT + dt.timedelta(hours=1), tick=True):
        units = _units()
        days = _days()
        if RECORD:
            data = _record(days, units)
            with gzip.open(FIXTURE, "wt", encoding="utf-8") as f:
                json.dump(data, f, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        data = _load()
        assert data["days"] == [d.isoformat() for d in days]
        registry = indicators()
        missing = [c for c in data["codes"] if c not in registry]
        assert not missing, f"indicators recorded but no longer registered: {missing}"
        by_ref = {u.ref: u for u in units}
        assert set(data["values"]) == {WHOLE, *by_ref}
        codes = data["codes"]
        mismatches = []
        for day_text in data["days"]:
            day = dt.date.fromisoformat(day_text)
            # every unit of both versions at once (one grouped pass per indicator, summed up the tree),
            # and the whole installation as the sum of every commune
            got_by_unit, _ = compute_units(units, day, codes)
            got = {ref: _as_json(got_by_unit[u.pk]) for ref, u in by_ref.items()}
            got[WHOLE] = _as_json(compute(params_for(as_of=day), codes))
            # and a few units one at a time: the per-unit path of the figures a batch reads once for all
            # units (engine.sum_by_record_unit), as a scoped dashboard computes them
            for ref in [u.ref for u in units if u.level != "commune"][:4] + [u.ref for u in units
                                                                             if u.level == "commune"][:2]:
                one = _as_json(compute_units([by_ref[ref]], day, codes)[0][by_ref[ref].pk])
                expected = data["values"][ref][day_text]
                mismatches += [(f"{ref} alone", day_text, c, expected[c], one[c]) for c in codes if one[c] != expected[c]]
            for ref, values in got.items():
                expected = data["values"][ref][day_text]
                mismatches += [(ref, day_text, c, expected[c], values[c]) for c in codes if values[c] != expected[c]]
        assert not mismatches, f"{len(mismatches)} figures differ, first: {mismatches[:10]}"
