"""Child lists out to .xlsx and .csv in the import template's layout, so an export re-imports unchanged.

XlsxWriter in constant-memory mode streams rows to disk (openpyxl needed 96 s for 200,000 rows × 20
columns on these machines); children are read in chunks with their guardians, open episodes, open
risks and this year's household poverty prefetched.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import tempfile
from collections.abc import Callable, Iterator

from django.db.models import Prefetch, QuerySet
from django.utils import timezone

from vitreem.core.cells import csv_cell, xlsx_write_row
from vitreem.registry.models import (
    BirthPrecision,
    Child,
    ChildRisk,
    Guardian,
    HouseholdPoverty,
    Sex,
    SpecialEpisode,
)

from .columns import TEMPLATE_FIELDS, TEMPLATE_HEADERS
from .values import format_disability, format_poverty, format_schooling

HEADERS = [TEMPLATE_HEADERS[f] for f in TEMPLATE_FIELDS]
WIDTHS = {"seq": 6, "full_name": 28, "birth_date": 12, "sex": 9, "ethnicity": 12, "personal_id": 16, "village": 18,
          "unit": 22, "unit_code": 9, "guardian": 28, "relationship": 14, "poverty": 14, "special": 14, "risk": 30,
          "schooling": 26, "disability": 18, "note": 30}
CHUNK = 2000


def export_queryset(qs: QuerySet[Child], *, year: int) -> QuerySet[Child]:
    return (qs.select_related("unit", "ethnicity").order_by("unit__code", "given_key", "name_key", "pk")
            .prefetch_related(
                Prefetch("guardians", queryset=Guardian.objects.order_by("-is_primary", "pk")),
                Prefetch("special_episodes", queryset=SpecialEpisode.objects.filter(end__isnull=True)
                         .select_related("group", "subgroup").order_by("group__number", "pk")),
                Prefetch("risks", queryset=ChildRisk.objects.filter(end__isnull=True).select_related("factor")
                         .order_by("factor__code")),
                Prefetch("household__poverty", queryset=HouseholdPoverty.objects.filter(year=year))))


def child_row(child: Child, seq: int) -> dict[str, object]:
    """One child in the template's terms (values the importer reads back to the same record)."""
    guardian = next(iter(child.guardians.all()), None)
    poverty = None
    if child.household_id:
        row = next(iter(child.household.poverty.all()), None)  # type: ignore[union-attr]
        poverty = row.status if row else None
    birth: object = child.birth_date
    if child.birth_precision == BirthPrecision.YEAR:
        birth = child.birth_date.year
    elif child.birth_precision == BirthPrecision.MONTH:
        birth = child.birth_date.strftime("%m/%Y")
    return {
        "seq": seq,
        "full_name": child.full_name,
        "birth_date": birth,
        "sex": str(Sex(child.sex).label),
        "ethnicity": child.ethnicity.name if child.ethnicity_id else "",  # type: ignore[union-attr]
        "personal_id": child.personal_id,
        "village": child.village,
        "unit": child.unit.name,
        "unit_code": child.unit.code,
        "guardian": guardian.full_name if guardian else "",
        "relationship": str(guardian.get_relationship_display()) if guardian else "",
        "poverty": format_poverty(poverty),
        "special": "; ".join((e.subgroup or e.group).code for e in child.special_episodes.all()),
        "risk": "; ".join(r.factor.name for r in child.risks.all()),
        "schooling": format_schooling(child.schooling, child.school_level),
        "disability": format_disability(child.disability),
        "note": child.note,
    }


_ROW_FIELDS = ("pk", "full_name", "birth_date", "birth_precision", "sex", "ethnicity__name", "personal_id", "village",
               "unit__name", "unit__code", "household_id", "schooling", "school_level", "disability", "note")


def iter_rows(qs: QuerySet[Child], *, year: int | None = None) -> Iterator[dict[str, object]]:
    """The rows of `qs` in the template's terms, as child_row gives them, read as plain values.

    Model instances and prefetch objects for 200,000 children (and their guardians, episodes, risks
    and households) cost most of an export's time; here each chunk of children is one query and
    its related facts four more, all as tuples."""
    year = year or timezone.localdate().year
    sex_labels = {value: str(label) for value, label in Sex.choices}
    relationships = {value: str(label) for value, label in Guardian.Relationship.choices}
    ordered = qs.order_by("unit__code", "given_key", "name_key", "pk").values_list(*_ROW_FIELDS)
    seq = 0
    chunk: list[tuple] = []
    for row in ordered.iterator(chunk_size=CHUNK):
        chunk.append(row)
        if len(chunk) >= CHUNK:
            yield from _rows_of(chunk, seq, year, sex_labels, relationships)
            seq += len(chunk)
            chunk = []
    if chunk:
        yield from _rows_of(chunk, seq, year, sex_labels, relationships)


def _rows_of(chunk: list[tuple], seq: int, year: int, sex_labels: dict[str, str],
             relationships: dict[str, str]) -> Iterator[dict[str, object]]:
    ids = [r[0] for r in chunk]
    guardians: dict[int, tuple[str, str]] = {}
    for child_id, name, relationship in (Guardian.objects.filter(child_id__in=ids)
                                         .order_by("child_id", "-is_primary", "pk")
                                         .values_list("child_id", "full_name", "relationship")):
        guardians.setdefault(child_id, (name, relationship))
    special: dict[int, list[str]] = {}
    for child_id, group, subgroup in (SpecialEpisode.objects.filter(child_id__in=ids, end__isnull=True)
                                      .order_by("group__number", "pk")
                                      .values_list("child_id", "group__code", "subgroup__code")):
        special.setdefault(child_id, []).append(subgroup or group)
    risks: dict[int, list[str]] = {}
    for child_id, name in (ChildRisk.objects.filter(child_id__in=ids, end__isnull=True).order_by("factor__code")
                           .values_list("child_id", "factor__name")):
        risks.setdefault(child_id, []).append(name)
    households = {r[10] for r in chunk if r[10]}
    poverty = dict(HouseholdPoverty.objects.filter(household_id__in=households, year=year)
                   .values_list("household_id", "status")) if households else {}
    # A handful of distinct values per chunk: each label is made once.
    schooling_text: dict[tuple[str, str], str] = {}
    disability_text: dict[str, str] = {}
    for offset, (pk, full_name, born, precision, sex, ethnicity, personal_id, village, unit_name, unit_code,
                 household_id, schooling, level, disability, note) in enumerate(chunk, start=1):
        guardian = guardians.get(pk)
        birth: object = born
        if precision == BirthPrecision.YEAR:
            birth = born.year
        elif precision == BirthPrecision.MONTH:
            birth = born.strftime("%m/%Y")
        yield {
            "seq": seq + offset,
            "full_name": full_name,
            "birth_date": birth,
            "sex": sex_labels[sex],
            "ethnicity": ethnicity or "",
            "personal_id": personal_id,
            "village": village,
            "unit": unit_name,
            "unit_code": unit_code,
            "guardian": guardian[0] if guardian else "",
            "relationship": relationships.get(guardian[1], guardian[1]) if guardian else "",
            "poverty": format_poverty(poverty.get(household_id) if household_id else None),
            "special": "; ".join(special.get(pk, ())),
            "risk": "; ".join(risks.get(pk, ())),
            "schooling": schooling_text.get((schooling, level))
            or schooling_text.setdefault((schooling, level), format_schooling(schooling, level)),
            "disability": disability_text.get(disability)
            or disability_text.setdefault(disability, format_disability(disability)),
            "note": note,
        }


def write_xlsx(path: str, rows: Iterator[dict[str, object]], *, title: str = "",
               progress: Callable[[int], None] | None = None) -> int:
    """Write the template layout (header on row 1) and the rows; returns the row count."""
    import xlsxwriter

    workbook = xlsxwriter.Workbook(path, {"constant_memory": True, "tmpdir": tempfile.gettempdir()})
    sheet = workbook.add_worksheet("Danh sách trẻ em")
    head = workbook.add_format({"bold": True, "text_wrap": True, "valign": "vcenter", "border": 1, "bg_color": "#EEF2F6"})
    date_fmt = workbook.add_format({"num_format": "dd/mm/yyyy"})
    text_fmt = workbook.add_format({"num_format": "@"})
    for col, name in enumerate(TEMPLATE_FIELDS):
        sheet.set_column(col, col, WIDTHS[name], text_fmt if name in ("personal_id", "unit_code") else None)
    xlsx_write_row(sheet, 0, 0, HEADERS, head)
    sheet.freeze_panes(1, 0)
    n = 0
    for n, row in enumerate(rows, start=1):
        for col, name in enumerate(TEMPLATE_FIELDS):
            value = row[name]
            if value in ("", None):
                continue
            if isinstance(value, dt.date):
                sheet.write_datetime(n, col, value, date_fmt)
            elif isinstance(value, int):
                sheet.write_number(n, col, value)
            else:
                sheet.write_string(n, col, str(value))
        if progress and n % CHUNK == 0:
            progress(n)
    if title:
        workbook.set_properties({"title": title})
    _template_help(workbook)
    workbook.close()
    return n


def _template_help(workbook) -> None:
    """A second sheet explaining each column (the importer picks the list sheet, not this one)."""
    sheet = workbook.add_worksheet("Hướng dẫn")
    bold = workbook.add_format({"bold": True})
    sheet.set_column(0, 0, 32)
    sheet.set_column(1, 1, 100)
    notes = {
        "full_name": "Bắt buộc. Họ, tên đệm, tên (Nguyễn Thị Hoa).",
        "birth_date": "Bắt buộc. dd/mm/yyyy; chỉ có năm thì ghi năm (2015); chỉ tháng và năm: 03/2015.",
        "sex": "Bắt buộc. Nam hoặc Nữ.",
        "ethnicity": "Tên dân tộc theo danh mục 54 dân tộc (Kinh, Xơ-đăng, Ba-na…).",
        "personal_id": "12 chữ số; để trống nếu chưa có. Ô dạng văn bản để giữ số 0 ở đầu.",
        "unit": "Tên xã/phường (có hoặc không có chữ Xã/Phường); danh sách cũ ghi tên xã trước 01/7/2025 vẫn được.",
        "unit_code": "Mã xã/phường (ưu tiên hơn tên nếu có).",
        "guardian": "Họ tên cha, mẹ hoặc người nuôi dưỡng chính (cũng là chủ hộ khi ghi hộ nghèo/cận nghèo).",
        "relationship": "Cha, Mẹ, Ông/bà, Anh/chị, Họ hàng, Người nhận chăm sóc thay thế, Khác.",
        "poverty": "Hộ nghèo, Hộ cận nghèo (HN, CN) của năm hiện tại; để trống nếu không.",
        "special": "Số nhóm hoàn cảnh đặc biệt theo Điều 10 Luật Trẻ em (1–14, nhóm con như 4.2), cách nhau bởi ;",
        "risk": "Tên yếu tố nguy cơ, cách nhau bởi ;",
        "schooling": "Đang đi học - Tiểu học / Bỏ học / Chưa đến tuổi đi học.",
        "disability": "Khuyết tật nhẹ / Khuyết tật nặng / Khuyết tật đặc biệt nặng; để trống nếu không.",
    }
    xlsx_write_row(sheet, 0, 0, ["Cột", "Cách ghi"], bold)
    for i, name in enumerate(TEMPLATE_FIELDS[1:], start=1):
        xlsx_write_row(sheet, i, 0, [TEMPLATE_HEADERS[name], notes.get(name, "")])


def _csv_value(value: object) -> object:
    return value.strftime("%d/%m/%Y") if isinstance(value, dt.date) else csv_cell(value)


def write_csv(stream: io.TextIOBase, rows: Iterator[dict[str, object]]) -> int:
    """CSV in UTF-8 with a BOM (so Excel shows Vietnamese), dates dd/mm/yyyy; a text that a spreadsheet
    would read as a formula is prefixed with ' (core/cells.py; the importer takes it off again)."""
    stream.write("\ufeff")
    writer = csv.writer(stream)
    writer.writerow(HEADERS)
    n = 0
    for row in rows:
        writer.writerow([_csv_value(row[f]) for f in TEMPLATE_FIELDS])
        n += 1
    return n


def export_bytes(qs: QuerySet[Child], *, fmt: str, progress: Callable[[int], None] | None = None) -> tuple[bytes, int]:
    if fmt == "csv":
        buffer = io.StringIO()
        n = write_csv(buffer, iter_rows(qs))
        return buffer.getvalue().encode("utf-8"), n
    fd, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(fd)
    try:
        n = write_xlsx(path, iter_rows(qs), progress=progress)
        with open(path, "rb") as fh:
            return fh.read(), n
    finally:
        os.unlink(path)


def template_write(path: str) -> None:
    """The blank import template: the export's header row and the help sheet."""
    write_xlsx(path, iter(()), title="Mẫu danh sách trẻ em")
