"""The annual report of the demo province: .docx, .pdf and .xlsx contents, the four outputs agreeing,
scope, bad input, the background job and the CLI."""

from __future__ import annotations

import io
import json
import re

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from docx import Document
from openpyxl import load_workbook

from conftest import login
from vitreem.core.errors import DomainError, PermissionDenied
from vitreem.core.text import format_number
from vitreem.reports.data import report_data
from vitreem.reports.models import GeneratedReport, ReportTemplate
from vitreem.reports.render import DEFAULT_TEMPLATE, TemplateBroken
from vitreem.reports.services import report_build, template_upload
from vitreem.reports.wording import approx_count
from vitreem.stats.engine import compute, params_for

from .pdftext import pdf_images, pdf_text

pytestmark = pytest.mark.django_db

HEAD = ["children", "poor_household_children", "near_poor_household_children", "special_circumstances", "at_risk",
        "allowance_recipients"]


def docx_text(data: bytes) -> str:
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    for table in doc.tables:
        for row in table.rows:
            parts.append(" | ".join(c.text for c in row.cells))
    return "\n".join(parts)


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_docx_of_2022(demo):
    data, params = report_build(year=2022, unit=demo.province, fmt="docx")
    text = docx_text(data)
    f = compute(params_for(year=2022, unit=demo.province), HEAD + ["children_share"])
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in text and "Độc lập - Tự do - Hạnh phúc" in text
    assert "UBND TỈNH KON TUM" in text and "/BC-BCĐ" in text and re.search(r"Kon Tum, ngày \d\d tháng \d\d năm", text)
    opening = (f"Tính đến ngày 31/12/2022, toàn tỉnh có {approx_count(f['children'])} trẻ em dưới 16 tuổi, chiếm gần "
               f"35% dân số; {format_number(f['poor_household_children'])} trẻ em thuộc hộ nghèo và "
               f"{format_number(f['near_poor_household_children'])} trẻ em thuộc hộ cận nghèo")
    assert opening in text
    assert f"{format_number(f['allowance_recipients'])} trẻ em có hoàn cảnh đặc biệt được hưởng trợ cấp" in text
    # exact figures in the annex (total row)
    assert " | ".join(["", "Tổng cộng", *(format_number(f[c]) for c in HEAD)]) in text
    for heading in ("I. TÌNH HÌNH TRẺ EM", "III. HẠN CHẾ, NGUYÊN NHÂN", "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM 2023",
                    "PHỤ LỤC 1"):
        assert heading in text
    assert "{{" not in text and "{%" not in text
    assert params == {"year": 2022, "unit": "legacy:62", "format": "docx", "as_of": "31/12/2022", "template": "default"}
    # Decree 30/2020 layout: Times New Roman, A4 with a 30 mm left margin
    doc = Document(io.BytesIO(data))
    assert doc.styles["Normal"].font.name == "Times New Roman"
    assert round(doc.sections[0].left_margin.mm) == 30 and round(doc.sections[0].page_width.mm) == 210
    # the annex's charts: PNG image parts shown inline, each with its caption
    assert len(doc.inline_shapes) >= 3
    media = [p for p in doc.part.package.parts if p.partname.startswith("/word/media/")]
    assert len(media) >= 3 and all(p.content_type == "image/png" for p in media)
    assert all(p.blob.startswith(b"\x89PNG") for p in media)
    assert "PHỤ LỤC 5" in text and "Biểu đồ 1. Trẻ em dưới 16 tuổi theo đơn vị" in text


def test_pdf_of_2022(demo):
    data, _ = report_build(year=2022, unit=demo.province, fmt="pdf")
    assert data.startswith(b"%PDF")
    text = squash(pdf_text(data))
    f = compute(params_for(year=2022, unit=demo.province), HEAD)
    assert squash("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") in text
    assert squash(f"{format_number(f['poor_household_children'])} trẻ em thuộc hộ nghèo và "
                  f"{format_number(f['near_poor_household_children'])} trẻ em thuộc hộ cận nghèo") in text
    assert squash("PHỤ LỤC 1") in text
    # the annex's charts are images in the PDF, with their captions
    images = pdf_images(data)
    assert len(images) >= 3 and all(w >= 400 and h >= 100 for w, h in images), images
    assert squash("PHỤ LỤC 5") in text and squash("Biểu đồ 2. Trẻ em có hoàn cảnh đặc biệt theo nhóm") in text


def test_the_children_chart_of_many_units_shows_the_largest(demo, monkeypatch):
    """A province of 2025 has up to ~300 communes: the chart keeps BAR_LIMIT bars (the most children), says
    so in its caption, and stays a page tall; the annex table still has every unit."""
    from PIL import Image

    from vitreem.reports import data

    ctx = report_data(year=2022, unit=demo.province)
    units = ctx["annex_units"]
    assert len(units) > 2
    bars, _title, caption = data.children_bars(units, ctx["as_of"])
    assert [b[0] for b in bars] == [r["name"] for r in units] and caption == ""  # all of them, in order
    monkeypatch.setattr(data, "BAR_LIMIT", 2)
    bars, title, caption = data.children_bars(units, ctx["as_of"])
    largest = sorted((r["values"]["children"] for r in units), reverse=True)[:2]
    assert [v for _n, v in bars] == largest
    assert f"2 đơn vị đông nhất trong {len(units)}" in title and "Phụ lục 1" in caption
    limited = report_data(year=2022, unit=demo.province)
    assert [r["name"] for r in limited["annex_units"]] == [r["name"] for r in units]  # the annex keeps every unit
    chart = limited["charts"][0]
    assert chart["title"].startswith("Biểu đồ 1. Trẻ em dưới 16 tuổi theo đơn vị (2 đơn vị")
    assert Image.open(io.BytesIO(chart["png"])).height == 44 + 30 * 2 + 10  # two bars under the title


def test_sections_without_data_say_so(demo):
    ctx = report_data(year=2022, unit=demo.commune_b)
    # no invented text: each section either states figures or says there are none
    assert ctx["communication_paragraphs"]
    assert all(p for p in ctx["cases_paragraphs"])


def test_xlsx_tables(demo):
    data, _ = report_build(year=2022, unit=demo.province, fmt="xlsx")
    wb = load_workbook(io.BytesIO(data))
    assert {"Trẻ em", "Dân tộc", "Hoàn cảnh đặc biệt", "Hộ nghèo", "Trợ cấp", "Vụ việc"} <= set(wb.sheetnames)
    f = compute(params_for(year=2022, unit=demo.province), HEAD + ["children_by_sex"])
    ws = wb["Trẻ em"]
    assert ws["A3"].value == "Đơn vị" and ws["B3"].value == "Tổng số trẻ em dưới 16 tuổi"
    total = [c.value for c in ws[ws.max_row]]
    assert total[0] == "Tổng cộng Tỉnh Kon Tum"
    assert total[1] == f["children"] and total[2] == f["children_by_sex"]["M"]
    assert ws.cell(row=ws.max_row, column=2).number_format == "#,##0"
    # the district rows add up to the province
    assert sum(r[1].value for r in ws.iter_rows(min_row=4, max_row=ws.max_row - 1)) == f["children"]
    poor = wb["Hộ nghèo"]
    assert [c.value for c in poor[poor.max_row]][1:] == [f["poor_household_children"], f["near_poor_household_children"]]


def test_four_outputs_agree(demo, capsys):
    """Dashboard, report (.docx), .xlsx table, API and `vitreem stats` give the same 2022 numbers."""
    officer = demo.users["province"]
    client = login(officer)
    dash = client.get("/stats/?year=2022&unit=legacy:62")
    assert dash.status_code == 200
    from_dashboard = {f["code"]: f["value"] for f in dash.context["headline"]}
    api = client.get("/api/stats/figures?year=2022&unit=legacy:62&codes=" + ",".join(HEAD)).json()["figures"]
    call_command("stats", "--year", "2022", "--unit", "legacy:62", "--json")
    cli = json.loads(capsys.readouterr().out)
    ctx = report_data(year=2022, unit=demo.province, user=officer)
    from_report = ctx["annex_total"]["values"]
    wb = load_workbook(io.BytesIO(report_build(year=2022, unit=demo.province, fmt="xlsx", user=officer)[0]))
    row = [c.value for c in wb["Hộ nghèo"][wb["Hộ nghèo"].max_row]]
    for code in HEAD:
        assert from_dashboard[code] == api[code] == cli[code] == from_report[code], code
    assert row[1:] == [cli["poor_household_children"], cli["near_poor_household_children"]]
    assert format_number(cli["poor_household_children"]) in docx_text(
        report_build(year=2022, unit=demo.province, fmt="docx", user=officer)[0])


def test_report_scope(demo):
    worker_b = demo.users["commune2"]
    with pytest.raises(PermissionDenied):
        report_data(year=2022, unit="legacy:23500", user=worker_b)
    with pytest.raises(PermissionDenied):
        report_data(year=2022, unit="legacy:62", user=demo.users["reporter"])
    client = login(worker_b)
    assert client.post("/reports/", {"year": 2022, "unit": "legacy:23500", "format": "docx"}).status_code == 403
    assert GeneratedReport.objects.count() == 0
    # their own commune works
    ctx = report_data(year=2022, unit="legacy:23512", user=worker_b)
    assert ctx["figures"]["children"] == compute(params_for(year=2022, unit=demo.commune_b), ["children"])["children"]


def test_bad_input(demo):
    with pytest.raises(DomainError, match="Chưa có dữ liệu trẻ em"):
        report_data(year=2005, unit=demo.province)
    with pytest.raises(DomainError, match="2000"):
        report_data(year=1990, unit=demo.province)
    with pytest.raises(DomainError, match="Định dạng"):
        report_build(year=2022, unit=demo.province, fmt="odt")
    client = login(demo.users["province"])
    resp = client.post("/reports/", {"year": "abc", "unit": "legacy:62", "format": "docx"})
    assert resp.status_code == 400 and "Năm không hợp lệ" in resp.content.decode()
    with pytest.raises(CommandError, match="Chưa có dữ liệu"):
        call_command("report_annual", "--year", "2005", "--format", "docx", "--out", "/dev/null")


def _template_with(text: str) -> bytes:
    doc = Document(str(DEFAULT_TEMPLATE))
    doc.add_paragraph(text)
    out = io.BytesIO()
    doc.save(out)
    return out.getvalue()


def test_broken_template_named_and_last_good_kept(demo):
    officer = demo.users["province"]
    good = _template_with("Mẫu của tỉnh {{ year }}")
    tpl = template_upload(actor=officer, name="mau-tinh.docx", data=good)
    with pytest.raises(TemplateBroken, match=r"\{\{ so_lieu_sai \}\}"):
        template_upload(actor=officer, name="sai.docx", data=_template_with("{{ so_lieu_sai }}"))
    with pytest.raises(TemplateBroken, match="cú pháp"):
        template_upload(actor=officer, name="sai2.docx", data=_template_with("{% if year %}"))
    doc = Document(str(DEFAULT_TEMPLATE))
    for p in doc.paragraphs:
        if "opening_paragraph" in p.text:
            for run in p.runs:
                run.text = ""
    out = io.BytesIO()
    doc.save(out)
    with pytest.raises(TemplateBroken, match=r"\{\{ opening_paragraph \}\}"):
        template_upload(actor=officer, name="thieu.docx", data=out.getvalue())
    with pytest.raises(TemplateBroken, match="không phải mẫu Word"):
        template_upload(actor=officer, name="x.docx", data=b"not a zip")
    assert list(ReportTemplate.objects.values_list("name", flat=True)) == ["mau-tinh.docx"]
    data, params = report_build(year=2022, unit=demo.province, fmt="docx")
    assert params["template"] == tpl.name and "Mẫu của tỉnh 2022" in docx_text(data)
    # through the page: the message names the placeholder, and only officers may upload
    client = login(officer)
    from django.core.files.uploadedfile import SimpleUploadedFile

    resp = client.post("/reports/templates/", {"file": SimpleUploadedFile("bad.docx", _template_with("{{ xyz }}"))})
    assert resp.status_code == 400 and "{{ xyz }}" in resp.content.decode()
    assert login(demo.users["commune"]).get("/reports/templates/").status_code == 403


def test_background_generation_and_download(demo, django_capture_on_commit_callbacks):
    from vitreem.core.models import TaskStatus

    officer = demo.users["province"]
    client = login(officer)
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/reports/", {"year": 2022, "unit": "legacy:62", "format": "docx"})
    assert resp.status_code == 302
    status = TaskStatus.objects.get()
    assert status.state == TaskStatus.State.DONE, status.message
    report = GeneratedReport.objects.get()
    assert report.params["year"] == 2022 and report.created_by == officer and report.created_at
    assert status.result["url"] == f"/reports/{report.pk}/download/"
    # asked for on a page: the worker's audit row says "web" and the request, not its own "cli" (issue 21 item 6)
    from vitreem.core.models import AuditEntry

    entry = AuditEntry.objects.get(action="report.generate")
    assert entry.source == "web" and entry.request_id and entry.request_id == status.request_id
    download = client.get(status.result["url"])
    assert download.status_code == 200
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in docx_text(b"".join(download.streaming_content))
    assert "2022" in client.get("/reports/").content.decode()
    # another commune's worker cannot download it
    assert login(demo.users["commune2"]).get(status.result["url"]).status_code == 404
    assert client.delete("/reports/").status_code == 405


def test_api_request(demo, django_capture_on_commit_callbacks):
    client = login(demo.users["province"])
    with django_capture_on_commit_callbacks(execute=True):
        resp = client.post("/api/reports/annual", {"year": 2022, "unit": "legacy:62", "format": "xlsx"},
                           content_type="application/json")
    assert resp.status_code == 202
    listed = client.get("/api/reports/").json()
    assert listed[0]["format"] == "xlsx" and listed[0]["year"] == 2022
    other = login(demo.users["commune2"]).post("/api/reports/annual", {"year": 2022, "unit": "legacy:62"},
                                               content_type="application/json")
    assert other.status_code == 403


def test_cli(demo, tmp_path):
    out = tmp_path / "bc.docx"
    call_command("report_annual", "--year", "2022", "--format", "docx", "--out", str(out))
    assert "toàn tỉnh có" in docx_text(out.read_bytes())
    xlsx = tmp_path / "bc.xlsx"
    call_command("report_annual", "--year", "2022", "--format", "xlsx", "--out", str(xlsx), "--unit", "legacy:615")
    assert load_workbook(xlsx)["Trẻ em"]["A1"].value.startswith("Biểu 1")


def test_the_page_s_unit_options_are_the_user_s_kept_until_the_tree_changes(demo):
    """The reports page lists the units of the user's scope (a commune worker, its own commune only), in
    the page's language; they are read once per process and scope (reports.views._unit_options) and
    read again once the unit tree changes: a renamed commune shows its new name at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from vitreem.reports.views import _UNIT_OPTIONS

    def unit_reads(ctx) -> int:
        return sum('FROM "places_adminunit"' in q["sql"] and "accounts_unitmembership" not in q["sql"]
                   for q in ctx.captured_queries)

    _UNIT_OPTIONS.clear()
    officer, worker_b = login(demo.users["province"]), login(demo.users["commune2"])
    first = officer.get("/reports/").content.decode()
    assert 'value="legacy:23500"' in first and 'value="legacy:23512"' in first
    own = worker_b.get("/reports/").content.decode()
    assert 'value="legacy:23512"' in own and 'value="legacy:23500"' not in own
    with CaptureQueriesContext(connection) as warm:
        again = officer.get("/reports/").content.decode()
    assert again.count("<option") == first.count("<option")
    assert unit_reads(warm) == 0  # kept: no unit read at all on the second visit
    assert "(trước 7/2025)" in again and "before 7/2025" not in again
    demo.commune_b.name = "Xã Đổi Tên Báo Cáo"
    demo.commune_b.save(update_fields=["name"])  # moves the tree's stamp (places.selectors.tree_changed)
    with CaptureQueriesContext(connection) as changed:
        renamed = officer.get("/reports/").content.decode()
    assert "Xã Đổi Tên Báo Cáo" in renamed
    assert unit_reads(changed) > 0
    english = officer.get("/reports/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Xã Đổi Tên Báo Cáo" in english and ("from 7/2025" in english or "before 7/2025" in english)
