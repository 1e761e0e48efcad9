"""The screens: the whole path of a case through the forms, permissions, documents, counts."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from docx import Document

from conftest import login
from vitreem.cases.models import Case, CaseEvent, Status
from vitreem.core.models import AuditEntry

from .conftest import advance_to_implementing, intake

pytestmark = pytest.mark.django_db


def test_whole_path_through_the_screens(worker_a, chairman_a, child_a):
    w, c = login(worker_a), login(chairman_a)
    today = timezone.localdate().isoformat()
    assert w.get("/cases/new/").status_code == 200
    r = w.post("/cases/new/", {"received_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
                               "channel": "hotline_111", "child": child_a.pk, "concern": "physical_violence",
                               "place": "Thôn 1", "perpetrator": "parent", "summary": "Trẻ bị đánh",
                               "reporter_name": "Ông Tâm", "in_danger": "on"})
    assert r.status_code == 302, r.content.decode()[:2000]
    case = Case.objects.get()
    url = f"/cases/{case.pk}/"
    assert r["Location"] == url

    def act(client, name, data):
        case.refresh_from_db()
        resp = client.post(f"{url}do/{name}/", {"version": case.version, **data})
        assert resp.status_code == 302, (name, resp.content.decode()[:3000])

    act(w, "emergency", {"done_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"), "action": "Tách trẻ khỏi cha"})
    act(w, "verify", {"verified_on": today, "findings": "Có thật", "founded": "1"})
    act(w, "assess", {"assessed_on": today, "assessment": "Cần hỗ trợ", "meeting_minutes": "Đã họp"})
    act(w, "plan", {"drafted_on": today, "goal": "An toàn", "review_on": "2099-01-01", "item_1_kind": "medical",
                    "item_1_description": "Khám", "item_1_responsible": "Trạm y tế", "item_1_due_on": today})
    page = c.get(url).content.decode()
    assert "Phê duyệt kế hoạch" in page
    act(c, "approve", {"decision_number": "9/QĐ-UBND", "approved_on": today})
    act(w, "review", {"reviewed_on": today, "harm": "low", "perpetrator_access": "low", "care_obstacles": "low",
                      "recommend_close": "on"})
    act(c, "close", {"outcome": "resolved"})
    case.refresh_from_db()
    assert case.status == Status.CLOSED
    page = w.get(url).content.decode()
    assert "Đã đóng" in page and "Mở lại" in page


def test_case_page_audits_access_and_shows_the_timeline(worker_a, case_a):
    before = AuditEntry.objects.filter(kind="access").count()
    page = login(worker_a).get(f"/cases/{case_a.pk}/").content.decode()
    assert "Nguyễn Thị Hoa" in page and "Tiếp nhận thông tin" in page
    # the step the case moved to is named as the page names steps, not by its code (issue 21 item 6)
    assert f"→ <em>{Status.RECEIVED.label}</em>" in page and "→ <em>received</em>" not in page
    assert AuditEntry.objects.filter(kind="access").count() == before + 1


@pytest.mark.parametrize("persona", ["worker_b", "outsider", "agency_user", "chairman_b"])
def test_pages_of_the_case_are_closed_to_outsiders(request, persona, case_a):
    client = login(request.getfixturevalue(persona))
    for url in (f"/cases/{case_a.pk}/", f"/cases/{case_a.pk}/edit/", f"/cases/{case_a.pk}/documents/01.docx"):
        assert client.get(url).status_code == 404, url
    r = client.post(f"/cases/{case_a.pk}/do/verify/", {"verified_on": "2025-01-01", "findings": "x"})
    assert r.status_code == 404
    assert "Nguyễn" not in client.get("/cases/?mine=0").content.decode()
    case_a.refresh_from_db()
    assert case_a.status == Status.RECEIVED


@pytest.mark.parametrize("persona", ["leader", "reporter"])
def test_leaders_and_reporters_see_counts_only(request, persona, case_a):
    client = login(request.getfixturevalue(persona))
    assert client.get("/cases/").status_code == 302
    assert client.get(f"/cases/{case_a.pk}/").status_code == 404
    page = client.get("/cases/stats/").content.decode()
    assert "Số vụ việc tiếp nhận" in page and "Nguyễn" not in page


def test_referral_agency_pages_before_and_after_the_referral(worker_a, agency_user, police, case_a):
    from vitreem.cases import services

    a = login(agency_user)
    assert a.get(f"/cases/{case_a.pk}/").status_code == 404
    ref = services.referral_open(actor=worker_a, case=case_a, expected_version=None, member_unit=police,
                                 reason="Điều tra", guardian_consent=True, child_consent=True)
    page = a.get(f"/cases/{case_a.pk}/").content.decode()
    assert "đang được chuyển gửi" in page
    assert a.get(f"/cases/{case_a.pk}/documents/01.docx").status_code == 200
    case_a.refresh_from_db()
    r = a.post(f"/cases/{case_a.pk}/do/referral_close/", {"version": case_a.version, "referral_id": ref.pk,
                                                          "result": "Xong"})
    assert r.status_code == 302
    assert a.get(f"/cases/{case_a.pk}/").status_code == 404


def test_bad_step_rerenders_with_the_message_and_saves_nothing(worker_a, chairman_a, case_a):
    c = login(chairman_a)
    events = CaseEvent.objects.count()
    r = c.post(f"/cases/{case_a.pk}/do/close/", {"version": case_a.version, "outcome": "resolved"})
    assert r.status_code == 409 and "rà soát" in r.content.decode()
    r = login(worker_a).post(f"/cases/{case_a.pk}/do/referral/", {"version": case_a.version, "reason": "x",
                                                                   "member_unit": ""})
    assert r.status_code == 400
    assert CaseEvent.objects.count() == events


def test_stale_edit_on_the_screen(worker_a, case_a):
    w = login(worker_a)
    form = {"version": case_a.version, "channel": "police", "concern": "neglect", "place": "Chợ", "perpetrator":
            "unknown", "summary": "Sửa", "reporter_name": "Bà Lan"}
    assert w.post(f"/cases/{case_a.pk}/edit/", form).status_code == 302
    r = w.post(f"/cases/{case_a.pk}/edit/", {**form, "place": "Rẫy"})
    assert r.status_code == 409 and "người khác thay đổi" in r.content.decode()
    case_a.refresh_from_db()
    assert case_a.place == "Chợ"


def test_attachment_upload_limits_and_download(worker_a, worker_b, case_a, settings):
    settings.VITREEM_CASE_ATTACHMENT_MAX_BYTES = 100
    w = login(worker_a)
    r = w.post(f"/cases/{case_a.pk}/attachments/", {"file": SimpleUploadedFile("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 200)})
    assert r.status_code == 400 and "quá lớn" in r.content.decode()
    r = w.post(f"/cases/{case_a.pk}/attachments/", {"file": SimpleUploadedFile("a.sh", b"#!/bin/sh")})
    assert r.status_code == 400
    assert not case_a.attachments.exists()
    r = w.post(f"/cases/{case_a.pk}/attachments/", {"file": SimpleUploadedFile("anh.png", b"\x89PNG\r\n\x1a\nxx")})
    assert r.status_code == 302
    att = case_a.attachments.get()
    r = w.get(f"/cases/{case_a.pk}/attachments/{att.pk}/")
    assert r.status_code == 200 and b"".join(r.streaming_content).startswith(b"\x89PNG")
    assert login(worker_b).get(f"/cases/{case_a.pk}/attachments/{att.pk}/").status_code == 404


def test_documents_are_filled_in_vietnamese_administrative_style(worker_a, chairman_a, case_a):
    case = advance_to_implementing(case_a, worker_a, chairman_a)
    w = login(worker_a)
    r = w.get(f"/cases/{case.pk}/documents/05.docx")
    assert r.status_code == 200
    doc = Document(io.BytesIO(r.content))
    head = doc.tables[0].rows[0].cells
    assert head[0].text.startswith("ỦY BAN NHÂN DÂN") and "Số: 12/QĐ-UBND" in head[0].text
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in head[1].text and "Độc lập - Tự do - Hạnh phúc" in head[1].text
    assert "ngày" in head[1].text and "tháng" in head[1].text
    title = next(p for p in doc.paragraphs if p.text == "QUYẾT ĐỊNH")
    assert title.runs[0].bold and title.runs[0].font.name == "Times New Roman"
    body = "\n".join(p.text for p in doc.paragraphs)
    assert "Nguyễn Thị Hoa" in body and "Nghị định số 56/2017/NĐ-CP" in body
    items = doc.tables[1]
    assert items.rows[1].cells[2].text == "Tư vấn tâm lý"
    for form in ("01", "02", "03", "04"):
        assert w.get(f"/cases/{case.pk}/documents/{form}.docx").status_code == 200
    # Form 06 before any review: refused with a message, back to the case page.
    assert w.get(f"/cases/{case.pk}/documents/06.docx").status_code == 302
    pdf = w.get(f"/cases/{case.pk}/documents/05.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert AuditEntry.objects.filter(kind="access", action="print:05").exists()


def test_lists_filters_and_query_count(worker_a, supervisor, child_a, django_assert_max_num_queries):
    for i in range(5):
        intake(worker_a, child_a, concern="neglect" if i % 2 else "child_marriage")
    s = login(supervisor)
    with django_assert_max_num_queries(20):
        page = s.get("/cases/?mine=0&concern=child_marriage").content.decode()
    assert page.count("VV-") == 3 and "N. T. H." in page and "Nguyễn Thị Hoa" not in page
    assert "VV-" in login(worker_a).get("/cases/").content.decode()


def test_the_province_list_s_filters_are_built_once_and_keep_the_choice(worker_a, supervisor, child_a, units,
                                                                        django_assert_num_queries):
    """The commune filter of a province-wide user (every commune of both versions) is read once per process
    while the unit tree is unchanged; the chosen commune and ethnicity stay selected; the table's labels are
    the choices' (in the page's language)."""
    from vitreem.cases.selectors import _COMMUNE_CHOICES

    intake(worker_a, child_a, concern="child_marriage")
    s = login(supervisor)
    _COMMUNE_CHOICES.clear()
    url = f"/cases/?mine=0&unit={units.commune_a_2025.pk}&ethnicity=01"
    first = s.get(url).content.decode()
    assert f'<option value="{units.commune_a_2025.pk}" selected>{units.commune_a_2025.name} (từ 7/2025)</option>' in first
    assert f'<option value="{units.commune_b_2025.pk}">' in first
    assert '<option value="01" selected>Kinh</option>' in first
    assert "Tảo hôn" in first and "Tiếp nhận" in first
    with django_assert_num_queries(8):
        again = s.get(url).content.decode()
    assert again.count("<option") == first.count("<option")
    english = s.get(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert f"{units.commune_a_2025.name} (from 7/2025)" in english and "Child marriage" in english


def test_overdue_page_and_home_panel(worker_a, child_a):
    case = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=14))
    w = login(worker_a)
    assert case.code in w.get("/cases/overdue/").content.decode()
    home = w.get("/").content.decode()
    assert "Vụ việc cần xử lý" in home and case.code in home


def test_notifications_once_per_deadline(worker_a, child_a, mailoutbox):
    from vitreem.cases.models import Notification
    from vitreem.cases.notifications import deadline_notifications_send

    worker_a.email = "worker@example.org"
    worker_a.save()
    intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=13))
    intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=1))
    assert deadline_notifications_send() == {"created": 2, "emailed": 2}
    assert deadline_notifications_send() == {"created": 0, "emailed": 0}
    kinds = sorted(Notification.objects.values_list("kind", flat=True))
    assert kinds == ["due_soon", "overdue"] and len(mailoutbox) == 2
    assert "Nguyễn" not in mailoutbox[0].body


def test_wrong_method_on_screens(worker_a, case_a):
    w = login(worker_a)
    assert w.get(f"/cases/{case_a.pk}/do/verify/").status_code == 405
    assert w.post(f"/cases/{case_a.pk}/").status_code == 405


def test_the_home_panel_counts_every_overdue_case_and_says_whose(worker_a, child_a):
    """Issue 21 item 4: "Quá hạn (10)" stood under a headline of 13 overdue cases."""
    cases = [intake(worker_a, child_a) for _ in range(12)]
    Case.objects.filter(pk__in=[c.pk for c in cases]).update(next_due_at=timezone.now() - dt.timedelta(hours=2),
                                                             next_due_kind="emergency")
    page = login(worker_a).get("/").content.decode()
    assert "Vụ việc bạn phụ trách đã quá hạn (12)" in page
    panel = page[page.index("Vụ việc bạn phụ trách đã quá hạn"):page.index("Vụ việc bạn phụ trách sắp đến hạn")]
    assert panel.count("/cases/") == 10 and "10 vụ việc đầu tiên." in panel


def test_the_home_lists_in_one_query_are_those_of_the_overdue_page(worker_a, officer, child_a,
                                                                    django_assert_num_queries):
    """cases_due_first: the first cases overdue and due soon, with their counts, in one query — the same
    cases, in the same order, as cases_overdue and cases_due_soon."""
    from vitreem.cases.selectors import cases_due_first, cases_due_soon, cases_overdue
    from vitreem.core.scope import scope_for

    now = timezone.now()
    cases = [intake(worker_a, child_a) for _ in range(15)]
    due = [now - dt.timedelta(hours=h) for h in (5, 1, 3, 2, 9, 7, 4)] + [now + dt.timedelta(hours=h)
                                                                           for h in (30, 2, 47, 5, 60)]
    for case, at in zip(cases, due, strict=False):
        Case.objects.filter(pk=case.pk).update(next_due_at=at, next_due_kind="emergency")
    Case.objects.filter(pk=cases[0].pk).update(status=Status.CLOSED)  # closed: on neither list
    for user in (worker_a, officer):
        scope_for(user)  # read once per request, before any list
        for first in (3, 10):
            with django_assert_num_queries(1):
                got = cases_due_first(user=user, now=now, first=first)
            overdue, soon = cases_overdue(user=user, now=now), cases_due_soon(user=user, now=now)
            assert [c.pk for c in got["overdue"][0]] == [c.pk for c in overdue[:first]]
            assert [c.pk for c in got["due_soon"][0]] == [c.pk for c in soon[:first]]
            assert (got["overdue"][1], got["due_soon"][1]) == (overdue.count(), soon.count()) == (6, 4)
