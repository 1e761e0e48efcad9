"""Reading a spreadsheet as communes send it: find the sheet and the table in it.

.xlsx, .xls, .xlsb and .ods are read with python-calamine; .csv is decoded here (UTF-8 with or
without BOM, UTF-16, else Windows-1258) and split with the sniffed delimiter. The header row may sit
below title lines and span two rows (merged cells); the table ends at the signature or totals lines.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.cells import csv_unquote
from vitreem.core.text import detect_column_encoding, fold_words, to_unicode

from .columns import guess_mapping, header_words, match_header

SPREADSHEET_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
SUFFIXES = SPREADSHEET_SUFFIXES | {".csv", ".txt"}
# Rows looked at to find the header (title lines come first).
HEADER_SCAN = 40
# A row that starts with one of these (folded) ends the table: signatures, totals, dates of signing.
END_MARKERS = ("nguoi lap", "tong cong", "tong so", "cong ", "xac nhan", "tm ", "tm.", "chu tich", "ky ten",
               "ky ghi ro", "ngay thang nam", "giam doc", "truong thon", "can bo", "tong:", "cong:")
_END_RE = re.compile(r"^(?:" + "|".join(re.escape(m.strip()) for m in END_MARKERS) + r")\b")
# The place-and-date line above the signatures: "Đăk Hà, ngày 15 tháng 3 năm 2024" (the day often left blank).
_DATE_LINE_RE = re.compile(r"\bngay\b[\s\d]{0,12}\bthang\b[\s\d]{0,12}\bnam\b")
_COLUMN_NUMBERS = re.compile(r"^\(?[0-9a-z]{1,2}\)?$")  # the "(1) (2) (3)" row under many headers


class ReadError(Exception):
    """The file cannot be read, or holds no table of children (exit status 2)."""


@dataclass
class Sheet:
    name: str
    rows: list[list[Any]]  # index = Excel row - 1, column index = Excel column - 1
    merged: list[tuple[tuple[int, int], tuple[int, int]]] = field(default_factory=list)


@dataclass
class Table:
    sheet: str
    header_row: int  # Excel row number of the (first) header row
    header_rows: int  # 1, or 2 for a two-row merged header
    headers: list[str]  # header text per column as shown to the user
    variants: list[list[str]]  # per column: texts to match (sub-header first)
    rows: list[list[Any]]
    data_start: int  # index in rows of the first data row
    data_end: int  # index after the last data row
    guessed: dict[int, str]
    sheets: list[str]
    file_encoding: str = ""

    def data_rows(self):
        """(Excel row number, cells) of each data row, blank rows skipped."""
        for index in range(self.data_start, self.data_end):
            cells = self.rows[index]
            if any(c not in ("", None) for c in cells):
                yield index + 1, cells


# ---------------------------------------------------------------- files

def _decode_csv(data: bytes) -> tuple[str, str]:
    try:
        if data.startswith(b"\xef\xbb\xbf"):
            return data[3:].decode("utf-8"), "utf-8-sig"
        if data.startswith((b"\xff\xfe", b"\xfe\xff")):
            return data.decode("utf-16"), "utf-16"
        sample = data[:4000]
        if sample and sample.count(0) > len(sample) // 4:  # UTF-16 without a BOM: every other byte is 0
            return data.decode("utf-16-le" if sample[1:2] == b"\x00" else "utf-16-be"), "utf-16"
    except UnicodeDecodeError:
        raise ReadError(_("Tệp CSV không đúng mã hoá UTF-8/UTF-16 (tệp hỏng hoặc không phải CSV).")) from None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    # A sheet typed in a legacy font (TCVN3, VNI) and saved as CSV holds its letters as Windows-1252
    # bytes; decoded as Windows-1258 several of them would turn into other letters for good.
    latin = data.decode("cp1252", errors="replace")
    if detect_column_encoding(latin.splitlines()[:2000]) in ("tcvn3", "vni"):
        return latin, "windows-1252"
    # Windows-1258 writes tones as combining marks: NFC composes them.
    return unicodedata.normalize("NFC", data.decode("cp1258", errors="replace")), "windows-1258"


def _read_csv(data: bytes) -> tuple[list[Sheet], str]:
    text, encoding = _decode_csv(data)
    if "\x00" in text:
        raise ReadError(_("Tệp CSV chứa ký tự không hợp lệ (tệp nhị phân?)."))
    try:
        dialect = csv.Sniffer().sniff(text[:8000], delimiters=",;\t")
        delimiter = dialect.delimiter
    except csv.Error:
        delimiter = ","
    csv.field_size_limit(10_000_000)
    try:
        # A cell an export prefixed with ' (formula neutralisation, core/cells.py) reads as its text.
        rows = [[csv_unquote(c) for c in r] for r in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)]
    except csv.Error as exc:
        raise ReadError(_("Không đọc được tệp CSV: %(e)s") % {"e": exc}) from None
    return [Sheet("CSV", rows)], encoding


def _read_spreadsheet(path: Path) -> list[Sheet]:
    import python_calamine as pc

    try:
        workbook = pc.CalamineWorkbook.from_path(str(path))
        sheets = []
        for name in workbook.sheet_names:
            sheet = workbook.get_sheet_by_name(name)
            # Each row as far as its last value: a sheet with a stray far cell holds short rows.
            rows = [_trimmed(row) for row in sheet.iter_rows()]
            try:
                merged = list(sheet.merged_cell_ranges or [])
            except Exception:  # noqa: BLE001 — merged ranges are a hint; formats without them still read
                merged = []
            sheets.append(Sheet(name, rows, merged))
        workbook.close()
    except ReadError:
        raise
    except Exception as exc:  # noqa: BLE001 — calamine raises many kinds for corrupt files
        raise ReadError(_("Không đọc được tệp bảng tính (%(t)s): tệp hỏng hoặc không đúng định dạng.")
                        % {"t": type(exc).__name__}) from None
    return sheets


def _trimmed(row: list[Any]) -> list[Any]:
    end = len(row)
    while end and row[end - 1] in ("", None):
        end -= 1
    return row[:end] if end < len(row) else row


def read_sheets(path: Path | str, filename: str | None = None) -> tuple[list[Sheet], str]:
    """Every sheet of the file, and the byte encoding of a CSV ("" for spreadsheets).

    A spreadsheet whose used range is beyond the configured size is refused before it is read
    (bounds.py: the reader's cost grows with the last cell's position, not the file's size)."""
    from .bounds import check_extents

    path = Path(path)
    suffix = Path(filename or path.name).suffix.lower()
    if suffix not in SUFFIXES:
        raise ReadError(_("Định dạng tệp %(s)s không được hỗ trợ: dùng .xlsx, .xls, .ods hoặc .csv.")
                        % {"s": suffix or "?"})
    if suffix in (".csv", ".txt"):
        return _read_csv(path.read_bytes())
    check_extents(path, suffix)
    return _read_spreadsheet(path), ""


# ---------------------------------------------------------------- finding the table

def _text(cell: Any) -> str:
    if cell is None or cell == "":
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return str(cell).strip()


def _fill_merged(rows: list[list[Any]], merged, upto: int) -> None:
    """Copy a header cell merged across columns into each column it covers (same row only: a cell
    merged down over a two-row header stays in its first row, where the header is looked for)."""
    for (r1, c1), (_r2, c2) in merged:
        if r1 >= min(upto, len(rows)) or c2 <= c1:
            continue
        row = rows[r1]
        value = row[c1] if c1 < len(row) else ""
        if len(row) <= c2:
            row.extend([""] * (c2 + 1 - len(row)))
        for c in range(c1 + 1, c2 + 1):
            if row[c] in ("", None):
                row[c] = value


def _row_score(row: list[Any]) -> tuple[int, bool]:
    fields = set()
    for cell in row[:60]:
        text = _text(cell)
        if text and len(text) < 120:
            m = match_header([text])
            if m:
                fields.add(m.field)
    return len(fields), "full_name" in fields or "family_middle" in fields


def _is_column_numbers(row: list[Any]) -> bool:
    texts = [fold_words(_text(c)) for c in row if _text(c)]
    return bool(texts) and all(_COLUMN_NUMBERS.match(t.replace(" ", "")) for t in texts)


def _looks_like_subheader(row: list[Any], header: list[Any]) -> bool:
    """The row under the header continues it ("Nam | Nữ" under a merged "Giới tính")."""
    texts = [_text(c) for c in row]
    filled = [t for t in texts if t]
    if not filled or _is_column_numbers(row):
        return False
    matched = sum(1 for t in filled if match_header([t]))
    # Cells under a header cell that spans several columns (left blank beside it) are the tell.
    under_blank = sum(1 for i, t in enumerate(texts) if t and (i >= len(header) or not _text(header[i])))
    return matched >= 1 and (under_blank >= 1 or matched == len(filled)) and not any(
        isinstance(c, (int, float)) and not isinstance(c, bool) and c > 31 for c in row)


def find_table(sheet: Sheet) -> Table | None:
    rows = sheet.rows
    if not rows:
        return None
    _fill_merged(rows, sheet.merged, HEADER_SCAN + 2)
    best = None
    for index, row in enumerate(rows[:HEADER_SCAN]):
        score, has_name = _row_score(row)
        if has_name and score >= 2 and (best is None or score > best[1]):
            best = (index, score)
    if best is None:
        return None
    h = best[0]
    header = rows[h]
    width = max(len(r) for r in rows[h:h + 3])
    header = list(header) + [""] * (width - len(header))
    sub: list[Any] = [""] * width
    start, two_rows = h + 1, False
    if start < len(rows) and _looks_like_subheader(rows[start], header):
        sub = list(rows[start]) + [""] * (width - len(rows[start]))
        start, two_rows = start + 1, True
    if start < len(rows) and _is_column_numbers(rows[start]):
        start += 1
    # A top cell merged across columns is left blank to its right: carry it over the sub-headers.
    tops, last_top = [], ""
    for i in range(width):
        top = _text(header[i])
        if top:
            last_top = top
        elif _text(sub[i]):
            top = last_top
        tops.append(top)
    variants, headers = [], []
    for i in range(width):
        top, below = to_unicode(tops[i]), to_unicode(_text(sub[i]))
        if below and top and below != top:
            variants.append([below, f"{top} {below}", top])
            headers.append(f"{top} / {below}")
        else:
            variants.append([top or below])
            headers.append(top or below)
    end = start
    for index in range(start, len(rows)):
        first = next((_text(c) for c in rows[index] if _text(c)), "")
        if first and is_footer(first):
            break
        end = index + 1
    return Table(sheet=sheet.name, header_row=h + 1, header_rows=2 if two_rows else 1,
                 headers=headers, variants=variants, rows=rows, data_start=start, data_end=end,
                 guessed=guess_mapping(variants), sheets=[])


def is_footer(text: str) -> bool:
    """Does a row starting with `text` end the table (signatures, totals, the place-and-date line)?
    The text is converted first: a sheet typed in TCVN3 or VNI has its footer in that font too."""
    words = fold_words(to_unicode(text))
    return bool(_END_RE.match(words) or _DATE_LINE_RE.search(words))


def table_read(path: Path | str, *, filename: str | None = None, sheet: str | None = None) -> Table:
    """The table of children in the file: the named sheet, or the sheet whose header matches best."""
    sheets, file_encoding = read_sheets(path, filename)
    names = [s.name for s in sheets]
    if sheet:
        chosen = [s for s in sheets if s.name == sheet or fold_words(s.name) == fold_words(sheet)]
        if not chosen:
            raise ReadError(_("Không có trang tính \"%(s)s\" trong tệp (có: %(n)s).") % {"s": sheet, "n": ", ".join(names)})
        sheets = chosen
    found = []
    for s in sheets:
        table = find_table(s)
        if table is not None:
            found.append((len(table.guessed), table.data_end - table.data_start, table))
    if not found:
        raise ReadError(_("Không tìm thấy bảng danh sách trẻ em trong tệp: cần một dòng tiêu đề có cột "
                          "\"Họ và tên\" và ít nhất một cột khác (ngày sinh, giới tính…)."))
    found.sort(key=lambda t: (t[0], t[1]), reverse=True)
    table = found[0][2]
    table.sheets = names
    table.file_encoding = file_encoding
    return table


__all__ = ["ReadError", "Table", "header_words", "read_sheets", "table_read"]
