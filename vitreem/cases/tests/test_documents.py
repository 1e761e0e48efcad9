"""Forms 01–07 of Decree 56/2017's annex, opened and read back: .docx with python-docx, .pdf with pypdf
(its fonts and its text lines). Layout rules from Decree 30/2020 on clerical work."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone
from docx import Document
from pypdf import PdfReader

from vitreem.cases import services
from vitreem.cases.documents import FORMS, document_build, document_render, issue_date
from vitreem.cases.models import Plan
from vitreem.cases.services import OutOfOrder

from .conftest import advance_to_implementing, intake


@pytest.mark.parametrize(("day", "text"), [
    (dt.date(2026, 3, 5), "ngày 05 tháng 3 năm 2026"),
    (dt.date(2026, 2, 14), "ngày 14 tháng 02 năm 2026"),
    (dt.date(2026, 1, 1), "ngày 01 tháng 01 năm 2026"),
    (dt.date(2026, 12, 25), "ngày 25 tháng 12 năm 2026"),
    (dt.date(2026, 10, 9), "ngày 09 tháng 10 năm 2026"),
])
def test_decree_30_date_a_leading_zero_only_for_days_under_10_and_months_1_2(day, text):
    assert issue_date(day) == text


@pytest.fixture
def full_case(worker_a, chairman_a, child_a):
    """A case that has been through every step, isolation included, so every form can be printed."""
    today = timezone.localdate()
    case = intake(worker_a, child_a, in_danger=True)
    services.case_isolate(actor=chairman_a, case=case, expected_version=None, start=today,
                          until=today + dt.timedelta(days=20), place="Nhà bà ngoại", decision_number="21/QĐ-UBND",
                          request_number="45/CV-CAH", request_date=today, request_body="Công an huyện Đăk Hà")
    case = advance_to_implementing(case, worker_a, chairman_a)
    services.case_review(actor=worker_a, case=case, expected_version=None, reviewed_on=today, harm="high",
                         perpetrator_access="low", care_obstacles="medium", recommend_close=False)
    case.refresh_from_db()
    return case


def _docx_text(content: bytes) -> tuple[list[str], str]:
    word = Document(io.BytesIO(content))
    head = [cell.text for cell in word.tables[0].rows[0].cells]
    body = "\n".join(p.text for p in word.paragraphs)
    body += "\n" + "\n".join(cell.text for table in word.tables[1:] for row in table.rows for cell in row.cells)
    return head, body


TITLES = {
    "01": ("BÁO CÁO", "TIẾP NHẬN THÔNG TIN TRẺ EM BỊ XÂM HẠI HOẶC CÓ NGUY CƠ BỊ BẠO LỰC, BÓC LỘT, BỎ RƠI"),
    "02": ("BÁO CÁO", "ĐÁNH GIÁ NGUY CƠ BAN ĐẦU, MỨC ĐỘ TỔN HẠI CỦA TRẺ EM"),
    "03": ("BÁO CÁO", "THU THẬP THÔNG TIN, ĐÁNH GIÁ NGUY CƠ CỤ THỂ"),
    "04": ("KẾ HOẠCH", "HỖ TRỢ, CAN THIỆP"),
    "05": ("QUYẾT ĐỊNH", "Về việc phê duyệt kế hoạch hỗ trợ, can thiệp"),
    "06": ("RÀ SOÁT, ĐÁNH GIÁ TÌNH TRẠNG CỦA TRẺ EM SAU KHI THỰC HIỆN KẾ HOẠCH HỖ TRỢ, CAN THIỆP", ""),
    "07": ("QUYẾT ĐỊNH", "Về việc tạm thời cách ly trẻ em khỏi cha, mẹ, người chăm sóc trẻ em"),
}


def test_forms_01_to_07_carry_the_decree_titles_and_the_issuing_body_in_full(full_case):
    assert set(FORMS) == set(TITLES)
    issued = timezone.localdate()
    for form, (title, subtitle) in TITLES.items():
        content, filename, _ = document_render(case=full_case, form=form, fmt="docx")
        assert filename == f"{full_case.code}-mau-{form}.docx"
        head, body = _docx_text(content)
        # Decree 30/2020: the issuing body in full, never "UBND …"; the motto and the padded date.
        assert head[0].startswith("ỦY BAN NHÂN DÂN\nTHỊ TRẤN ĐĂK HÀ") or head[0].startswith("ỦY BAN NHÂN DÂN\nXÃ ĐĂK HÀ")
        assert "UBND" not in head[0].split("Số:")[0]
        assert head[1].startswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc\n")
        doc = document_build(case=full_case, form=form)
        assert doc.title == title and doc.subtitle == subtitle
        assert title in body and subtitle in body
        if form in ("02", "03", "04", "05", "06"):
            assert issue_date(issued) in head[1]


def test_form_06_rates_the_three_criteria_as_the_annex_does(full_case):
    content, _, _ = document_render(case=full_case, form="06", fmt="docx")
    _, body = _docx_text(content)
    assert "1. Mức độ tổn hại của trẻ em có còn nghiêm trọng không" in body
    assert "Cao (tổn hại của trẻ em vẫn còn rất nghiêm trọng, ảnh hưởng đến sự phát triển của trẻ em)" in body
    assert "Thấp (đối tượng xâm hại ít hoặc không có khả năng tiếp cận trẻ em)" in body
    assert "Trung bình (có một vài trở ngại, nhưng trẻ em vẫn có được sự bảo vệ nhất định)" in body
    assert "Cao: 1; Trung bình: 1; Thấp: 1" in body
    assert "tiếp tục quy trình xây dựng, phê duyệt kế hoạch" in body


def test_form_07_is_the_chairmans_isolation_decision(full_case, worker_a, child_a):
    content, _, _ = document_render(case=full_case, form="07", fmt="docx")
    _, body = _docx_text(content)
    start = full_case.isolation_start
    assert f"từ ngày {start:%d/%m/%Y} đến ngày {full_case.isolation_until:%d/%m/%Y} (21 ngày)" in body
    assert "theo văn bản đề nghị số 45/CV-CAH" in body and "Công an huyện Đăk Hà" in body
    assert "Điều 32" in body and "Số: 21/QĐ-UBND" in _docx_text(content)[0][0]
    with pytest.raises(OutOfOrder):
        document_render(case=intake(worker_a, child_a), form="07", fmt="docx")


def test_form_05_is_refused_for_a_plan_reviewed_before_its_decision(worker_a, chairman_a, case_a):
    case = advance_to_implementing(case_a, worker_a, chairman_a)
    plan = case.plans.get(status=Plan.State.APPROVED)
    # Data from before the service refused it: a review date a year before the decision.
    Plan.objects.filter(pk=plan.pk).update(review_on=plan.approved_on - dt.timedelta(days=365))
    with pytest.raises(OutOfOrder) as exc:
        document_render(case=case, form="05", fmt="pdf")
    assert "ngày rà soát" in exc.value.message


def _pdf_fonts(reader: PdfReader) -> set[str]:
    fonts: set[str] = set()
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            fonts.add(str(font.get_object()["/BaseFont"]).split("+", 1)[-1])
    return fonts


@pytest.mark.parametrize("form", ["01", "05", "06", "07"])
def test_pdf_uses_one_font_family_and_the_header_does_not_wrap(full_case, form):
    content, _, content_type = document_render(case=full_case, form=form, fmt="pdf")
    assert content_type == "application/pdf"
    reader = PdfReader(io.BytesIO(content))
    fonts = _pdf_fonts(reader)
    assert fonts and all(f.replace("-", "").startswith(("LiberationSerif", "TimesNewRoman")) for f in fonts), fonts
    lines = [line.strip() for line in reader.pages[0].extract_text().splitlines()]
    # The motto on one line (with the issuing body's first line beside it), the issuing body's two
    # lines whole.
    assert any("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in line for line in lines), lines[:6]
    assert not any(line.endswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT") for line in lines)
    assert any(line.startswith("ỦY BAN NHÂN DÂN") for line in lines)
    assert any("THỊ TRẤN ĐĂK HÀ" in line or "XÃ ĐĂK HÀ" in line for line in lines[:4]), lines[:6]
