"""The demo caseload: every state, some overdue, the demo accounts, scoped like real cases."""

from __future__ import annotations

import pytest

from conftest import login
from vitreem.accounts.models import Role, User
from vitreem.cases.models import Case, Status
from vitreem.demo.services import demo_seed

pytestmark = pytest.mark.django_db(transaction=False)


def test_demo_caseload(django_capture_on_commit_callbacks):
    summary = demo_seed(children=4000, parts=["registry", "cases"], log=lambda line: None)
    assert "cases:" in summary
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
