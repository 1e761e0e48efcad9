"""The demo caseload: every state, some overdue, the demo accounts, scoped like real cases."""

from __future__ import annotations

import pytest

from conftest import login
from vitreem.accounts.models import Role, User
from vitreem.accounts.services import demo_accounts_ensure
from vitreem.cases.demo import seed
from vitreem.cases.models import Case, Status
from vitreem.demo.services import DemoContext
from vitreem.places.selectors import unit_resolve
from vitreem.registry.models import Child
from vitreem.registry.services import child_register

pytestmark = pytest.mark.django_db


FAMILY = ["Nguyễn", "Trần", "Y", "A", "Lê"]
MIDDLE = ["Văn", "Thị", "Thanh", "Minh"]
GIVEN = ["Hoa", "Thắng", "Bình", "Lan", "Nam", "Hùng", "Mai", "Tâm", "Dũng", "Hiền", "Phúc", "Ngọc"]


def _demo_children(n: int) -> None:
    """A small demo register (the registry's own generator bulk-loads through a second connection,
    which cannot see a test transaction on PostgreSQL)."""
    import datetime as dt
    import random

    users = {u.username: u for u in demo_accounts_ensure()}
    rng = random.Random(5)
    for i in range(n):
        commune, ref = ("commune", "2025:23500") if i % 3 else ("commune2", "2025:23512")
        child_register(actor=users[commune], data={"full_name": " ".join([FAMILY[i % 5], MIDDLE[i % 4], GIVEN[i % 12]]),
                                                   "birth_date": dt.date(2010 + rng.randint(0, 12), 1 + i % 12, 1 + i % 27),
                                                   "sex": "MF"[i % 2]},
                       unit=unit_resolve(ref), confirm_not_duplicate=True, on=dt.date(2025, 8, 1),
                       resident_since=dt.date(2025, 7, 1))
    Child.objects.update(source="demo")


def test_demo_caseload():
    _demo_children(60)
    users = {u.username: u for u in demo_accounts_ensure()}
    ctx = DemoContext(children=4000, seed=2022, users=users, province=unit_resolve("legacy:62"),
                      province_2025=unit_resolve("2025:51"))
    summary = seed(ctx)
    assert "cases" in summary
    assert Case.objects.count() >= 30
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == set(Status.values), statuses
    chairman, supervisor = User.objects.get(username="chairman"), User.objects.get(username="supervisor")
    assert chairman.role == Role.CHAIRMAN and supervisor.role == Role.CASE_SUPERVISOR
    assert sorted(u.ref for u in chairman.units.all()) == ["2025:23500", "legacy:23500"]
    assert sorted(u.ref for u in supervisor.units.all()) == ["2025:51", "legacy:62"]
    assert chairman.check_password("vitreem-demo")
    from vitreem.cases.selectors import cases_for_user, cases_overdue

    assert cases_overdue(user=supervisor).exists()
    assert cases_for_user(supervisor).count() == Case.objects.count()
    mine = cases_for_user(User.objects.get(username="commune"))
    assert 0 < mine.count() < Case.objects.count()
    assert set(mine.values_list("unit__code", flat=True)) == {"23500"}
    # Every timeline starts with the intake and respects the order of the steps.
    case = Case.objects.filter(status=Status.CLOSED).exclude(outcome="unfounded").first()
    kinds = list(case.events.order_by("at", "pk").values_list("kind", flat=True))
    assert kinds[0] == "intake" and kinds[-1] == "close" and kinds.index("plan") < kinds.index("approve")
    page = login(chairman).get("/cases/?mine=0")
    assert page.status_code == 200
