"""The home page in a number of queries that does not grow with the records behind its panels (issue 18
item 2: every page within 50 ms at one connection): the province's officer, its leader, a commune worker,
a member unit's reporter."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from conftest import login
from vitreem.activities.tests.helpers import talk
from vitreem.cases.models import Case
from vitreem.cases.tests.conftest import intake
from vitreem.core import nav
from vitreem.registry.services import child_register

pytestmark = pytest.mark.django_db

# The queries of the second visit, once the figures are stored: the session and the user (2; an officer's
# second factor, 1), the user's units (1), the scope (the unit tree's stamp, 1: the units under an assignment
# are kept per process, core.scope._units_under), the stats panel
# (stamps, stored figures, the live count of overdue cases: 3), the cases panel (both lists with their
# counts, the notices: 2), the activities panel (stored figures: 1; its units' stamps were read by the stats
# panel, once per request: stats.rollups._Stamps), the programme panel of a worker or a reporter (the
# report forms: 1), a reporter's member unit (1).
QUERIES = {"officer": 11, "leader": 8, "worker_a": 11, "reporter": 8}


@pytest.fixture
def no_benefits_panel(monkeypatch):
    """The allowances' panel is the benefits app's, bounded by its own tests: left out here so that this
    count is the home page's and the other panels'."""
    monkeypatch.setattr(nav, "_PANELS", [p for p in nav._PANELS if not p.template.startswith("benefits/")])


def _records(worker, units, n: int) -> None:
    """n overdue cases, n due tomorrow and n activities of this year in the worker's commune."""
    name = "Nguyễn Văn " + ("Tí" if n < 10 else "Tèo")
    child = child_register(actor=worker, data={"full_name": name, "birth_date": dt.date(2016, 3, 2), "sex": "M"},
                           unit=units.commune_a_2025, confirm_not_duplicate=True)
    now = timezone.now()
    for i in range(n):
        late, soon = intake(worker, child), intake(worker, child)
        Case.objects.filter(pk=late.pk).update(next_due_at=now - dt.timedelta(hours=i + 1), next_due_kind="emergency")
        Case.objects.filter(pk=soon.pk).update(next_due_at=now + dt.timedelta(hours=i + 1), next_due_kind="emergency")
        talk(worker, units.commune_a_2025, day=timezone.localdate())


@pytest.mark.parametrize("persona", sorted(QUERIES))
def test_home_queries_do_not_grow_with_the_records(request, persona, units, worker_a, no_benefits_panel,
                                                   django_assert_num_queries, django_capture_on_commit_callbacks):
    user = request.getfixturevalue(persona)
    with django_capture_on_commit_callbacks(execute=True):  # the changes stamp their units (stats.rollups)
        _records(worker_a, units, 2)
    client = login(user)
    client.get("/")  # stores the panels' figures
    with CaptureQueriesContext(connection) as few:
        page = client.get("/")
    assert page.status_code == 200
    # read now: the log the context reads is emptied by the next request
    count, sqls = len(few), [q["sql"][:120] for q in few.captured_queries]
    with django_capture_on_commit_callbacks(execute=True):
        _records(worker_a, units, 15)
    stale = client.get("/")  # the stored activity figures: last values, marked, until the worker's turn
    # A province's figures wait for the worker. A commune's activity counts are not among what its turn
    # recomputes (a few indexed rows: the visit does), and a member unit's reporter counts no child: her
    # figures are kept for her scope and recomputed by the visit.
    assert {p["template"].split("/")[0]: p["context"] for p in stale.context["panels"]}["activities"][
        "updating"] == (persona in ("officer", "leader"))
    from vitreem.stats.rollups import rollups_refresh_if_changed

    rollups_refresh_if_changed(None)
    client.get("/")  # the first visit after the worker's turn brings the kept figures up to date
    with django_assert_num_queries(count):
        page = client.get("/")
    assert count == QUERIES[persona], sqls
    panels = {p["template"].split("/")[0]: p["context"] for p in page.context["panels"]}
    if persona in ("officer", "worker_a"):  # a leader and a reporter see counts, never a case
        assert panels["cases"]["overdue_total"] == 17
    assert panels["activities"]["figures"]["communication_events"] == 17
