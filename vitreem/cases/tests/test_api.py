"""The API: the whole path of a case, scope and audit, bad input, wrong method."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.utils import timezone

from conftest import login
from vitreem.cases.models import Case, CaseEvent, Status
from vitreem.core.models import AuditEntry

from .conftest import intake

pytestmark = pytest.mark.django_db


def post(client, url, body):
    return client.post(url, json.dumps(body, default=str), content_type="application/json")


def test_whole_path_through_the_api(worker_a, chairman_a, child_a):
    w, c = login(worker_a), login(chairman_a)
    today = timezone.localdate()
    r = post(w, "/api/cases/", {"received_at": timezone.now().isoformat(), "channel": "hotline_111",
                                "place": "Thôn 2", "concern": "sexual_abuse", "summary": "Tổng đài 111 chuyển tin",
                                "child_id": child_a.pk, "reporter_anonymous": True, "in_danger": True})
    assert r.status_code == 201, r.content
    case = r.json()
    cid = case["id"]
    assert case["next_due_kind"] == "emergency" and case["child"] == "Nguyễn Thị Hoa"
    steps = [
        (w, "emergency", {"done_at": timezone.now().isoformat(), "action": "Đưa trẻ đến trạm y tế"}),
        (w, "verify", {"verified_on": today, "findings": "Có dấu hiệu xâm hại"}),
        (w, "assess", {"assessed_on": today, "assessment": "Nguy cơ cao", "meeting_minutes": "Họp liên ngành"}),
        (w, "plan", {"drafted_on": today, "goal": "An toàn", "review_on": today + dt.timedelta(days=20),
                     "items": [{"kind": "legal", "description": "Trợ giúp pháp lý", "responsible": "Sở Tư pháp",
                                "due_on": today + dt.timedelta(days=5)}]}),
        (c, "approve", {"decision_number": "15/QĐ-UBND", "approved_on": today}),
        (w, "review", {"reviewed_on": today, "harm": "low", "perpetrator_access": "low", "care_obstacles": "low",
                       "recommend_close": True}),
        (c, "close", {"outcome": "resolved"}),
    ]
    for client, name, body in steps:
        r = post(client, f"/api/cases/{cid}/{name}", {**body, "version": case["version"]})
        assert r.status_code == 200, (name, r.content)
        case = r.json()
    assert case["status"] == Status.CLOSED
    assert [e["kind"] for e in case["events"]][-1] == "close"
    r = w.get(f"/api/cases/{cid}/documents/05")
    assert r.status_code == 200 and r["Content-Type"].startswith("application/vnd.openxmlformats")


def test_get_writes_an_access_row_and_list_masks_nothing_for_the_worker(worker_a, case_a):
    w = login(worker_a)
    before = AuditEntry.objects.filter(kind="access", object_id=str(case_a.pk)).count()
    assert w.get(f"/api/cases/{case_a.pk}").status_code == 200
    assert AuditEntry.objects.filter(kind="access", object_id=str(case_a.pk)).count() == before + 1
    body = w.get("/api/cases/").json()
    assert body["count"] == 1 and body["items"][0]["child"] == "Nguyễn Thị Hoa"


def test_supervisor_sees_initials_on_lists_and_the_case_in_full(supervisor, case_a):
    s = login(supervisor)
    assert s.get("/api/cases/").json()["items"][0]["child"] == "N. T. H."
    assert s.get(f"/api/cases/{case_a.pk}").json()["child"] == "Nguyễn Thị Hoa"


@pytest.mark.parametrize("persona", ["worker_b", "outsider", "leader", "reporter", "agency_user", "chairman_b"])
def test_no_access_outside_the_circle(request, persona, case_a):
    client = login(request.getfixturevalue(persona))
    assert client.get("/api/cases/").json()["count"] == 0
    assert client.get(f"/api/cases/{case_a.pk}").status_code == 404
    assert client.get(f"/api/cases/{case_a.pk}/documents/01").status_code == 404
    r = post(client, f"/api/cases/{case_a.pk}/verify", {"verified_on": timezone.localdate(), "findings": "x"})
    assert r.status_code == 404
    assert client.get("/api/cases/overdue").json()["overdue"] == []
    case_a.refresh_from_db()
    assert case_a.status == Status.RECEIVED


def test_referral_agency_sees_the_case_only_while_the_referral_is_open(worker_a, agency_user, police, case_a):
    a, w = login(agency_user), login(worker_a)
    assert a.get(f"/api/cases/{case_a.pk}").status_code == 404
    r = post(w, f"/api/cases/{case_a.pk}/referrals", {"member_unit_id": police.pk, "reason": "Điều tra",
                                                       "guardian_consent": True, "child_consent": True})
    assert r.status_code == 200, r.content
    rid = r.json()["referrals"][0]["id"]
    assert a.get(f"/api/cases/{case_a.pk}").status_code == 200
    assert a.get("/api/cases/").json()["count"] == 1
    # The agency can read but not work the case.
    r = post(a, f"/api/cases/{case_a.pk}/verify", {"verified_on": timezone.localdate(), "findings": "x"})
    assert r.status_code == 403
    r = post(a, f"/api/cases/{case_a.pk}/referrals/{rid}/close", {"result": "Đã lấy lời khai"})
    assert r.status_code == 200, r.content
    assert a.get(f"/api/cases/{case_a.pk}").status_code == 404
    assert a.get("/api/cases/").json()["count"] == 0


def test_referral_without_consent_is_refused(worker_a, police, case_a):
    r = post(login(worker_a), f"/api/cases/{case_a.pk}/referrals",
             {"member_unit_id": police.pk, "reason": "Điều tra", "guardian_consent": False})
    assert r.status_code == 400 and r.json()["code"] == "validation_error"
    assert "guardian_consent" in r.json()["errors"]
    assert not case_a.referrals.exists()


def test_out_of_order_and_stale_edit(worker_a, chairman_a, case_a):
    c, w = login(chairman_a), login(worker_a)
    r = post(c, f"/api/cases/{case_a.pk}/close", {"outcome": "resolved"})
    assert r.status_code == 409 and r.json()["code"] == "out_of_order"
    r = post(c, f"/api/cases/{case_a.pk}/approve", {"decision_number": "1", "approved_on": timezone.localdate()})
    assert r.status_code == 409 and "kế hoạch" in r.json()["message"]
    v = case_a.version
    r = w.patch(f"/api/cases/{case_a.pk}", json.dumps({"version": v, "place": "Chợ"}), content_type="application/json")
    assert r.status_code == 200 and r.json()["place"] == "Chợ"
    r = w.patch(f"/api/cases/{case_a.pk}", json.dumps({"version": v, "place": "Rẫy"}), content_type="application/json")
    assert r.status_code == 409 and r.json()["code"] == "conflict" and "người khác" in r.json()["message"]
    case_a.refresh_from_db()
    assert case_a.place == "Chợ"


def test_intake_bad_input_is_400_and_writes_nothing(worker_a, child_a):
    r = post(login(worker_a), "/api/cases/", {"received_at": timezone.now().isoformat(), "channel": "pigeon",
                                              "place": "", "concern": "x", "summary": "", "child_id": child_a.pk})
    assert r.status_code == 400
    assert {"channel", "place", "concern", "summary"} <= set(r.json()["errors"])
    assert not Case.objects.exists()


def test_intake_possible_duplicate_is_409_with_candidates(worker_a, child_a):
    body = {"received_at": timezone.now().isoformat(), "channel": "police", "place": "x", "concern": "neglect",
            "summary": "y", "reporter_anonymous": True,
            "new_child": {"full_name": "Nguyễn Thị Hoa", "birth_date": "2014-03-02", "sex": "F"}}
    r = post(login(worker_a), "/api/cases/", body)
    assert r.status_code == 409 and r.json()["candidates"]
    assert not Case.objects.exists()


def test_wrong_method(worker_a, case_a):
    w = login(worker_a)
    assert w.delete(f"/api/cases/{case_a.pk}").status_code == 405
    assert w.get(f"/api/cases/{case_a.pk}/verify").status_code == 405


def test_attachments_limits(worker_a, case_a, settings):
    w = login(worker_a)
    settings.VITREEM_CASE_ATTACHMENT_MAX_BYTES = 1000
    events = CaseEvent.objects.count()
    big = io.BytesIO(b"%PDF-1.4 " + b"x" * 2000)
    big.name = "scan.pdf"
    r = w.post(f"/api/cases/{case_a.pk}/attachments", {"file": big})
    assert r.status_code == 400 and "quá lớn" in r.json()["message"]
    exe = io.BytesIO(b"MZ\x90\x00binary")
    exe.name = "virus.exe"
    r = w.post(f"/api/cases/{case_a.pk}/attachments", {"file": exe})
    assert r.status_code == 400 and "không được phép" in r.json()["message"]
    fake = io.BytesIO(b"MZ\x90\x00 not a pdf")
    fake.name = "renamed.pdf"
    assert w.post(f"/api/cases/{case_a.pk}/attachments", {"file": fake}).status_code == 400
    assert CaseEvent.objects.count() == events and not case_a.attachments.exists()
    good = io.BytesIO(b"%PDF-1.4 ok")
    good.name = "bien-ban.pdf"
    r = w.post(f"/api/cases/{case_a.pk}/attachments", {"file": good})
    assert r.status_code == 201
    stored = case_a.attachments.get()
    assert stored.file.path.startswith(str(settings.MEDIA_ROOT)) and stored.file.read() == b"%PDF-1.4 ok"


def test_overdue_endpoint(worker_a, child_a):
    case = intake(worker_a, child_a, in_danger=True, received_at=timezone.now() - dt.timedelta(hours=13))
    body = login(worker_a).get("/api/cases/overdue?mine=true").json()
    assert [c["id"] for c in body["overdue"]] == [case.pk]
