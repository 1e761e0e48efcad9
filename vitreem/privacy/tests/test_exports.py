"""Least privilege in exports (issue 15 item 8) and the export log (breach response, item 7)."""

from __future__ import annotations

import csv
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from conftest import login
from vitreem.core.models import AuditEntry

from .helpers import make_child, years_ago


@pytest.fixture
def commune_a_children(units):
    girls = [make_child(units.commune_a_2025, birth=years_ago(9), name=f"Trần Thị Hoa{i}") for i in range(7)]
    for g in girls:
        g.sex = "F"
        g.save()
    boys = [make_child(units.commune_a_2025, birth=years_ago(9), name=f"Lê Văn Nam{i}",
                       episodes=[("1", years_ago(5))]) for i in range(3)]
    return girls + boys


def _named_export(client, **params):
    return client.get(reverse("imports:export"), {"format": "csv", **params})


def test_named_export_needs_the_role_and_is_audited_with_filters_count_and_units(worker_a, leader, reporter,
                                                                                 commune_a_children, units):
    assert _named_export(login(leader)).status_code == 403
    assert _named_export(login(reporter)).status_code == 403
    assert not AuditEntry.objects.filter(action="export").exists()
    r = _named_export(login(worker_a), sex="F")
    assert r.status_code == 200
    text = b"".join(r.streaming_content).decode("utf-8-sig")
    assert "Trần Thị Hoa0" in text and "Lê Văn Nam0" not in text
    row = AuditEntry.objects.get(action="export", object_type="registry.child")
    assert row.actor == worker_a and row.changes["count"] == 7
    assert row.changes["filters"] == {"sex": "F", "format": "csv"}
    assert row.changes["units"] == {str(units.commune_a_2025.pk): 7}
    assert row.changes["purpose"] == "named-export" and row.changes["basis"] == "19_1_c"
    assert row.unit_id == units.commune_a_2025.pk


def test_the_export_command_is_gated_and_audited(worker_a, leader, commune_a_children, tmp_path):
    with pytest.raises(CommandError):
        call_command("export_children", str(tmp_path / "x.csv"), "--as", "leader", stdout=io.StringIO())
    assert not (tmp_path / "x.csv").exists()
    call_command("export_children", str(tmp_path / "x.csv"), "--as", "worker_a", stdout=io.StringIO())
    row = AuditEntry.objects.get(action="export", object_type="registry.child")
    assert row.changes["count"] == 10 and row.source == "cli" and row.changes["filters"]["out"] == "x.csv"


def test_payroll_export_needs_the_role(leader):
    r = login(leader).get(reverse("benefits:payroll_xlsx", args=["2024-03"]))
    assert r.status_code == 403 and not AuditEntry.objects.filter(action="export").exists()


def _rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("persona", ["worker_a", "leader", "officer"])
def test_anonymised_export_for_every_role_that_sees_figures_suppresses_cells_under_5(persona, request,
                                                                                      commune_a_children, units):
    user = request.getfixturevalue(persona)
    r = login(user).get(reverse("privacy:anonymised"), {"format": "csv"})
    assert r.status_code == 200
    rows = _rows(r)
    body = r.content.decode("utf-8-sig")
    assert "Trần" not in body and "Nam0" not in body  # no names
    cells = {(row[0], row[2], row[3]): row[4:] for row in rows[1:]}
    code = units.commune_a_2025.code
    assert cells[(code, "6–10", "Nữ")] == ["7", "<5"]  # 7 girls, none in special circumstances (0 < 5)
    assert cells[(code, "6–10", "Nam")] == ["<5", "<5"]  # 3 boys, all three in special circumstances
    assert not any(v in ("1", "2", "3", "4", "0") for row in rows[1:] for v in row[4:])
    row = AuditEntry.objects.get(action="export", object_type="privacy.anonymised")
    assert row.actor == user and row.changes["anonymised"] is True and row.changes["count"] == len(rows) - 1
    assert row.changes["filters"]["format"] == "csv"


def test_anonymised_xlsx_opens_and_another_commune_sees_none_of_it(worker_b, reporter, commune_a_children, units):
    from openpyxl import load_workbook

    r = login(worker_b).get(reverse("privacy:anonymised"), {"format": "xlsx"})
    assert r.status_code == 200
    ws = load_workbook(io.BytesIO(r.content)).worksheets[0]
    values = list(ws.iter_rows(min_row=3, values_only=True))
    assert all(v[0] != units.commune_a_2025.code for v in values)
    assert login(reporter).get(reverse("privacy:anonymised")).status_code == 403
    assert login(worker_b).get(reverse("privacy:anonymised"), {"format": "pdf"}).status_code == 400
    assert login(worker_b).get(reverse("privacy:anonymised"), {"year": "abc"}).status_code == 400


def test_export_log_answers_whose_data_left_and_when(worker_a, officer, admin_user, worker_b, commune_a_children,
                                                    units):
    _named_export(login(worker_a))
    login(worker_a).get(reverse("privacy:anonymised"), {"format": "csv"})
    login(worker_a).get(reverse("privacy:subject_file", args=[commune_a_children[0].pk]))
    for user in (officer, admin_user):
        page = login(user).get(reverse("privacy:exports"), {"unit": units.commune_a_2025.pk})
        assert page.status_code == 200
        rows = list(page.context["page"])
        assert {(e.action, e.object_type) for e in rows} >= {("export", "registry.child")}
        assert any(e.object_id == str(commune_a_children[0].pk) for e in rows)  # the child's own file
        assert all(e.actor == worker_a for e in rows)
        filtered = login(user).get(reverse("privacy:exports"), {"actor": "nobody"})
        assert list(filtered.context["page"]) == []
    assert login(worker_a).get(reverse("privacy:exports")).status_code == 403
    assert login(worker_b).get(reverse("privacy:exports")).status_code == 403


def test_the_childs_own_file_is_a_pdf_with_the_access_log(worker_a, worker_b, commune_a_children):
    from pypdf import PdfReader

    child = commune_a_children[0]
    login(worker_a).get(reverse("registry:child", args=[child.pk]))  # a detail view: an access row
    r = login(worker_a).get(reverse("privacy:subject_file", args=[child.pk]))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(r.content)).pages)
    assert child.full_name in text and "Worker_A" in text and "registry.child" in text
    assert login(worker_b).get(reverse("privacy:subject_file", args=[child.pk])).status_code == 404
