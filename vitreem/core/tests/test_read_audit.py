"""Reads in bulk are audited (issue 20 item 6): every list page, API list and export of child, household,
case or allowance records writes exactly one access row — who, which list, the filters and the count —
never one per record."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import call_command
from django.db import transaction

from conftest import login
from vitreem.core.audit import audit_read_list
from vitreem.core.models import AuditEntry
from vitreem.registry.services import child_register, household_create


@pytest.fixture
def register(worker_a, units):
    kids = []
    hh = household_create(actor=worker_a, unit=units.commune_a_2025, head_name="Nguyễn Văn Bình", village="Thôn 1")
    for i, name in enumerate(["Nguyễn Thị Hoa", "Trần Văn Nam", "Lê Thị Mai"]):
        kids.append(child_register(actor=worker_a, data={"full_name": name, "birth_date": dt.date(2014, 3, 2 + i),
                                                         "sex": "F" if i != 1 else "M"},
                                   unit=units.commune_a_2025, household=hh, confirm_not_duplicate=True,
                                   on=dt.date(2025, 8, 1)))
    return kids


def _reads() -> list[AuditEntry]:
    return list(AuditEntry.objects.filter(kind=AuditEntry.Kind.ACCESS, action__in=["list", "export"]).order_by("id"))


def _one_read(response, *, user, what: str, action: str = "list") -> AuditEntry:
    assert response.status_code == 200, response.content[:300]
    rows = _reads()
    assert len(rows) == 1, [(r.action, r.object_type) for r in rows]
    row = rows[0]
    assert (row.actor_id, row.object_type, row.action) == (user.pk, what, action)
    return row


def test_the_helper_keeps_who_filters_and_count_in_one_small_row(worker_a):
    with transaction.atomic():
        row = audit_read_list(user=worker_a, what="registry.child",
                              filters={"q": "Hoa", "unit": "", "as_of": dt.date(2025, 1, 1), "x": "y" * 5000},
                              count=3, total=40)
    row.refresh_from_db()
    assert row.kind == AuditEntry.Kind.ACCESS and row.actor == worker_a
    assert row.changes["count"] == 3 and row.changes["total"] == 40
    # Empty filters are left out; long values are cut, so one row stays small whatever the query holds.
    assert row.changes["filters"] == {"q": "Hoa", "as_of": "2025-01-01", "x": "y" * 200}


def test_child_list_page_and_api_write_one_row_each(worker_a, register):
    client = login(worker_a)
    start = AuditEntry.objects.count()
    row = _one_read(client.get("/registry/children/", {"q": "Nguyễn"}), user=worker_a, what="registry.child")
    assert row.changes["filters"] == {"q": "Nguyễn"} and row.changes["count"] == 1
    assert AuditEntry.objects.count() == start + 1

    last = row.pk
    response = client.get("/api/registry/children", {"limit": 500})
    assert response.status_code == 200
    rows = list(AuditEntry.objects.filter(pk__gt=last, kind=AuditEntry.Kind.ACCESS))
    assert len(rows) == 1 and rows[0].object_type == "registry.child" and rows[0].action == "list"
    assert rows[0].changes["count"] == 3 and rows[0].changes["total"] == 3
    assert rows[0].changes["filters"]["limit"] == 500 and rows[0].source == "api"


def test_household_lists_are_audited(worker_a, register):
    client = login(worker_a)
    row = _one_read(client.get("/registry/households/"), user=worker_a, what="registry.household")
    assert row.changes["count"] == 1
    last = row.pk
    assert client.get("/api/registry/households", {"q": "binh"}).status_code == 200
    rows = list(AuditEntry.objects.filter(pk__gt=last, kind=AuditEntry.Kind.ACCESS))
    assert [(r.object_type, r.changes["filters"]["q"], r.changes["count"]) for r in rows] == [
        ("registry.household", "binh", 1)]


def test_exports_are_audited_on_the_web_and_the_command_line(worker_a, register, tmp_path):
    client = login(worker_a)
    response = client.get("/imports/export/", {"format": "csv", "q": "Trần"})
    assert response.status_code == 200
    b"".join(response.streaming_content)
    row = _one_read(response, user=worker_a, what="registry.child", action="export")
    assert row.changes["count"] == 1 and row.changes["filters"] == {"q": "Trần", "format": "csv"}
    assert row.source == "web"
    last = row.pk
    call_command("export_children", str(tmp_path / "e.csv"), "--as", "worker_a", stdout=io.StringIO())
    rows = list(AuditEntry.objects.filter(pk__gt=last, kind=AuditEntry.Kind.ACCESS))
    assert [(r.action, r.object_type, r.changes["count"], r.source) for r in rows] == [
        ("export", "registry.child", 3, "cli")]


def test_case_lists_are_audited(worker_a, register):
    from vitreem.cases import services

    services.case_intake(actor=worker_a, child=register[0], received_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1),
                         channel="hotline_111", place="Thôn 3", concern="physical_violence", summary="Báo tin",
                         reporter_name="Bà Lan", reporter_phone="0900000000", perpetrator="step_parent",
                         in_danger=False)
    client = login(worker_a)
    row = _one_read(client.get("/cases/", {"status": ""}), user=worker_a, what="cases.case")
    assert row.changes["count"] == 1
    for url in ("/cases/overdue/", "/api/cases/", "/api/cases/overdue"):
        last = AuditEntry.objects.latest("id").pk
        assert client.get(url).status_code == 200, url
        rows = list(AuditEntry.objects.filter(pk__gt=last, kind=AuditEntry.Kind.ACCESS))
        assert [(r.action, r.object_type) for r in rows] == [("list", "cases.case")], url


def test_benefit_lists_and_payroll_export_are_audited(officer, register):
    client = login(officer)
    month = dt.date.today().strftime("%Y-%m")
    for url, what, action in [("/benefits/eligibility/", "benefits.eligibility", "list"),
                              ("/benefits/recipients/", "benefits.allowance", "list"),
                              (f"/benefits/payroll/{month}/", "benefits.payroll", "list"),
                              (f"/benefits/payroll/{month}/xlsx/", "benefits.payroll", "export"),
                              ("/api/benefits/eligibility", "benefits.eligibility", "list"),
                              ("/api/benefits/recipients", "benefits.allowance", "list"),
                              (f"/api/benefits/payroll?month={month}", "benefits.payroll", "list")]:
        last = AuditEntry.objects.latest("id").pk if AuditEntry.objects.exists() else 0
        response = client.get(url)
        assert response.status_code == 200, (url, response.content[:300])
        rows = list(AuditEntry.objects.filter(pk__gt=last, kind=AuditEntry.Kind.ACCESS))
        assert [(r.action, r.object_type, r.actor_id) for r in rows] == [(action, what, officer.pk)], url
        assert isinstance(rows[0].changes["count"], int)
