"""How big a spreadsheet really is, measured by the cells it holds, before a reader opens it (issue 20 item 2).

python-calamine builds each sheet as a dense grid of its used range: every cell from A1 to the last
one, empty or not. A 5 KB .xlsx with values in A1 and XFD2000 asks for 2,000 × 16,384 cells (1 GB and
4.5 s here); a 1.4 KB .ods with one value repeated 16,000 columns × 2,000 rows took 50 s and 3.9 GB.
The cost grows with the last cell's position and the repeat counts, not with the file's size.

So the sheets' XML is scanned first, as a stream, looking only at the cells that hold something:
that costs time in proportion to the file, and almost no memory. A used range wider than
VITREEM_IMPORT_MAX_COLUMNS or larger than VITREEM_IMPORT_MAX_CELLS is refused with a message that names
the sheet and the far cell, so the user can clear it; nothing is allocated for it. (Cells that are
only formatted, with no value, do not count: calamine leaves them out of the used range too.)

.xlsx/.xlsm and .ods are zip files of XML, scanned here. .xls (at most 65,536 × 256 cells by its
format) and .xlsb are not: the background import's memory and time limits (core/jobs.py) bound them.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from xml.etree import ElementTree as ET  # noqa: S405 — only element names and attributes are read; expat refuses entity bombs

from django.conf import settings
from django.utils.translation import gettext as _

from vitreem.core.text import format_number

# Rows of a sheet's XML are processed a chunk at a time; a row longer than this is cut at a cell.
_CHUNK = 4 * 1024 * 1024
_PREFIX = re.compile(rb"<(\w+:)?sheetData\b")
_CELL_OPEN = re.compile(rb"<(?:\w+:)?c[\s/>]")


@dataclass
class Extent:
    """The used range of one sheet, by the cells that hold a value."""

    sheet: str
    rows: int = 0  # the last row holding a value (1-based), 0 when empty
    columns: int = 0  # the last column holding a value (1-based)
    far: tuple[int, int] = (0, 0)  # (row, column) of a cell at the last column
    low: tuple[int, int] = (0, 0)  # (row, column) of a cell in the last row

    def see(self, row: int, column: int) -> None:
        """A cell holding a value at (row, column), both 1-based."""
        if column > self.columns:
            self.columns, self.far = column, (row, column)
        if row > self.rows:
            self.rows, self.low = row, (row, column)

    @property
    def far_cell(self) -> str:
        return f"{column_letters(self.far[1])}{self.far[0]}"

    @property
    def low_cell(self) -> str:
        return f"{column_letters(self.low[1])}{self.low[0]}"

    @property
    def cells(self) -> int:
        return self.rows * self.columns


def column_letters(n: int) -> str:
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _column_number(letters: bytes) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ch - 64
    return n


def _xlsx_sheet_names(zf: zipfile.ZipFile) -> dict[str, str]:
    """Zip member of each worksheet → the sheet's name as Excel shows it."""
    try:
        book = ET.fromstring(zf.read("xl/workbook.xml"))  # noqa: S314 — see the import
        rels = ET.fromstring(zf.read("xl/_rels/workbook.xml.rels"))  # noqa: S314
    except (KeyError, ET.ParseError):
        return {}
    targets = {r.get("Id"): r.get("Target", "") for r in rels}
    names = {}
    for sheet in book.iter():
        if sheet.tag.endswith("}sheet"):
            rid = next((v for k, v in sheet.attrib.items() if k.endswith("}id")), None)
            target = targets.get(rid, "")
            member = target.lstrip("/") if target.startswith("/") else str(PurePosixPath("xl") / target)
            names[member] = sheet.get("name", member)
    return names


def _xlsx_extent(zf: zipfile.ZipFile, member: str, name: str) -> Extent:
    extent = Extent(name)
    state: list = [0, None]  # the current row number (for rows that do not say theirs), the tags' prefix
    buffer = b""
    with zf.open(member) as fh:
        while chunk := fh.read(_CHUNK):
            buffer += chunk
            if state[1] is None and (m := _PREFIX.search(buffer)):
                state[1] = m.group(1) or b""
            cut = buffer.rfind(b"row>")
            if cut < 0:
                continue  # before the first row, or inside a long one: read on
            cut += 4
            _xlsx_rows(buffer[:cut], extent, state)
            buffer = buffer[cut:]
    _xlsx_rows(buffer, extent, state)
    return extent


def _ref(block: bytes, start: int, end: int) -> tuple[bytes, int] | None:
    """The r="…" attribute of the tag in block[start:end], as (column letters, row number)."""
    i = block.find(b' r="', start, end)
    if i < 0:
        return None
    i += 4
    j = block.find(b'"', i, end)
    letters = block[i:j].rstrip(b"0123456789")
    digits = block[i + len(letters):j]
    return letters, int(digits) if digits.isdigit() else 0


def _xlsx_rows(block: bytes, extent: Extent, state: list) -> None:
    """Each row's last cell that holds a value, found from the row's end backwards: a few searches
    per row, whatever its number of cells (a scan of every cell took longer than the read itself)."""
    prefix = state[1] or b""
    row_open, row_close, cell_open = b"<" + prefix + b"row", b"</" + prefix + b"row>", b"<" + prefix + b"c"
    values = (b"<" + prefix + b"v", b"<" + prefix + b"is", b"<" + prefix + b"f")
    pos = 0
    while (end := block.find(row_close, pos)) >= 0:
        start = block.rfind(row_open, pos, end)
        pos = end + len(row_close)
        if start < 0:
            continue
        head_end = block.find(b">", start)
        ref = _ref(block, start, head_end)
        state[0] = row_number = ref[1] if ref and ref[1] else state[0] + 1
        j = end
        while (c := block.rfind(cell_open, head_end, j)) >= 0:
            if block[c + len(cell_open): c + len(cell_open) + 1] in (b" ", b">", b"/", b"\t", b"\n", b"\r"):
                tag_end = block.find(b">", c)
                if any(block.find(v, tag_end, j) >= 0 for v in values):
                    ref = _ref(block, c, tag_end)
                    if ref and ref[0]:
                        column = _column_number(ref[0])
                    else:  # cells without their reference: count them (rare)
                        column = len(_CELL_OPEN.findall(block, head_end, c + 1))
                    extent.see(row_number, column)
                    break
            j = c


def _ods_extents(zf: zipfile.ZipFile) -> list[Extent]:
    """Rows and cells of content.xml with their repeat counts (one element can stand for millions)."""
    table_ns = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
    office_ns = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
    t_table, t_row = f"{{{table_ns}}}table", f"{{{table_ns}}}table-row"
    t_cells = {f"{{{table_ns}}}table-cell", f"{{{table_ns}}}covered-table-cell"}
    rows_rep, cols_rep = f"{{{table_ns}}}number-rows-repeated", f"{{{table_ns}}}number-columns-repeated"
    value_type = f"{{{office_ns}}}value-type"
    extents: list[Extent] = []
    current: Extent | None = None
    row_number, column, row_has, row_last = 0, 0, False, 0
    with zf.open("content.xml") as fh:
        for event, el in ET.iterparse(fh, events=("start", "end")):  # noqa: S314 — see the import
            if event == "start":
                if el.tag == t_table:
                    current = Extent(el.get(f"{{{table_ns}}}name", "?"))
                    extents.append(current)
                    row_number = 0
                elif el.tag == t_row:
                    column, row_has, row_last = 0, False, 0
                continue
            if el.tag in t_cells:
                repeat = int(el.get(cols_rep, "1") or 1)
                column += repeat
                if el.get(value_type) or len(el):
                    row_has, row_last = True, column
                el.clear()
            elif el.tag == t_row and current is not None:
                row_number += int(el.get(rows_rep, "1") or 1)
                if row_has:
                    current.see(row_number, row_last)
                el.clear()
    return extents


def sheet_extents(path: Path, suffix: str) -> list[Extent]:
    """The used range of every sheet of an .xlsx/.xlsm/.ods file ([] for other formats)."""
    if suffix not in (".xlsx", ".xlsm", ".ods"):
        return []
    try:
        with zipfile.ZipFile(path) as zf:
            if suffix == ".ods":
                return _ods_extents(zf) if "content.xml" in zf.namelist() else []
            names = _xlsx_sheet_names(zf)
            members = [m for m in zf.namelist() if m.startswith("xl/worksheets/") and m.endswith(".xml")]
            return [_xlsx_extent(zf, m, names.get(m, PurePosixPath(m).stem)) for m in members]
    except (zipfile.BadZipFile, ET.ParseError, ValueError, OSError):
        return []  # not a readable zip: the reader says so in its own words


def check_extents(path: Path, suffix: str) -> None:
    """Refuse (ReadError) a file with a sheet whose used range is beyond the configured size."""
    from .reading import ReadError

    max_columns = settings.VITREEM_IMPORT_MAX_COLUMNS
    max_cells = settings.VITREEM_IMPORT_MAX_CELLS
    for extent in sheet_extents(path, suffix):
        if extent.columns > max_columns or extent.cells > max_cells:
            raise ReadError(_(
                "Trang tính \"%(sheet)s\" có vùng dữ liệu A1:%(corner)s (%(rows)s dòng × %(cols)s cột = %(cells)s ô), "
                "vượt giới hạn của một tệp nhập (%(max_cols)s cột, %(max_cells)s ô). Thường đó là một ô gõ nhầm "
                "ở xa bảng: hãy xoá các ô thừa (như ô %(cell)s) rồi tải tệp lên lại.") % {
                "sheet": extent.sheet, "corner": f"{column_letters(extent.columns)}{extent.rows}",
                "cell": extent.far_cell if extent.columns > max_columns else extent.low_cell,
                "rows": format_number(extent.rows),
                "cols": format_number(extent.columns), "cells": format_number(extent.cells),
                "max_cols": format_number(max_columns), "max_cells": format_number(max_cells)})
