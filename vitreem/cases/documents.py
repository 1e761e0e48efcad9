"""Forms 01–07 of the annex to Decree 56/2017/NĐ-CP filled in with a case's data, as .docx and .pdf.

Each form is described once as a list of blocks (paragraphs, label/value lines, tables); the same
description renders to Word (python-docx) and to PDF (HTML through WeasyPrint), in the layout of
Decree 30/2020 on clerical work: Times New Roman 13 (Liberation Serif, metric-compatible, where it is
missing — and no other family), the issuing body written in full top left, the national motto top
right on one line, number, place and date (a leading zero only for days under 10 and months 1 and 2),
the title in bold capitals, recipients bottom left and the signature block bottom right; A4 with
margins 20 mm top and bottom, 30 mm left, 15 mm right.

The forms' names are those of the decree: Arts. 25(1) (01), 26(2) (02), 27(1) (03), 28(1)–(2) (04,
05), 30(2) (06) and 32(2) (07). Form 06's rating scheme is the annex's (three criteria rated Cao /
Trung bình / Thấp with the annex's meaning of each level, and their totals).
"""

from __future__ import annotations

import datetime as dt
import html
import io
from dataclasses import dataclass, field
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vitreem.core.text import format_date

from .models import Case, Channel, Concern, Outcome, Perpetrator, Plan, PlanItem, Rating, Status

FORMS = {
    "01": gettext_lazy("Mẫu số 01 – Báo cáo tiếp nhận thông tin trẻ em"),
    "02": gettext_lazy("Mẫu số 02 – Đánh giá nguy cơ ban đầu, mức độ tổn hại của trẻ em"),
    "03": gettext_lazy("Mẫu số 03 – Thu thập thông tin, đánh giá nguy cơ cụ thể"),
    "04": gettext_lazy("Mẫu số 04 – Kế hoạch hỗ trợ, can thiệp"),
    "05": gettext_lazy("Mẫu số 05 – Quyết định phê duyệt kế hoạch hỗ trợ, can thiệp"),
    "06": gettext_lazy("Mẫu số 06 – Rà soát, đánh giá tình trạng của trẻ em sau khi thực hiện kế hoạch hỗ trợ, "
                       "can thiệp"),
    "07": gettext_lazy("Mẫu số 07 – Quyết định tạm thời cách ly trẻ em khỏi cha, mẹ, người chăm sóc trẻ em"),
}
FONT = "Times New Roman"
# The PDF names the metric-compatible Liberation Serif as the only fallback: one family on the page.
PDF_FONTS = '"Times New Roman", "Liberation Serif"'
MOTTO = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO_2 = "Độc lập - Tự do - Hạnh phúc"
# Text width is 210 − 30 − 15 = 165 mm; the motto takes the wider column.
HEADER_LEFT_MM, HEADER_RIGHT_MM = 65, 100


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
    # Shown on the document when something about it needs the reader's attention.
    warnings: list[str] = field(default_factory=list)

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


def issuing_body(unit) -> list[str]:
    """The issuing body in full, as Decree 30/2020 requires (only a superior body's name may be
    abbreviated): the commune People's Committee, on two lines so it never wraps mid-name —
    "ỦY BAN NHÂN DÂN" / "XÃ ĐĂK HÀ"."""
    return [_("ỦY BAN NHÂN DÂN"), unit.name.upper()]


def issue_date(day: dt.date) -> str:
    """"ngày 05 tháng 3 năm 2026": Decree 30/2020, Annex I — day, month and year in Arabic numerals,
    a leading zero only for days under 10 and for months 1 and 2."""
    month = f"{day.month:02d}" if day.month < 3 else str(day.month)
    return _("ngày %(d)s tháng %(m)s năm %(y)s") % {"d": f"{day.day:02d}", "m": month, "y": day.year}


def _long_date(unit, day: dt.date) -> str:
    return f"{unit.short_name or unit.name}, {issue_date(day)}"


def _label(choices, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value or ""


def _require(condition: bool, message: str) -> None:
    if not condition:
        from .services import OutOfOrder

        raise OutOfOrder(message)


def _child_group(case: Case) -> str:
    """Form 01, note (4): the child is abused / at risk of violence, exploitation, abandonment / in
    special circumstances."""
    from .rules import ABUSE_CONCERNS

    if case.concern in ABUSE_CONCERNS:
        return _("BỊ XÂM HẠI HOẶC CÓ NGUY CƠ BỊ BẠO LỰC, BÓC LỘT, BỎ RƠI")
    return _("CÓ HOÀN CẢNH ĐẶC BIỆT")


def _form_01(case: Case) -> Doc:
    # Decree 56/2017, Art. 25(1): the place that receives the information records it on form 01.
    doc = Doc(_("BÁO CÁO"), subtitle=_("TIẾP NHẬN THÔNG TIN TRẺ EM %(g)s") % {"g": _child_group(case)},
              number=_("%(c)s/BC-UBND") % {"c": case.code}, day=timezone.localtime(case.received_at).date())
    doc.heading(_("A. Thông tin chung"))
    doc.heading(_("1. Nguồn nhận thông tin"))
    doc.line(_("Thông qua"), _label(Channel, case.channel))
    doc.line(_("Thời gian"), case.received_at)
    doc.heading(_("2. Thông tin về trẻ em"))
    _child_lines(doc, case)
    doc.line(_("Địa điểm xảy ra vụ việc"), case.place)
    doc.line(_("Loại vụ việc"), _label(Concern, case.concern))
    doc.line(_("Quan hệ của người gây hại với trẻ"), _label(Perpetrator, case.perpetrator))
    doc.line(_("Trẻ đang gặp nguy hiểm"), case.in_danger)
    doc.para(case.summary)
    doc.heading(_("3. Thông tin người cung cấp thông tin"))
    doc.line(_("Họ và tên"), _("Ẩn danh") if case.reporter_anonymous else case.reporter_name)
    if not case.reporter_anonymous:
        doc.line(_("Số điện thoại"), case.reporter_phone)
        doc.line(_("Quan hệ với trẻ"), case.reporter_relation)
    doc.signer_title, doc.signer_name = _("CÁN BỘ TIẾP NHẬN THÔNG TIN"), case.created_by.display_name
    return doc


def _child_lines(doc: Doc, case: Case) -> None:
    child = case.child
    doc.line(_("Họ và tên trẻ em"), child.full_name)
    doc.line(_("Ngày tháng năm sinh"), child.birth_date)
    doc.line(_("Giới tính"), child.get_sex_display())
    doc.line(_("Dân tộc"), child.ethnicity.name if child.ethnicity else "")
    doc.line(_("Nơi cư trú"), ", ".join(filter(None, [child.village, case.unit.name])))


def _form_02(case: Case) -> Doc:
    # Decree 56/2017, Art. 26(2): the initial assessment of the risk and the harm, on form 02.
    _require(case.verified_on is not None, _("Vụ việc chưa được đánh giá ban đầu (mẫu số 02)."))
    doc = Doc(_("BÁO CÁO"), subtitle=_("ĐÁNH GIÁ NGUY CƠ BAN ĐẦU, MỨC ĐỘ TỔN HẠI CỦA TRẺ EM"),
              number=_("%(c)s/BC-UBND") % {"c": case.code}, day=case.verified_on)
    _child_lines(doc, case)
    doc.line(_("Loại vụ việc"), _label(Concern, case.concern))
    doc.line(_("Ngày đánh giá"), case.verified_on)
    doc.heading(_("Kết quả đánh giá nguy cơ ban đầu"))
    doc.para(case.verification)
    doc.line(_("Trẻ em có nguy cơ hoặc đang bị tổn hại nghiêm trọng về tính mạng, sức khỏe, nhân phẩm"), case.in_danger)
    if case.emergency_done_at:
        doc.heading(_("Biện pháp can thiệp khẩn cấp (Điều 31)"))
        doc.line(_("Thời điểm thực hiện"), case.emergency_done_at)
        doc.para(case.emergency_action)
    if case.isolation_start:
        doc.line(_("Tạm thời cách ly (Điều 32)"), f"{format_date(case.isolation_start)} – "
                 f"{format_date(case.isolation_until)} ({case.isolation_place}; {_('quyết định số')} "
                 f"{case.isolation_decision})")
    doc.signer_title, doc.signer_name = _("NGƯỜI LÀM CÔNG TÁC BẢO VỆ TRẺ EM"), case.owner.display_name
    return doc


def _form_03(case: Case) -> Doc:
    # Decree 56/2017, Art. 27: collection of information and specific risk assessment (form 03), and
    # the minutes of the meeting chaired by the commune chairman (Art. 27(2), 28(2)(b)).
    _require(case.assessed_on is not None, _("Vụ việc chưa được đánh giá nguy cơ cụ thể (mẫu số 03)."))
    doc = Doc(_("BÁO CÁO"), subtitle=_("THU THẬP THÔNG TIN, ĐÁNH GIÁ NGUY CƠ CỤ THỂ"),
              number=_("%(c)s/BC-UBND") % {"c": case.code}, day=case.assessed_on)
    _child_lines(doc, case)
    doc.heading(_("1. Đánh giá nguy cơ cụ thể"))
    doc.para(case.assessment)
    doc.heading(_("2. Biên bản cuộc họp xác định nhu cầu cần hỗ trợ, can thiệp"))
    doc.para(case.meeting_minutes)
    doc.line(_("Hạn xây dựng kế hoạch hỗ trợ, can thiệp (Điều 28 khoản 1)"), case.plan_due_on)
    doc.signer_title, doc.signer_name = _("NGƯỜI LÀM CÔNG TÁC BẢO VỆ TRẺ EM"), case.owner.display_name
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
    # Decree 56/2017, Art. 28(1), (3): the plan the worker submits to the chairman (form 04).
    plan = _plan_of(case, approved=False)
    doc = Doc(_("KẾ HOẠCH"), subtitle=_("HỖ TRỢ, CAN THIỆP"), number=_("%(c)s/KH-%(n)s") % {
        "c": case.code, "n": plan.number}, day=plan.drafted_on)
    _child_lines(doc, case)
    doc.heading(_("1. Mục tiêu"))
    doc.para(plan.goal)
    doc.heading(_("2. Các dịch vụ, công việc cần thực hiện và phân công trách nhiệm"))
    _items_table(doc, plan)
    doc.line(_("Thời gian rà soát, đánh giá"), plan.review_on)
    doc.signer_title, doc.signer_name = _("NGƯỜI LÀM CÔNG TÁC BẢO VỆ TRẺ EM"), case.owner.display_name
    return doc


def _decision_heading(doc: Doc, case: Case, article: str) -> None:
    doc.para(_("CHỦ TỊCH ỦY BAN NHÂN DÂN %(u)s") % {"u": case.unit.name.upper()}, bold=True)
    doc.para(_("Căn cứ Luật Trẻ em ngày 05 tháng 4 năm 2016;"), italic=True)
    doc.para(_("Căn cứ Nghị định số 56/2017/NĐ-CP ngày 09 tháng 5 năm 2017 của Chính phủ quy định chi tiết "
               "một số điều của Luật Trẻ em (%(a)s);") % {"a": article}, italic=True)
    doc.para(_("Xét đề nghị của người làm công tác bảo vệ trẻ em cấp xã,"), italic=True)
    doc.para(_("QUYẾT ĐỊNH:"), bold=True)


def _form_05(case: Case) -> Doc:
    # Decree 56/2017, Art. 28(2)(c), (4): the chairman's decision approving the plan (form 05).
    plan = _plan_of(case, approved=True)
    _require(plan.approved_on is None or plan.review_on > plan.approved_on,
             _("Kế hoạch đặt ngày rà soát %(r)s, không sau ngày phê duyệt %(d)s: không in được quyết định phê "
               "duyệt; cần lập lại kế hoạch với ngày rà soát mới.") % {
                 "r": format_date(plan.review_on), "d": format_date(plan.approved_on)})
    doc = Doc(_("QUYẾT ĐỊNH"), subtitle=_("Về việc phê duyệt kế hoạch hỗ trợ, can thiệp"),
              number=plan.decision_number, day=plan.approved_on)
    _decision_heading(doc, case, _("Điều 28"))
    doc.para(_("Điều 1. Phê duyệt kế hoạch hỗ trợ, can thiệp đối với trẻ em %(n)s, sinh ngày %(b)s (hồ sơ %(c)s), "
               "với các dịch vụ, công việc sau:") % {"n": case.child.full_name,
                                                     "b": format_date(case.child.birth_date), "c": case.code})
    _items_table(doc, plan)
    doc.para(_("Điều 2. Người làm công tác bảo vệ trẻ em cấp xã chủ trì, phối hợp với các cơ quan, cá nhân có tên "
               "tại Điều 1 tổ chức thực hiện; rà soát, đánh giá vào ngày %(d)s.") % {"d": format_date(plan.review_on)})
    doc.para(_("Điều 3. Quyết định này có hiệu lực kể từ ngày ký."))
    doc.signer_title = _("CHỦ TỊCH")
    doc.signer_name = plan.approved_by.display_name if plan.approved_by else ""
    doc.recipients = [_("Như Điều 2;"), _("Cha, mẹ hoặc người chăm sóc trẻ em;"),
                      _("Lưu: VT, hồ sơ %(c)s.") % {"c": case.code}]
    return doc


# Decree 56/2017, annex, form 06, part 1(a): the three criteria and what each level means.
FORM_06_CRITERIA = [
    ("harm", gettext_lazy("1. Mức độ tổn hại của trẻ em có còn nghiêm trọng không"), {
        Rating.HIGH: gettext_lazy("tổn hại của trẻ em vẫn còn rất nghiêm trọng, ảnh hưởng đến sự phát triển của "
                                  "trẻ em"),
        Rating.MEDIUM: gettext_lazy("tổn hại của trẻ em còn ít nghiêm trọng"),
        Rating.LOW: gettext_lazy("tổn hại của trẻ em không còn nghiêm trọng")}),
    ("perpetrator_access", gettext_lazy("2. Khả năng tiếp cận trẻ em của đối tượng xâm hại"), {
        Rating.HIGH: gettext_lazy("đối tượng xâm hại vẫn có khả năng tiếp cận trẻ em và thường xuyên"),
        Rating.MEDIUM: gettext_lazy("đối tượng xâm hại có cơ hội tiếp cận trẻ em, nhưng không thường xuyên"),
        Rating.LOW: gettext_lazy("đối tượng xâm hại ít hoặc không có khả năng tiếp cận trẻ em")}),
    ("care_obstacles", gettext_lazy("3. Những trở ngại trong môi trường chăm sóc trẻ em đối với việc bảo đảm an "
                                    "toàn cho trẻ em"), {
        Rating.HIGH: gettext_lazy("môi trường chăm sóc vẫn có nhiều trở ngại đáng kể để bảo đảm an toàn cho trẻ em"),
        Rating.MEDIUM: gettext_lazy("có một vài trở ngại, nhưng trẻ em vẫn có được sự bảo vệ nhất định"),
        Rating.LOW: gettext_lazy("có ít hoặc không có trở ngại nào cho việc bảo vệ trẻ em")}),
]


def form_06_totals(review) -> dict[str, int]:
    """The "Tổng số" row of form 06: how many criteria were rated high, medium and low."""
    levels = [getattr(review, name) for name, _text, _meaning in FORM_06_CRITERIA]
    return {level: levels.count(level) for level in (Rating.HIGH, Rating.MEDIUM, Rating.LOW)}


def _form_06(case: Case) -> Doc:
    # Decree 56/2017, Art. 30(2) and annex form 06.
    review = case.reviews.first()
    _require(review is not None, _("Vụ việc chưa được rà soát, đánh giá (mẫu số 06)."))
    assert review is not None
    doc = Doc(_("RÀ SOÁT, ĐÁNH GIÁ TÌNH TRẠNG CỦA TRẺ EM SAU KHI THỰC HIỆN KẾ HOẠCH HỖ TRỢ, CAN THIỆP"),
              number=_("%(c)s/BC-UBND") % {"c": case.code}, day=review.reviewed_on)
    doc.line(_("Họ và tên trẻ em"), case.child.full_name)
    doc.line(_("Họ và tên cán bộ thực hiện"), review.reviewed_by.display_name)
    doc.line(_("Ngày, tháng, năm thực hiện"), review.reviewed_on)
    doc.heading(_("1. Đánh giá nguy cơ tại giai đoạn kết thúc"))
    doc.heading(_("a) Đánh giá mức độ tổn hại của trẻ em"))
    rows = []
    for name, criterion, meanings in FORM_06_CRITERIA:
        level = getattr(review, name)
        rows.append([str(criterion), f"{_label(Rating, level)} ({meanings[level]})"])
    totals = form_06_totals(review)
    rows.append([_("Tổng số"), _("Cao: %(h)s; Trung bình: %(m)s; Thấp: %(l)s") % {
        "h": totals[Rating.HIGH], "m": totals[Rating.MEDIUM], "l": totals[Rating.LOW]}])
    doc.table([_("Đánh giá mức độ tổn hại của trẻ em"), _("Mức độ (Cao, Trung bình, Thấp)")], rows)
    # Decree 56/2017, Art. 30(1)(b)–(c): propose ending the plan, or planning again.
    doc.line(_("Đề xuất"), _("Trình Chủ tịch Ủy ban nhân dân cấp xã kết thúc kế hoạch hỗ trợ, can thiệp")
             if review.recommend_close else _("Trình Chủ tịch Ủy ban nhân dân cấp xã tiếp tục quy trình xây dựng, "
                                             "phê duyệt kế hoạch hỗ trợ, can thiệp"))
    doc.para(review.note)
    if case.status == Status.CLOSED:
        doc.line(_("Kết quả đóng vụ việc"), _label(Outcome, case.outcome))
    doc.signer_title, doc.signer_name = _("NGƯỜI LÀM CÔNG TÁC BẢO VỆ TRẺ EM"), review.reviewed_by.display_name
    return doc


def _form_07(case: Case) -> Doc:
    # Decree 56/2017, Art. 32(2)–(3): the chairman's decision on temporary isolation (form 07).
    _require(case.isolation_start is not None, _("Vụ việc không có quyết định tạm thời cách ly (mẫu số 07)."))
    assert case.isolation_start is not None and case.isolation_until is not None
    doc = Doc(_("QUYẾT ĐỊNH"), subtitle=_("Về việc tạm thời cách ly trẻ em khỏi cha, mẹ, người chăm sóc trẻ em"),
              number=case.isolation_decision, day=case.isolation_start)
    _decision_heading(doc, case, _("Điều 32"))
    days = (case.isolation_until - case.isolation_start).days + 1
    doc.para(_("Điều 1. Tạm thời cách ly trẻ em %(n)s, sinh ngày %(b)s, khỏi cha, mẹ, người chăm sóc trẻ em từ ngày "
               "%(s)s đến ngày %(u)s (%(d)s ngày). Nơi tạm trú an toàn: %(p)s.") % {
        "n": case.child.full_name, "b": format_date(case.child.birth_date), "s": format_date(case.isolation_start),
        "u": format_date(case.isolation_until), "d": days, "p": case.isolation_place})
    if case.isolation_request_number:
        doc.para(_("Thời hạn cách ly quá 15 ngày theo văn bản đề nghị số %(n)s ngày %(d)s của %(b)s.") % {
            "n": case.isolation_request_number, "d": format_date(case.isolation_request_date),
            "b": case.isolation_request_body or _("cơ quan có thẩm quyền")})
    doc.para(_("Điều 2. Người làm công tác bảo vệ trẻ em cấp xã bố trí chăm sóc thay thế cho trẻ em trong thời gian "
               "cách ly; Chủ tịch Ủy ban nhân dân cấp xã hủy bỏ quyết định này khi cha, mẹ, người chăm sóc trẻ em "
               "được đánh giá bảo đảm điều kiện an toàn cho trẻ em."))
    doc.para(_("Điều 3. Quyết định này có hiệu lực kể từ ngày ký."))
    doc.signer_title = _("CHỦ TỊCH")
    decided = case.events.filter(kind="isolate").select_related("actor").order_by("-at").first()
    doc.signer_name = decided.actor.display_name if decided and decided.actor else ""
    doc.recipients = [_("Như Điều 2;"), _("Cha, mẹ, người chăm sóc trẻ em;"),
                      _("Lưu: VT, hồ sơ %(c)s.") % {"c": case.code}]
    return doc


BUILDERS = {"01": _form_01, "02": _form_02, "03": _form_03, "04": _form_04, "05": _form_05, "06": _form_06,
            "07": _form_07}


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

    # Decree 30/2020: issuing body top left (in full), the national motto top right on one line —
    # the right column is the wider one so "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" never wraps.
    header = word.add_table(rows=1, cols=2)
    header.alignment = WD_TABLE_ALIGNMENT.CENTER
    header.autofit = False
    left, right = header.rows[0].cells
    left.width, right.width = Mm(HEADER_LEFT_MM), Mm(HEADER_RIGHT_MM)
    p = left.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    for i, line in enumerate(issuing_body(case.unit)):
        if i:
            p = left.add_paragraph()
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        _font(p.add_run(line), size=12, bold=True)
    p = left.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(_("Số: %(n)s") % {"n": doc.number}), size=13)
    p = right.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(MOTTO), size=12, bold=True)
    p = right.add_paragraph()
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    _font(p.add_run(MOTTO_2), size=13, bold=True, underline=True)
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

    for warning in doc.warnings:
        _font(word.add_paragraph().add_run(warning), italic=True, bold=True)
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

CSS = f"""
@page {{ size: A4; margin: 20mm 15mm 20mm 30mm; }}
html, body, table, td, th, div, p, h1, h2, h3 {{ font-family: {PDF_FONTS}; }}
body {{ font-size: 13pt; line-height: 1.35; }}
table.head, table.foot {{ width: 100%; border: 0; border-collapse: collapse; table-layout: fixed; }}
table.head td, table.foot td {{ vertical-align: top; text-align: center; padding: 0; }}
td.issuer {{ width: {HEADER_LEFT_MM}mm; }} td.motto-cell {{ width: {HEADER_RIGHT_MM}mm; }}
.issuer-line, .motto, .motto2 {{ white-space: nowrap; font-weight: bold; }}
.issuer-line, .motto {{ font-size: 12pt; }} .motto2 {{ font-size: 13pt; }}
.rule {{ display: inline-block; border-bottom: 1px solid #000; width: 40%; margin: 1pt 0 3pt; }}
.motto2 {{ display: inline-block; border-bottom: 1px solid #000; }}
.date {{ font-style: italic; white-space: nowrap; }} h1 {{ font-size: 14pt; text-align: center; margin: 14pt 0 2pt; }}
h2 {{ font-size: 14pt; text-align: center; margin: 0 0 10pt; }} h3 {{ font-size: 13pt; margin: 8pt 0 2pt; }}
p {{ text-align: justify; margin: 3pt 0; }} table.grid {{ border-collapse: collapse; width: 100%; font-size: 12pt; }}
table.grid td, table.grid th {{ border: 1px solid #000; padding: 2pt 4pt; text-align: left; vertical-align: top; }}
.recipients {{ font-size: 11pt; text-align: left; }} .sign {{ height: 60pt; }}
.warning {{ font-weight: bold; font-style: italic; }}
"""


def _to_html(doc: Doc, case: Case) -> str:
    e = html.escape
    issuer = "".join(f"<div class='issuer-line'>{e(line)}</div>" for line in issuing_body(case.unit))
    # A standards-mode document: in quirks mode tables do not inherit the body's font, and WeasyPrint
    # then sets their text in its default serif (DejaVu) — two families on one page.
    parts = [f"<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'><style>{CSS}</style></head><body>",
             f"<table class='head'><tr><td class='issuer'>{issuer}<div class='rule'></div><div>",
             e(_("Số: %(n)s") % {"n": doc.number}), "</div></td><td class='motto-cell'>",
             f"<div class='motto'>{MOTTO}</div><div class='motto2'>{MOTTO_2}</div><div class='date'>",
             e(_long_date(case.unit, doc.day or timezone.localdate())), "</div></td></tr></table>",
             f"<h1>{e(doc.title.upper())}</h1>"]
    if doc.subtitle:
        parts.append(f"<h2>{e(doc.subtitle)}</h2>")
    parts.extend(f"<p class='warning'>{e(w)}</p>" for w in doc.warnings)
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
