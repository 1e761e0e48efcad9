"""Spreadsheets built in the tests: .xlsx with XlsxWriter, .xls with xlwt, .ods with a small writer, .csv in any
encoding."""

from __future__ import annotations

import csv
import datetime as dt
import io
import zipfile
from xml.sax.saxutils import escape

Merge = tuple[int, int, int, int]  # first row, first col, last row, last col (0-based)


def xlsx(rows: list[list], *, sheet: str = "Danh sách", merges: tuple[Merge, ...] | list[Merge] = (), extra_sheets: dict | None = None,
         numeric_as_text: bool = False) -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    wb = xlsxwriter.Workbook(buffer, {"in_memory": True})
    for name, content in {**(extra_sheets or {}), sheet: rows}.items():
        ws = wb.add_worksheet(name)
        date_fmt = wb.add_format({"num_format": "dd/mm/yyyy"})
        merged_cells = {(r, c) for r1, c1, r2, c2 in (merges if name == sheet else ()) for r in range(r1, r2 + 1)
                        for c in range(c1, c2 + 1) if (r, c) != (r1, c1)}
        for r, row in enumerate(content):
            for c, value in enumerate(row):
                if (r, c) in merged_cells or value is None or value == "":
                    continue
                if isinstance(value, dt.date):
                    ws.write_datetime(r, c, dt.datetime(value.year, value.month, value.day), date_fmt)
                elif isinstance(value, (int, float)) and not isinstance(value, bool):
                    ws.write_number(r, c, value)
                else:
                    ws.write_string(r, c, str(value))
        if name == sheet:
            for r1, c1, r2, c2 in merges:
                ws.merge_range(r1, c1, r2, c2, content[r1][c1])
    wb.close()
    return buffer.getvalue()


def xls(rows: list[list], *, sheet: str = "Danh sách", merges: tuple[Merge, ...] | list[Merge] = ()) -> bytes:
    """A real Excel 97–2003 .xls (BIFF8, as old Excel and many commune PCs still save), written with
    xlwt: dates as date cells, numbers as numbers, merged header cells as merged ranges."""
    import xlwt

    wb = xlwt.Workbook(encoding="utf-8")
    ws = wb.add_sheet(sheet)
    date_style = xlwt.easyxf(num_format_str="dd/mm/yyyy")
    covered = {(r, c) for r1, c1, r2, c2 in merges for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if (r, c) in covered or value is None or value == "":
                continue
            if isinstance(value, dt.date):
                ws.write(r, c, value, date_style)
            else:
                ws.write(r, c, value)
    for r1, c1, r2, c2 in merges:
        ws.write_merge(r1, r2, c1, c2, rows[r1][c1])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


def _ods_cell(value) -> str:
    if value is None or value == "":
        return "<table:table-cell/>"
    if isinstance(value, dt.date):
        return (f'<table:table-cell office:value-type="date" office:date-value="{value.isoformat()}">'
                f"<text:p>{value:%d/%m/%Y}</text:p></table:table-cell>")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return f'<table:table-cell office:value-type="float" office:value="{value}"><text:p>{value}</text:p></table:table-cell>'
    return f'<table:table-cell office:value-type="string"><text:p>{escape(str(value))}</text:p></table:table-cell>'


def ods(rows: list[list], *, sheet: str = "Danh sách") -> bytes:
    """A minimal OpenDocument spreadsheet (what LibreOffice saves, without styles)."""
    body = "".join("<table:table-row>" + "".join(_ods_cell(v) for v in row) + "</table:table-row>" for row in rows)
    content = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
        f'<office:body><office:spreadsheet><table:table table:name="{escape(sheet)}">{body}</table:table>'
        "</office:spreadsheet></office:body></office:document-content>")
    manifest = (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.2">'
        '<manifest:file-entry manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.spreadsheet"/>'
        '<manifest:file-entry manifest:full-path="content.xml" manifest:media-type="text/xml"/>'
        "</manifest:manifest>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/vnd.oasis.opendocument.spreadsheet",
                   compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/manifest.xml", manifest, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("content.xml", content, compress_type=zipfile.ZIP_DEFLATED)
    return buffer.getvalue()


def csv_bytes(rows: list[list], *, encoding: str = "utf-8", delimiter: str = ",") -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for row in rows:
        writer.writerow(["" if v is None else (v.strftime("%d/%m/%Y") if isinstance(v, dt.date) else v) for v in row])
    text = buffer.getvalue()
    if encoding == "utf-8-sig":
        return text.encode("utf-8-sig")
    if encoding == "utf-16":
        return text.encode("utf-16")  # with BOM
    if encoding == "cp1258":
        # Windows-1258 has no precomposed toned letters: decompose tones into combining marks first.
        import unicodedata

        tones = {"\u0300", "\u0301", "\u0303", "\u0309", "\u0323"}
        out = []
        for ch in unicodedata.normalize("NFC", text):
            try:
                out.append(ch.encode("cp1258"))
            except UnicodeEncodeError:
                parts = unicodedata.normalize("NFD", ch)
                base = unicodedata.normalize("NFC", "".join(p for p in parts if p not in tones))
                out.append((base + "".join(p for p in parts if p in tones)).encode("cp1258"))
        return b"".join(out)
    return text.encode(encoding)


TITLE = ["UBND XÃ ĐĂK HÀ"]
HEADER = ["STT", "Họ và tên", "Ngày sinh", "Giới tính", "Dân tộc", "Số định danh", "Thôn/Tổ", "Xã/Phường",
          "Họ tên cha/mẹ/người nuôi dưỡng", "Hộ nghèo/cận nghèo", "Nhóm HCĐB", "Tình trạng đi học", "Ghi chú"]


def commune_list(children: list[list], *, titles: bool = True) -> list[list]:
    """A list the way a commune sends it: titles, blank line, header, rows, signature lines."""
    top = [TITLE, ["DANH SÁCH TRẺ EM DƯỚI 16 TUỔI NĂM 2024"], []] if titles else []
    rows = [[i + 1, *row] for i, row in enumerate(children)]
    bottom = [[], ["", "Người lập biểu", "", "", "", "", "", "", "TM. UBND XÃ"], ["", "Nguyễn Văn B"]] if titles else []
    return [*top, HEADER, *rows, *bottom]
