"""The participants sheet of a training (.xlsx): read with python-calamine, write the blank template with openpyxl.

Columns are recognised by their folded heading, so "Họ và tên", "HO TEN" and "họ tên" all work. Every
row is checked; the errors name the sheet row (as Excel numbers it) and the column.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.errors import ValidationFailed
from vitreem.core.text import fold_words, nfc, parse_number

# folded heading -> field
HEADINGS = {
    "ho va ten": "full_name", "ho ten": "full_name", "ten": "full_name", "full name": "full_name",
    "name": "full_name",
    "don vi": "unit_name", "noi cong tac": "unit_name", "don vi cong tac": "unit_name", "unit": "unit_name",
    "chuc vu": "role", "vai tro": "role", "chuc danh": "role", "role": "role",
    "gioi tinh": "sex", "sex": "sex",
    "dan toc": "ethnicity", "ethnicity": "ethnicity",
    "diem truoc": "pre_score", "diem kiem tra truoc": "pre_score", "diem dau vao": "pre_score",
    "pre score": "pre_score",
    "diem sau": "post_score", "diem kiem tra sau": "post_score", "diem dau ra": "post_score",
    "post score": "post_score",
}
TEMPLATE_HEADINGS = ["Họ và tên", "Đơn vị công tác", "Chức vụ", "Giới tính", "Dân tộc",
                     "Điểm kiểm tra trước", "Điểm kiểm tra sau"]
FIELD_LABELS = dict(zip(["full_name", "unit_name", "role", "sex", "ethnicity", "pre_score", "post_score"],
                        TEMPLATE_HEADINGS, strict=True))
MAX_ROWS = 2000
SEX_WORDS = {"nam": "M", "m": "M", "male": "M", "nu": "F", "f": "F", "female": "F"}


@dataclass
class RowError:
    row: int
    field: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "field": self.field, "message": self.message}


class SheetInvalid(ValidationFailed):
    """The sheet (or some of its rows) cannot be read; nothing has been saved. `rows` lists every error."""

    code = "sheet_invalid"

    def __init__(self, rows: list[RowError]):
        self.rows = rows
        first = rows[0]
        message = _("Bảng danh sách có %(n)d lỗi; chưa lưu người nào. Dòng %(row)d, cột %(col)s: %(msg)s") % {
            "n": len(rows), "row": first.row, "col": FIELD_LABELS.get(first.field, first.field), "msg": first.message}
        super().__init__({f"row {e.row}.{e.field}": e.message for e in rows}, message)

    def as_dict(self) -> dict[str, Any]:
        body = super().as_dict()
        body["rows"] = [e.as_dict() for e in self.rows]
        return body


@dataclass
class SheetRows:
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (sheet row number, values)


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return nfc(str(value)).strip()


def sheet_read(content: bytes) -> SheetRows:
    """Rows of the first sheet as {field: text}, keyed by the heading row (the first row with a name column)."""
    from python_calamine import CalamineWorkbook

    try:
        book = CalamineWorkbook.from_filelike(io.BytesIO(content))
        grid = book.get_sheet_by_index(0).to_python(skip_empty_area=False)
    except Exception as exc:  # calamine raises its own error types for every kind of unreadable file
        raise SheetInvalid([RowError(0, "file", _("Không đọc được tệp .xlsx: %(e)s") % {"e": exc})]) from exc
    header_at: int | None = None
    columns: dict[int, str] = {}
    for i, row in enumerate(grid[:10]):
        found: dict[int, str] = {}
        for j, cell in enumerate(row):
            name = HEADINGS.get(fold_words(_cell_text(cell)).rstrip(" :*"))
            if name and name not in found.values():
                found[j] = name
        if "full_name" in found.values():
            header_at, columns = i, found
            break
    if header_at is None:
        raise SheetInvalid([RowError(1, "full_name", _("Không tìm thấy dòng tiêu đề có cột \"Họ và tên\"."))])
    out = SheetRows()
    for i, row in enumerate(grid[header_at + 1:], start=header_at + 2):
        values = {name: _cell_text(row[j]) if j < len(row) else "" for j, name in columns.items()}
        if not any(values.values()):
            continue
        out.rows.append((i, values))
        if len(out.rows) > MAX_ROWS:
            raise SheetInvalid([RowError(i, "file", _("Bảng có quá %(n)d dòng.") % {"n": MAX_ROWS})])
    if not out.rows:
        raise SheetInvalid([RowError(header_at + 2, "full_name", _("Bảng không có người tham gia nào."))])
    return out


def parse_sex(text: str) -> str | None:
    return SEX_WORDS.get(fold_words(text))


def parse_score(text: str) -> Decimal | None:
    """A test score 0–100 ("8,5" or "85"); None when empty. Raises ValueError when unreadable."""
    if text in ("", None):
        return None
    try:
        value = parse_number(str(text))
    except (InvalidOperation, ValueError):
        raise ValueError(text) from None
    if value < 0 or value > 100:
        raise ValueError(text)
    return value.quantize(Decimal("0.01"))


def template_xlsx() -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    sheet = book.active
    sheet.title = "Danh sách"
    sheet.append(TEMPLATE_HEADINGS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.append(["Nguyễn Thị Hoa", "UBND xã Đăk Mar", "Cộng tác viên", "Nữ", "Kinh", "6,5", "8,5"])
    for col, width in zip("ABCDEFG", [28, 28, 20, 10, 12, 12, 12], strict=True):
        sheet.column_dimensions[col].width = width
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()
