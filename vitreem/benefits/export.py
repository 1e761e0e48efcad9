"""The payroll as a signed list (.xlsx): title, the lines with a signature column, totals, the
total in Vietnamese words ("Bằng chữ: …") and the signature blocks, the way payrolls are signed."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from num2words import num2words

from vitreem.core.cells import xlsx_merge, xlsx_write
from vitreem.core.text import format_date

from .payroll import PayrollResult
from .rules import month_label


def amount_in_words(n: int, *, lang: str = "vi") -> str:
    """1.620.000 → "Một triệu sáu trăm hai mươi nghìn đồng" (num2words). The official payroll is in
    Vietnamese; a screen in English passes lang="en" ("One million, six hundred and twenty thousand dong")."""
    english = lang.startswith("en")
    if n == 0:
        return "Zero dong" if english else "Không đồng"
    words = num2words(abs(n), lang="en" if english else "vi")
    minus = "Minus " if english else "Âm "
    text = (minus + words if n < 0 else words) + (" dong" if english else " đồng")
    return text[0].upper() + text[1:]


def payroll_xlsx(result: PayrollResult, *, title_unit: str, issuer: str = "") -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True})
    ws = wb.add_worksheet(month_label(result.month).replace("/", "-"))
    base = {"font_name": "Times New Roman", "font_size": 12}
    f_title = wb.add_format({**base, "bold": True, "font_size": 14, "align": "center"})
    f_center = wb.add_format({**base, "align": "center"})
    f_bold_c = wb.add_format({**base, "bold": True, "align": "center"})
    f_head = wb.add_format({**base, "bold": True, "align": "center", "valign": "vcenter", "border": 1, "text_wrap": True})
    f_cell = wb.add_format({**base, "border": 1})
    f_money = wb.add_format({**base, "border": 1, "num_format": "#,##0"})
    f_coef = wb.add_format({**base, "border": 1, "num_format": "0.0"})
    f_total = wb.add_format({**base, "bold": True, "border": 1, "num_format": "#,##0"})
    f_total_l = wb.add_format({**base, "bold": True, "border": 1})
    f_italic = wb.add_format({**base, "italic": True})

    xlsx_merge(ws, 0, 0, 0, 4, issuer or title_unit.upper(), f_bold_c)
    xlsx_merge(ws, 0, 6, 0, 11, "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", f_bold_c)
    xlsx_merge(ws, 1, 6, 1, 11, "Độc lập - Tự do - Hạnh phúc", f_bold_c)
    xlsx_merge(ws, 3, 0, 3, 11, _("DANH SÁCH CHI TRẢ TRỢ CẤP XÃ HỘI HÀNG THÁNG CHO TRẺ EM"), f_title)
    xlsx_merge(ws, 4, 0, 4, 11, _("Tháng %(m)s — %(u)s — Mức chuẩn trợ giúp xã hội: %(b)s đồng")
                   % {"m": month_label(result.month), "u": title_unit, "b": f"{result.base_level:,}".replace(",", ".")},
                   f_center)
    heads = [_("STT"), _("Họ và tên"), _("Ngày sinh"), _("Xã/phường"), _("Nhóm đối tượng"), _("Hệ số"),
             _("Mức chuẩn"), _("Số tiền tháng"), _("Truy lĩnh"), _("Điều chỉnh"), _("Tổng nhận"), _("Ký nhận")]
    row = 6
    for col, head in enumerate(heads):
        xlsx_write(ws, row, col, head, f_head)
    names = {u.unit.pk: u.unit.name for u in result.by_unit}
    for i, line in enumerate(result.lines, start=1):
        row += 1
        ws.write_number(row, 0, i, f_cell)
        xlsx_write(ws, row, 1, line.name, f_cell)
        xlsx_write(ws, row, 2, format_date(line.birth_date), f_cell)
        xlsx_write(ws, row, 3, names.get(line.unit_id, ""), f_cell)
        xlsx_write(ws, row, 4, line.group_name, f_cell)
        if line.coefficient is not None:
            ws.write_number(row, 5, float(line.coefficient), f_coef)
        else:
            ws.write_blank(row, 5, None, f_cell)
        ws.write_number(row, 6, line.base or 0, f_money)
        ws.write_number(row, 7, line.amount, f_money)
        ws.write_number(row, 8, line.arrears, f_money)
        ws.write_number(row, 9, line.adjustment, f_money)
        ws.write_number(row, 10, line.total, f_money)
        ws.write_blank(row, 11, None, f_cell)  # the recipient (or guardian) signs here
    row += 1
    xlsx_merge(ws, row, 0, row, 6, _("Tổng cộng (%(n)s người)") % {"n": result.recipients}, f_total_l)
    ws.write_number(row, 7, result.amount, f_total)
    ws.write_number(row, 8, result.arrears, f_total)
    ws.write_number(row, 9, result.adjustment, f_total)
    ws.write_number(row, 10, result.total, f_total)
    ws.write_blank(row, 11, None, f_total)
    row += 2
    xlsx_write(ws, row, 0, _("Bằng chữ: %(w)s.") % {"w": amount_in_words(result.total)}, f_italic)
    row += 2
    xlsx_merge(ws, row, 0, row, 3, _("NGƯỜI LẬP BIỂU"), f_bold_c)
    xlsx_merge(ws, row, 4, row, 7, _("KẾ TOÁN"), f_bold_c)
    xlsx_merge(ws, row, 8, row, 11, _("CHỦ TỊCH UBND"), f_bold_c)
    xlsx_merge(ws, row + 1, 0, row + 1, 3, _("(Ký, ghi rõ họ tên)"), f_center)
    xlsx_merge(ws, row + 1, 4, row + 1, 7, _("(Ký, ghi rõ họ tên)"), f_center)
    xlsx_merge(ws, row + 1, 8, row + 1, 11, _("(Ký tên, đóng dấu)"), f_center)
    for col, width in enumerate([5, 26, 11, 22, 34, 7, 11, 13, 12, 12, 13, 14]):
        ws.set_column(col, col, width)
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.repeat_rows(6)
    wb.close()
    return buf.getvalue()
