"""Forms 01–06 of Decree 56/2017 filled in with a case's data, as .docx and .pdf.

Each form is described once as a list of blocks (paragraphs, label/value lines, tables); the same
description renders to Word (python-docx) and to PDF (HTML through WeasyPrint), in the layout of
Decree 30/2020 on clerical work: Times New Roman 13 (Liberation Serif where it is missing), the
issuing body top left, the national motto top right, number, place and date, the title in bold
capitals, recipients bottom left and the signature block bottom right; A4 with margins 20 mm top
and bottom, 30 mm left, 15 mm right.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.text import format_date

from .models import Case, Channel, Concern, Outcome, Perpetrator, Plan, PlanItem, Rating, Status

FORMS = {
    "01": _("Mẫu 01 – Phiếu tiếp nhận thông tin"),
    "02": _("Mẫu 02 – Biên bản xác minh, đánh giá ban đầu"),
    "03": _("Mẫu 03 – Đánh giá chi tiết và biên bản họp"),
    "04": _("Mẫu 04 – Kế hoạch hỗ trợ, can thiệp"),
    "05": _("Mẫu 05 – Quyết định phê duyệt kế hoạch"),
    "06": _("Mẫu 06 – Rà soát, đánh giá kết quả"),
}
FONT = "Times New Roman"


@dataclass
class Doc:
    title: str
    subtitle: str = ""
    number: str = ""
    day: dt.date | None = None
    blocks: list[tuple] = field(default_factory=list)
    signer_title: str = ""
    signer_name: str = ""
    recipients: list[str] = field(default_factory=list)

    def para(self, text: str, *, bold: bool = False, italic: bool = False) -> None:
        self.blocks.append(("para", text, bold, italic))

    def line(self, label: str, value: Any) -> None:
        self.blocks.append(("line", label, _value(value)))

    def heading(self, text: str) -> None:
        self.blocks.append(("heading", text))

    def table(self, headers: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(("table", headers, [[_value(v) for v in row] for row in rows]))


def _value(value: Any) -> str:
    if value is None or value == "":
        return "……………"
    if isinstance(value, bool):
        return _("Có") if value else _("Không")
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).strftime("%H giờ %M, ngày %d/%m/%Y")
    if isinstance(value, dt.date):
        return format_date(value)
    return str(value)


def _place_name(unit) -> str:
    name = unit.name
    for prefix in ("Thị trấn ", "Phường ", "Xã ", "Đặc khu "):
        if name.startswith(prefix):
            return name[len(prefix):]
    return name


def _long_date(unit, day: dt.date) -> str:
    return f"{_place_name(unit)}, ngày {day.day:02d} tháng {day.month:02d} năm {day.year}"


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _require(condition: bool, message: str) -> None:
    if not condition:
        from .services import OutOfOrder

        raise OutOfOrder(message)


def _form_01(case: Case) -> Doc:
    doc = Doc(_("PHIẾU TIẾP NHẬN THÔNG TIN, THÔNG BÁO VỀ TRẺ EM CÓ NGUY CƠ HOẶC BỊ XÂM HẠI"),
              number=case.code, day=timezone.localtime(case.received_at).date())
    doc.heading(_("1. Thông tin tiếp nhận"))
    doc.line(_("Thời điểm tiếp nhận"), case.received_at)
    doc.line(_("Kênh tiếp nhận"), _label(Channel, case.channel))
    doc.line(_("Người báo tin"), _("Ẩn danh") if case.reporter_anonymous else case.reporter_name)
    if not case.reporter_anonymous:
        doc.line(_("Số điện thoại"), case.reporter_phone)
        doc.line(_("Quan hệ với trẻ"), case.reporter_relation)
    doc.heading(_("2. Thông tin về trẻ em"))
    _child_lines(doc, case)
    doc.heading(_("3. Nội dung sự việc"))
    doc.line(_("Loại vụ việc"), _label(Concern, case.concern))
    doc.line(_("Nơi xảy ra"), case.place)
    doc.line(_("Quan hệ của người gây hại với trẻ"), _label(Perpetrator, case.perpetrator))
    doc.line(_("Trẻ đang gặp nguy hiểm"), case.in_danger)
    doc.para(case.summary)
    doc.signer_title, doc.signer_name = _("NGƯỜI TIẾP NHẬN"), case.created_by.display_name
    return doc


def _child_lines(doc: Doc, case: Case) -> None:
    child = case.child
    doc.line(_("Họ và tên"), child.full_name)
    doc.line(_("Ngày sinh"), child.birth_date)
    doc.line(_("Giới tính"), child.get_sex_display())
    doc.line(_("Dân tộc"), child.ethnicity.name if child.ethnicity else "")
    doc.line(_("Nơi cư trú"), ", ".join(filter(None, [child.village, case.unit.name])))


def _form_02(case: Case) -> Doc:
    _require(case.verified_on is not None, _("Vụ việc chưa được xác minh (mẫu 02)."))
    doc = Doc(_("BIÊN BẢN XÁC MINH, ĐÁNH GIÁ BAN ĐẦU"), subtitle=_("về trẻ em có nguy cơ hoặc bị xâm hại"),
              number=case.code, day=case.verified_on)
    _child_lines(doc, case)
    doc.line(_("Loại vụ việc"), _label(Concern, case.concern))
    doc.line(_("Ngày xác minh"), case.verified_on)
    doc.heading(_("Kết quả xác minh, đánh giá ban đầu"))
    doc.para(case.verification)
    doc.line(_("Tính mạng, sức khoẻ, nhân phẩm của trẻ bị đe doạ nghiêm trọng"), case.in_danger)
    if case.emergency_done_at:
        doc.heading(_("Biện pháp can thiệp khẩn cấp"))
        doc.line(_("Thời điểm thực hiện"), case.emergency_done_at)
        doc.para(case.emergency_action)
    if case.isolation_start:
        doc.line(_("Cách ly tạm thời"), f"{format_date(case.isolation_start)} – {format_date(case.isolation_until)}"
                 f" ({case.isolation_place}; {_('quyết định số')} {case.isolation_decision})")
    doc.signer_title, doc.signer_name = _("NGƯỜI XÁC MINH"), case.owner.display_name
    return doc


def _form_03(case: Case) -> Doc:
    _require(case.assessed_on is not None, _("Vụ việc chưa được đánh giá chi tiết (mẫu 03)."))
    doc = Doc(_("BÁO CÁO ĐÁNH GIÁ CHI TIẾT NGUY CƠ VÀ NHU CẦU CỦA TRẺ EM"), number=case.code, day=case.assessed_on)
    _child_lines(doc, case)
    doc.heading(_("1. Đánh giá chi tiết"))
    doc.para(case.assessment)
    doc.heading(_("2. Biên bản họp về trường hợp trẻ em"))
    doc.para(case.meeting_minutes)
    doc.line(_("Hạn lập kế hoạch hỗ trợ, can thiệp"), case.plan_due_on)
    doc.signer_title, doc.signer_name = _("NGƯỜI ĐÁNH GIÁ"), case.owner.display_name
    return doc


def _plan_of(case: Case, *, approved: bool) -> Plan:
    qs = case.plans.exclude(status=Plan.State.SUPERSEDED)
    if approved:
        qs = qs.filter(status=Plan.State.APPROVED)
    plan = qs.order_by("-number").first() or (case.plans.filter(status=Plan.State.APPROVED).order_by("-number")
                                              .first() if approved else None)
    _require(plan is not None, _("Vụ việc chưa có kế hoạch đã phê duyệt.") if approved
             else _("Vụ việc chưa có kế hoạch hỗ trợ, can thiệp."))
    assert plan is not None
    return plan


def _items_table(doc: Doc, plan: Plan) -> None:
    rows = [[i, _label(PlanItem.Kind, item.kind), item.description, item.responsible, item.due_on,
             _label(PlanItem.ItemStatus, item.status)] for i, item in enumerate(plan.items.all(), start=1)]
    doc.table([_("TT"), _("Loại hỗ trợ"), _("Nội dung"), _("Người/cơ quan thực hiện"), _("Thời hạn"),
               _("Tình trạng")], rows)


def _form_04(case: Case) -> Doc:
    plan = _plan_of(case, approved=False)
    doc = Doc(_("KẾ HOẠCH HỖ TRỢ, CAN THIỆP"), subtitle=_("đối với trẻ em bị xâm hại hoặc có nguy cơ bị bạo lực, "
                                                          "bóc lột, bỏ rơi"), number=f"{case.code}/KH-{plan.number}",
              day=plan.drafted_on)
    _child_lines(doc, case)
    doc.heading(_("1. Mục tiêu"))
    doc.para(plan.goal)
    doc.heading(_("2. Các hoạt động hỗ trợ, can thiệp"))
    _items_table(doc, plan)
    doc.line(_("Thời gian rà soát, đánh giá"), plan.review_on)
    doc.signer_title, doc.signer_name = _("NGƯỜI LẬP KẾ HOẠCH"), case.owner.display_name
    return doc


def _form_05(case: Case) -> Doc:
    plan = _plan_of(case, approved=True)
    doc = Doc(_("QUYẾT ĐỊNH"), subtitle=_("Về việc phê duyệt kế hoạch hỗ trợ, can thiệp đối với trẻ em"),
              number=plan.decision_number, day=plan.approved_on)
    doc.para(_("CHỦ TỊCH ỦY BAN NHÂN DÂN %(u)s") % {"u": case.unit.name.upper()}, bold=True)
    doc.para(_("Căn cứ Luật Trẻ em ngày 05 tháng 4 năm 2016;"), italic=True)
    doc.para(_("Căn cứ Nghị định số 56/2017/NĐ-CP ngày 09 tháng 5 năm 2017 của Chính phủ quy định chi tiết "
               "một số điều của Luật Trẻ em;"), italic=True)
    doc.para(_("Xét đề nghị của người làm công tác bảo vệ trẻ em cấp xã,"), italic=True)
    doc.para(_("QUYẾT ĐỊNH:"), bold=True)
    doc.para(_("Điều 1. Phê duyệt kế hoạch hỗ trợ, can thiệp đối với trẻ em %(n)s, sinh ngày %(b)s (hồ sơ %(c)s), "
               "với các hoạt động sau:") % {"n": case.child.full_name, "b": format_date(case.child.birth_date),
                                            "c": case.code})
    _items_table(doc, plan)
    doc.para(_("Điều 2. Người làm công tác bảo vệ trẻ em cấp xã chủ trì, phối hợp với các cơ quan, cá nhân có tên "
               "tại Điều 1 tổ chức thực hiện; rà soát, đánh giá vào ngày %(d)s.") % {"d": format_date(plan.review_on)})
    doc.para(_("Điều 3. Quyết định này có hiệu lực kể từ ngày ký."))
    doc.signer_title = _("CHỦ TỊCH")
    doc.signer_name = plan.approved_by.display_name if plan.approved_by else ""
    doc.recipients = [_("Như Điều 2;"), _("Gia đình trẻ em;"), _("Lưu: VT, hồ sơ %(c)s.") % {"c": case.code}]
    return doc


def _form_06(case: Case) -> Doc:
    review = case.reviews.first()
    _require(review is not None, _("Vụ việc chưa được rà soát (mẫu 06)."))
    assert review is not None
    doc = Doc(_("BÁO CÁO RÀ SOÁT, ĐÁNH GIÁ KẾT QUẢ THỰC HIỆN KẾ HOẠCH HỖ TRỢ, CAN THIỆP"), number=case.code,
              day=review.reviewed_on)
    _child_lines(doc, case)
    doc.table([_("Nội dung đánh giá"), _("Mức độ")], [
        [_("Mức độ tổn hại của trẻ"), _label(Rating, review.harm)],
        [_("Khả năng tiếp cận của người gây tổn hại"), _label(Rating, review.perpetrator_access)],
        [_("Trở ngại trong môi trường chăm sóc"), _label(Rating, review.care_obstacles)],
    ])
    doc.line(_("Đề xuất"), _("Đóng vụ việc") if review.recommend_close else _("Tiếp tục, lập kế hoạch mới"))
    doc.para(review.note)
    if case.status == Status.CLOSED:
        doc.line(_("Kết quả đóng vụ việc"), _label(Outcome, case.outcome))
    doc.signer_title, doc.signer_name = _("NGƯỜI RÀ SOÁT"), review.reviewed_by.display_name
    return doc


BUILDERS = {"01": _form_01, "02": _form_02, "03": _form_03, "04": _form_04, "05": _form_05, "06": _form_06}


def document_build(*, case: Case, form: str) -> Doc:
    from vitreem.core.errors import NotFound

    builder = BUILDERS.get(form)
    if builder is None:
        raise NotFound(_("Không có biểu mẫu %(f)s.") % {"f": form})
    doc = builder(case)
    doc.day = doc.day or timezone.localdate()
    return doc


def document_render(*, case: Case, form: str, fmt: str = "docx") -> tuple[bytes, str, str]:
    """(content, filename, content type). The caller has checked access and written the audit row."""
    from vitreem.core.errors import ValidationFailed

    doc = document_build(case=case, form=form)
    if fmt == "docx":
        return (_to_docx(doc, case), f"{case.code}-mau-{form}.docx",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document")
    if fmt == "pdf":
        return _to_pdf(doc, case), f"{case.code}-mau-{form}.pdf", "application/pdf"
    raise ValidationFailed({"format": _("Định dạng phải là docx hoặc pdf.")})


# ---------------------------------------------------------------- Word

def _font(run, *, size: float = 13, bold: bool = False, italic: bool = False, underline: bool = False) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Pt

    run.font.name = FONT
    run.font.size = Pt(size)
    run.bold, run.italic, run.underline = bold, italic, underline
    rpr = run._element.get_or_add_rPr()
    fonts = rpr.find(qn("w:rFonts"))
    if fonts is not None:
        fonts.set(qn("w:eastAsia"), FONT)


def _to_docx(doc: Doc, case: Case) -> bytes:
    from docx import Document
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Mm, Pt

    word = Document()
    section = word.sections[0]
    section.page_width, section.page_height = Mm(210), Mm(297)
    section.top_margin = section.bottom_margin = Mm(20)
    section.left_margin, section.right_margin = Mm(30), Mm(15)
    style = word.styles["Normal"]
    style.font.name, style.font.size = FONT, Pt(13)

    header = word.add_table(rows=1, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    left, right = header.rows[0].cells
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(_("UBND %(u)s") % {"u": case.unit.name.upper()}), size=13, bold=True)
    p = left.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(_("Số: %(n)s") % {"n": doc.number}), size=13)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"), size=12, bold=True)
    p = right.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run("Độc lập - Tự do - Hạnh phúc"), size=13, bold=True, underline=True)
    p = right.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(_long_date(case.unit, doc.day or timezone.localdate())), size=13, italic=True)

    p = word.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(doc.title.upper()), size=14, bold=True)
    if doc.subtitle:
        p = word.add_paragraph()
        p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(doc.subtitle), size=14, bold=True)

    for block in doc.blocks:
        kind = block[0]
        if kind == "heading":
            _font(word.add_paragraph().add_run(block[1]), bold=True)
        elif kind == "para":
            for text in (block[1] or "").split("\n"):
                p = word.add_paragraph()
                p.alignment = WD_ALIGN_PARAGRAPH.JUSTIFY
                _font(p.add_run(text), bold=block[2], italic=block[3])
        elif kind == "line":
            p = word.add_paragraph()
            _font(p.add_run(f"{block[1]}: "), bold=False)
            _font(p.add_run(block[2]))
        elif kind == "table":
            headers, rows = block[1], block[2]
            table = word.add_table(rows=1, cols=len(headers))
            table.style = "Table Grid"
            for cell, text in zip(table.rows[0].cells, headers, strict=True):
                _font(cell.paragraphs[0].add_run(text), size=12, bold=True)
            for row in rows:
                cells = table.add_row().cells
                for cell, text in zip(cells, row, strict=True):
                    _font(cell.paragraphs[0].add_run(text), size=12)

    footer = word.add_table(rows=1, cols=2)
    left, right = footer.rows[0].cells
    if doc.recipients:
        p = left.paragraphs[0]
        _font(p.add_run(_("Nơi nhận:")), size=12, bold=True, italic=True)
        for line in doc.recipients:
            _font(left.add_paragraph().add_run(f"- {line}"), size=11)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(doc.signer_title), size=13, bold=True)
    p = right.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(_("(Ký, ghi rõ họ tên)")), size=13, italic=True)
    for _i in range(3):
        right.add_paragraph()
    p = right.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(doc.signer_name), size=13, bold=True)

    buffer = io.BytesIO()
    word.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------- PDF (HTML → WeasyPrint)

CSS = """
@page { size: A4; margin: 20mm 15mm 20mm 30mm; }
body { font-family: "Times New Roman", "Liberation Serif", serif; font-size: 13pt; line-height: 1.35; }
table.head, table.foot { width: 100%; border: 0; } table.head td, table.foot td { vertical-align: top;
 text-align: center; width: 50%; }
.motto { font-weight: bold; font-size: 12pt; } .motto2 { font-weight: bold; text-decoration: underline; }
.date { font-style: italic; } h1 { font-size: 14pt; text-align: center; margin: 14pt 0 2pt; }
h2 { font-size: 14pt; text-align: center; margin: 0 0 10pt; } h3 { font-size: 13pt; margin: 8pt 0 2pt; }
p { text-align: justify; margin: 3pt 0; } table.grid { border-collapse: collapse; width: 100%; font-size: 12pt; }
table.grid td, table.grid th { border: 1px solid #000; padding: 2pt 4pt; text-align: left; vertical-align: top; }
.recipients { font-size: 11pt; text-align: left; } .sign { height: 60pt; }
"""


def _to_html(doc: Doc, case: Case) -> str:
    e = html.escape
    parts = [f"<html lang='vi'><head><meta charset='utf-8'><style>{CSS}</style></head><body>",
             "<table class='head'><tr><td><b>", e(_("UBND %(u)s") % {"u": case.unit.name.upper()}), "</b><br>",
             e(_("Số: %(n)s") % {"n": doc.number}), "</td><td><div class='motto'>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
             "</div><div class='motto2'>Độc lập - Tự do - Hạnh phúc</div><div class='date'>",
             e(_long_date(case.unit, doc.day or timezone.localdate())), "</div></td></tr></table>",
             f"<h1>{e(doc.title.upper())}</h1>"]
    if doc.subtitle:
        parts.append(f"<h2>{e(doc.subtitle)}</h2>")
    for block in doc.blocks:
        kind = block[0]
        if kind == "heading":
            parts.append(f"<h3>{e(block[1])}</h3>")
        elif kind == "para":
            style = ("font-weight:bold;" if block[2] else "") + ("font-style:italic;" if block[3] else "")
            parts.extend(f"<p style='{style}'>{e(t)}</p>" for t in (block[1] or "").split("\n"))
        elif kind == "line":
            parts.append(f"<p>{e(block[1])}: {e(block[2])}</p>")
        elif kind == "table":
            parts.append("<table class='grid'><tr>" + "".join(f"<th>{e(h)}</th>" for h in block[1]) + "</tr>")
            parts.extend("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in block[2])
            parts.append("</table>")
    recipients = "".join(f"<div>- {e(r)}</div>" for r in doc.recipients)
    parts.append(f"<table class='foot'><tr><td class='recipients'>"
                 f"{'<b><i>' + e(_('Nơi nhận:')) + '</i></b>' + recipients if doc.recipients else ''}</td>"
                 f"<td><b>{e(doc.signer_title)}</b><br><i>{e(_('(Ký, ghi rõ họ tên)'))}</i>"
                 f"<div class='sign'></div><b>{e(doc.signer_name)}</b></td></tr></table></body></html>")
    return "".join(parts)


def _to_pdf(doc: Doc, case: Case) -> bytes:
    from weasyprint import HTML

    return HTML(string=_to_html(doc, case)).write_pdf()
