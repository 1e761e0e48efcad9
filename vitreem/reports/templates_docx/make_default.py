"""Build the default Word template of the annual report (bao_cao_nam.docx) with python-docx.

Run: .venv/bin/python vitreem/reports/templates_docx/make_default.py
The province may open the result in Word, change any wording, fonts or layout, keep the {{ … }}
placeholders it wants, and upload it on /reports/templates/. Placeholders are Jinja (docxtpl):
{%p for … %} repeats a paragraph, {%tr for … %} a table row.

Layout follows Decree 30/2020/NĐ-CP, Annex I: Times New Roman 13–14, issuing body top left,
national motto top right, number and symbol, place and date, the title in bold capitals, A4 with
margins 20 mm top/bottom, 30 mm left, 15 mm right; recipients bottom left, signature bottom right.
"""

from __future__ import annotations

from pathlib import Path

from docx import Document
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml.ns import qn
from docx.shared import Mm, Pt

OUT = Path(__file__).with_name("bao_cao_nam.docx")
FONT = "Times New Roman"


def _font(run, size=14, bold=False, italic=False, underline=False):
    run.font.name = FONT
    run._element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    run.font.size = Pt(size)
    run.bold, run.italic, run.underline = bold, italic, underline
    return run


def para(doc_or_cell, text="", *, size=14, bold=False, italic=False, underline=False, align=None, indent=True,
         space_after=6):
    p = doc_or_cell.add_paragraph()
    if text:
        _font(p.add_run(text), size, bold, italic, underline)
    if align is not None:
        p.alignment = align
    elif indent:
        p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
        p.paragraph_format.first_line_indent = Mm(12.7)
    p.paragraph_format.space_after = Pt(space_after)
    return p


def loop(doc, var, item="p", size=14):
    """Three paragraphs: {%p for %}, the repeated one, {%p endfor %}."""
    para(doc, f"{{%p for {item} in {var} %}}", size=size)
    para(doc, f"{{{{ {item} }}}}", size=size)
    para(doc, "{%p endfor %}", size=size)


def heading(doc, text, size=14):
    para(doc, text, size=size, bold=True, indent=False, align=WD_ALIGN_PARAGRAPH.LEFT)


def table(doc, headers, row_cells, loop_var, widths=None, total=None):
    t = doc.add_table(rows=1, cols=len(headers))
    t.style = "Table Grid"
    t.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(t.rows[0].cells, headers, strict=True):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), 12, bold=True)
        cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    # docxtpl row loop: a row opening the loop, the repeated row, a row closing it
    start = t.add_row().cells
    start[0].text = f"{{%tr for r in {loop_var} %}}"
    body = t.add_row().cells
    for i, (cell, text) in enumerate(zip(body, row_cells, strict=True)):
        cell.text = ""
        _font(cell.paragraphs[0].add_run(text), 12)
        if i >= 2 or text.startswith("{{ r.value") or "cells" in text:
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    end = t.add_row().cells
    end[0].text = "{%tr endfor %}"
    if total:
        cells = t.add_row().cells
        for cell, text in zip(cells, total, strict=True):
            cell.text = ""
            _font(cell.paragraphs[0].add_run(text), 12, bold=True)
            cell.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.RIGHT
    if widths:
        for row in t.rows:
            for cell, w in zip(row.cells, widths, strict=True):
                cell.width = Mm(w)
    para(doc, "", indent=False, space_after=4)
    return t


def build() -> Path:
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin, section.bottom_margin = Mm(20), Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    normal = doc.styles["Normal"]
    normal.font.name = FONT
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    normal.font.size = Pt(14)

    # Title block: two columns without borders
    head = doc.add_table(rows=1, cols=2)
    left, right = head.rows[0].cells
    left.width, right.width = Mm(70), Mm(95)
    left.text = right.text = ""
    for cell, lines in ((left, [("{{ issuing_parent }}", 13, False, False), ("{{ issuing_body }}", 13, True, True),
                                ("{{ number }}", 13, False, False)]),
                        (right, [("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 13, True, False),
                                 ("Độc lập - Tự do - Hạnh phúc", 14, True, True), ("{{ place_date }}", 14, False, False)])):
        first = True
        for text, size, bold, underline in lines:
            p = cell.paragraphs[0] if first else cell.add_paragraph()
            first = False
            italic = text == "{{ place_date }}"
            _font(p.add_run(text), size, bold, italic, underline)
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
            p.paragraph_format.space_after = Pt(2 if not italic else 0)

    para(doc, "", indent=False)
    para(doc, "{{ title }}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "{{ subtitle }}", size=14, bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)

    heading(doc, "I. TÌNH HÌNH TRẺ EM")
    para(doc, "{{ opening_paragraph }}")
    loop(doc, "situation_paragraphs")
    table(doc, ["Chỉ tiêu", "Năm {{ year }}", "Năm {{ year - 1 }}", "Tăng/giảm"],
          ["{{ r.label }}", "{{ r.value }}", "{{ r.prev }}", "{{ r.change }}"], "headline_rows", widths=[85, 27, 27, 26])

    heading(doc, "II. KẾT QUẢ THỰC HIỆN CÁC NHIỆM VỤ NĂM {{ year }}")
    heading(doc, "1. Trợ giúp xã hội cho trẻ em")
    loop(doc, "assistance_paragraphs")
    heading(doc, "2. Quản lý trường hợp, bảo vệ trẻ em bị xâm hại")
    loop(doc, "cases_paragraphs")
    heading(doc, "3. Truyền thông, tập huấn, vui chơi giải trí")
    loop(doc, "communication_paragraphs")
    heading(doc, "4. Thực hiện các chỉ tiêu về trẻ em")
    loop(doc, "targets_paragraphs")

    heading(doc, "III. HẠN CHẾ, NGUYÊN NHÂN")
    loop(doc, "limitations")

    heading(doc, "IV. PHƯƠNG HƯỚNG, NHIỆM VỤ NĂM {{ next_year }}")
    loop(doc, "directions")

    # recipients and signature
    sign = doc.add_table(rows=1, cols=2)
    left, right = sign.rows[0].cells
    left.text = right.text = ""
    _font(left.paragraphs[0].add_run("Nơi nhận:"), 12, bold=True, italic=True)
    for line in ("- Ban Chỉ đạo tỉnh;", "- Các đơn vị thành viên;",
                 "{{ standing_agency_recipient }}", "- Lưu: VT."):
        _font(left.add_paragraph().add_run(line), 11)
    _font(right.paragraphs[0].add_run("TM. BAN CHỈ ĐẠO"), 14, bold=True)
    _font(right.add_paragraph().add_run("TRƯỞNG BAN"), 14, bold=True)
    for p in right.paragraphs:
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER

    doc.add_page_break()
    para(doc, "PHỤ LỤC 1", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "SỐ LIỆU TRẺ EM THEO ĐƠN VỊ ĐẾN NGÀY {{ as_of }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    headers = ["STT", "Đơn vị"] + [f"{{{{ annex_unit_headers[{i}] }}}}" for i in range(6)]
    table(doc, headers, ["{{ r.no }}", "{{ r.name }}"] + [f"{{{{ r.cells[{i}] }}}}" for i in range(6)], "annex_units",
          total=["", "{{ annex_total.name }}"] + [f"{{{{ annex_total.cells[{i}] }}}}" for i in range(6)],
          widths=[10, 45, 19, 19, 19, 19, 19, 19])

    para(doc, "PHỤ LỤC 2", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "TRẺ EM CÓ HOÀN CẢNH ĐẶC BIỆT THEO NHÓM (ĐIỀU 10 LUẬT TRẺ EM)", bold=True,
         align=WD_ALIGN_PARAGRAPH.CENTER)
    table(doc, ["Nhóm", "Tên nhóm", "Số trẻ em"], ["{{ r.code }}", "{{ r.name }}", "{{ r.value }}"], "annex_groups",
          widths=[15, 120, 30])

    para(doc, "PHỤ LỤC 3", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "KẾT QUẢ THỰC HIỆN CÁC CHỈ TIÊU NĂM {{ year }}", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{{ targets_note }}", indent=False)
    table(doc, ["Chỉ tiêu", "Kế hoạch", "Thực hiện", "Đánh giá", "Đơn vị chủ trì"],
          ["{{ r.name }}", "{{ r.target }}", "{{ r.value }}", "{{ r.status }}", "{{ r.owner }}"], "annex_targets",
          widths=[70, 22, 22, 22, 29])

    para(doc, "PHỤ LỤC 4", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "CÁC ĐƠN VỊ THÀNH VIÊN NĂM {{ year }} VÀ ĐÁNH GIÁ", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    # The committee of the report's year: membership and the standing agency are dated (accounts).
    para(doc, "{{ standing_agency_paragraph }}", indent=False)
    table(doc, ["STT", "Đơn vị thành viên", "Thời gian là thành viên", "Ghi chú"],
          ["{{ r.no }}", "{{ r.name }}", "{{ r.period }}", "{{ r.note }}"], "annex_member_units",
          widths=[12, 75, 45, 33])
    para(doc, "{{ members_note }}", indent=False)
    table(doc, ["Đơn vị", "Nhiệm vụ hoàn thành", "Báo cáo đúng hạn", "Chỉ tiêu đạt", "Xếp loại"],
          ["{{ r.name }}", "{{ r.tasks }}", "{{ r.reports }}", "{{ r.indicators }}", "{{ r.rating }}"],
          "annex_members", widths=[60, 26, 26, 23, 30])
    # Charts: docxtpl images made by render.render_docx (a paragraph repeated per chart, the image in it)
    para(doc, "{%p if annex_charts %}", indent=False)
    para(doc, "PHỤ LỤC 5", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "BIỂU ĐỒ", bold=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{%p for c in annex_charts %}", indent=False)
    para(doc, "{{ c.image }}", indent=False, align=WD_ALIGN_PARAGRAPH.CENTER, space_after=0)
    para(doc, "{{ c.title }}", size=12, italic=True, align=WD_ALIGN_PARAGRAPH.CENTER)
    para(doc, "{%p endfor %}", indent=False)
    para(doc, "{%p endif %}", indent=False)
    para(doc, "Số liệu do hệ thống vitreem tổng hợp lúc {{ generated_at }} từ cơ sở dữ liệu trẻ em của {{ unit_name }}.",
         size=11, italic=True, indent=False)
    doc.save(str(OUT))
    return OUT


if __name__ == "__main__":
    print(build())
