"""Text that leaves vitreem in a file stays text (issue 15 item 1): formula injection.

A name or a note typed as `=HYPERLINK("http://…")`, `+cmd|' /C calc'!A0` or `@SUM(…)` must not become a
live formula in the spreadsheet an official opens. One rule for every writer:

- .xlsx (XlsxWriter): text goes through `write_string` (never `write`, which turns "=…" into a formula
  and "http://…" into a link); with openpyxl, `text_cell` stores the value as a string cell.
- .csv: a cell that starts with a character spreadsheets read as the start of a formula is prefixed
  with a single quote, as OWASP advises (CSV Injection; ASVS 5.0 requirement 1.2.10 names = + - @, tab
  and NUL; the OWASP page adds carriage return). Spreadsheets show the quote as "this is text";
  vitreem's importer takes it off again (`csv_unquote`), so an export still imports unchanged.
- .docx/.pdf: text is written as text runs (python-docx, docxtpl with autoescape) or escaped HTML
  (WeasyPrint), where "=" has no meaning; tests open each file and check the text is there verbatim.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

# Full-width forms too: some spreadsheets (Excel with an East Asian input method) read them as = + - @.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n", "\0", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def formula_like(text: str) -> bool:
    return text.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A value for csv.writer: numbers and dates as they are, text neutralised."""
    if isinstance(value, str) and formula_like(value):
        return "'" + value
    return value


def csv_unquote(text: str) -> str:
    """The importer's side of csv_cell: "'=x" read from a CSV is the text "=x"."""
    if text.startswith("'") and formula_like(text[1:]):
        return text[1:]
    return text


def xlsx_write(sheet: Any, row: int, col: int, value: Any, fmt: Any = None) -> None:
    """Write one cell with XlsxWriter by its Python type; text always as a string cell."""
    if value is None or value == "":
        sheet.write_blank(row, col, None, fmt)
    elif isinstance(value, bool):
        sheet.write_boolean(row, col, value, fmt)
    elif isinstance(value, (int, float, Decimal)):
        sheet.write_number(row, col, float(value) if isinstance(value, Decimal) else value, fmt)
    elif isinstance(value, (dt.date, dt.datetime)):
        sheet.write_datetime(row, col, value, fmt)
    else:
        sheet.write_string(row, col, str(value), fmt)


def xlsx_write_row(sheet: Any, row: int, col: int, values: list[Any], fmt: Any = None) -> None:
    for offset, value in enumerate(values):
        xlsx_write(sheet, row, col + offset, value, fmt)


def xlsx_merge(sheet: Any, first_row: int, first_col: int, last_row: int, last_col: int, text: str,
               fmt: Any = None) -> None:
    """XlsxWriter's merge_range writes its data with write(), which would make "=…" a formula: merge
    blank, then write the text as a string (what XlsxWriter's documentation advises)."""
    sheet.merge_range(first_row, first_col, last_row, last_col, "", fmt)
    sheet.write_string(first_row, first_col, text, fmt)


def text_cell(cell: Any) -> Any:
    """openpyxl: keep a text cell a string even when it starts with "=" (openpyxl would store a formula)."""
    if isinstance(cell.value, str) and cell.data_type == "f":
        cell.data_type = "s"
        cell.quotePrefix = True
    return cell
