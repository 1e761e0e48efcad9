"""The export reads plain values; it must give exactly what the model-based rows gave."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from vitreem.imports.exporting import child_row, export_queryset, iter_rows
from vitreem.registry import services as reg
from vitreem.registry.models import Child, RiskFactor

from .conftest import years_ago


def test_export_rows_match_the_model_rows(worker_a, units):
    today = timezone.localdate()
    unit = units.commune_a_2025
    household = reg.household_create(actor=worker_a, unit=unit, head_name="Nguyễn Văn Tư", village="Thôn 1")
    reg.household_poverty_set(actor=worker_a, household=household, year=today.year, status="near_poor")
    reg.household_poverty_set(actor=worker_a, household=household, year=today.year - 1, status="poor")
    hoa = reg.child_register(actor=worker_a, unit=unit, household=household, ethnicity="01",
                             data={"full_name": "Nguyễn Thị Hoà", "birth_date": years_ago(6), "sex": "F",
                                   "schooling": "in_school", "school_level": "primary", "disability": "severe",
                                   "note": "ghi chú", "village": "Thôn 1"},
                             guardians=[{"full_name": "Nguyễn Văn Tư", "relationship": "father"}])
    reg.guardian_add(actor=worker_a, child=hoa, full_name="Lê Thị Na", relationship="mother", is_primary=False)
    reg.special_episode_open(actor=worker_a, child=hoa, group="4.2", start=today - dt.timedelta(days=30))
    closed = reg.special_episode_open(actor=worker_a, child=hoa, group="1", start=today - dt.timedelta(days=60))
    reg.special_episode_close(actor=worker_a, episode=closed, end=today - dt.timedelta(days=1))
    reg.special_episode_open(actor=worker_a, child=hoa, group="9", start=today - dt.timedelta(days=10))
    factors = list(RiskFactor.objects.filter(active=True).order_by("code")[:2])
    reg.risk_assess(actor=worker_a, child=hoa, assessed_on=today, factors=factors)
    reg.child_register(actor=worker_a, unit=unit, confirm_not_duplicate=True,
                       data={"full_name": "A Blong", "birth_date": dt.date(today.year - 9, 1, 1),
                             "birth_precision": "year", "sex": "M"})
    reg.child_register(actor=worker_a, unit=unit, confirm_not_duplicate=True,
                       data={"full_name": "Y Nhung", "birth_date": dt.date(today.year - 3, 5, 1),
                             "birth_precision": "month", "sex": "F", "personal_id": "062322000123"[:4]
                             + f"{(today.year - 3) % 100:02d}000123"})
    qs = Child.objects.all()
    expected = [child_row(c, i) for i, c in enumerate(export_queryset(qs, year=today.year), start=1)]
    got = list(iter_rows(qs, year=today.year))
    assert got == expected
    first = next(r for r in got if r["full_name"] == "Nguyễn Thị Hoà")
    assert first["poverty"] == "Hộ cận nghèo" and first["special"] == "4.2; 9" and first["guardian"] == "Nguyễn Văn Tư"
    assert first["risk"].count(";") == 1
