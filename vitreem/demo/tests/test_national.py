"""`vitreem seed_demo --national` (issue 13 item 5): the shape of the synthetic country on a small size.

On PostgreSQL (DATABASE_URL) it builds 20,000 child records and checks every province, the exact count,
residences across the 2025 reform, poverty per year, episodes, risk and the indexes put back; on SQLite
it checks the clear refusal (the national load is COPY, PostgreSQL only)."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.models import Count

from vitreem.demo.national import national_complete
from vitreem.places.models import REFORM_DATE, AdminUnit, Population, UnitSuccession
from vitreem.registry.models import (
    Child,
    ChildRisk,
    Household,
    HouseholdPoverty,
    Residence,
    SpecialEpisode,
)

N = 20_000


def _indexes(table: str) -> set[str]:
    with connection.cursor() as cur:
        cur.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        return {row[0] for row in cur.fetchall()}


@pytest.mark.django_db
def test_national_country_shape():
    if connection.vendor != "postgresql":
        with pytest.raises(CommandError, match="PostgreSQL"):
            call_command("seed_demo", "--national", "--children", "100", stdout=StringIO())
        assert not Child.objects.exists()
        return
    before = {t: _indexes(t) for t in ("registry_child", "registry_residence", "registry_householdpoverty")}
    out = StringIO()
    call_command("seed_demo", "--national", "--children", str(N), stdout=out)
    assert "34 provinces" in out.getvalue()

    # Exactly N records, of which 0.5% planted near-duplicates; the completion marker says the same.
    assert Child.objects.count() == N
    assert Child.objects.filter(source__startswith="demo-dup:").count() == N // 201
    assert national_complete()["children"] == N

    # Every province and every legacy province has children; nearly every 2025 commune too (2025
    # communes formed only from parts of split communes get households; a handful have no predecessor).
    current = Residence.objects.filter(end__isnull=True, unit__version="2025")
    assert current.values("unit__province_code").distinct().count() == 34
    assert Residence.objects.filter(unit__version="legacy").values("unit__province_code").distinct().count() == 63
    assert AdminUnit.objects.filter(version="2025", level="commune").count() == 3321
    assert current.values("unit").distinct().count() > 3200

    # Across the reform: a child born before 2025-07-01 and still here has a legacy residence ending
    # 2025-06-30 and a 2025 one from 2025-07-01, in a successor of that legacy commune.
    pairs = set(UnitSuccession.objects.values_list("old_id", "new_id"))
    moved = 0
    for child in Child.objects.filter(ended_on__isnull=True, birth_date__lt=REFORM_DATE)[:300]:
        rows = list(child.residences.order_by("start").values_list("unit_id", "start", "end"))
        assert len(rows) == 2, rows
        (old, _s1, e1), (new, s2, e2) = rows
        assert (e1, s2, e2) == (REFORM_DATE - dt.timedelta(days=1), REFORM_DATE, None)
        assert (old, new) in pairs
        assert child.unit_id == new
        moved += 1
    assert moved == 300
    assert not Residence.objects.filter(unit__version="legacy", end__isnull=True).exclude(
        child__ended_on__isnull=False).exists()

    # Households, poverty per year (falling after 2022), special circumstances, risk, population.
    assert Household.objects.count() > N / 3
    per_year = dict(HouseholdPoverty.objects.filter(status="poor").values_list("year").annotate(n=Count("id")))
    assert set(per_year) == {2021, 2022, 2023, 2024, 2025}
    assert per_year[2021] > per_year[2022] > per_year[2025]
    assert 100 < SpecialEpisode.objects.count() < 600
    assert ChildRisk.objects.count() > N / 10
    assert Population.objects.filter(year=2022, unit__version="legacy").count() > 9000
    assert Population.objects.filter(year=2025, unit__version="2025").count() > 3200

    # The indexes dropped for the load are all back.
    assert {t: _indexes(t) for t in before} == before

    # A second run is refused (the national load needs an empty register).
    with pytest.raises(CommandError, match="trống"):
        call_command("seed_demo", "--national", "--children", "10", stdout=StringIO())
