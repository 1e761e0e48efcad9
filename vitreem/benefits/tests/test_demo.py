"""The demo part at a small scale: the 2022 figure is exact and the payrolls are consistent."""

import datetime as dt

import pytest
from django.db.models import Sum

from vitreem.benefits.models import Allowance, PaidLine, Payroll
from vitreem.benefits.payroll import payroll_compute
from vitreem.benefits.rules import month_add, month_of
from vitreem.demo.services import DemoContext, demo_seed
from vitreem.stats.engine import compute, params_for


@pytest.mark.django_db
def test_demo_gives_the_scaled_2022_figure_and_consistent_payrolls(units):
    children = 3000
    report = demo_seed(children=children, parts=["registry", "benefits"], log=lambda *_: None)
    target = DemoContext(children=children, seed=0, users={}, province=units.province_legacy,
                         province_2025=units.province_2025).scaled(1865)
    assert "only" not in report, report
    assert compute(params_for(year=2022), ["allowance_recipients"])["allowance_recipients"] == target
    assert Allowance.objects.filter(status="stopped").exists()
    # July 2024 (locked): the base changed to 500.000 and the snapshot equals its lines.
    july = payroll_compute(month=dt.date(2024, 7, 1), commune_ids=None)
    assert july.locked and july.base_level == 500_000
    assert july.total == Payroll.objects.filter(month=dt.date(2024, 7, 1)).aggregate(s=Sum("total"))["s"]
    assert july.total == sum(line.total for line in july.lines)
    june = PaidLine.objects.filter(for_month=dt.date(2024, 6, 1)).values_list("base_level", flat=True).distinct()
    assert set(june) == {360_000}
    # This month is open; nothing to reconcile in the demo's paid months.
    now = payroll_compute(month=month_of(dt.date.today()), commune_ids=None)
    assert not now.locked and now.arrears == 0 and now.adjustment == 0
    assert Payroll.objects.filter(month=month_add(month_of(dt.date.today()), -1)).exists()
