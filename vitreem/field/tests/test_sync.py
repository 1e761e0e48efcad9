"""Sync of the changes a worker made offline: applied through the screens' services, idempotent by
change id, never silently overwriting (conflicts), duplicates to review, the recorded time kept and
audited, a wrong phone clock detected. Real database, real services, the API as the phone calls it."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.utils import timezone

from conftest import login
from vitreem.activities.models import Activity, Participant, RecreationChild
from vitreem.cases.models import Case, CaseEvent
from vitreem.core.models import AuditEntry
from vitreem.field.models import FieldChange
from vitreem.registry.models import Child, ChildRisk, Guardian
from vitreem.registry.services import child_end, child_update

from .conftest import change, push, results

pytestmark = pytest.mark.django_db


def _sync_rows(change_id: str):
    return AuditEntry.objects.filter(kind=AuditEntry.Kind.CHANGE, changes__sync__change_id=change_id)


def test_two_children_and_an_assessment_offline_are_registered_audited_once_with_their_times(worker_a, units):
    client = login(worker_a)
    recorded = timezone.now() - dt.timedelta(hours=6)
    first = change("child.register", recorded_at=recorded,
                   data={"full_name": "Rơ Châm Thị Hương", "birth_date": "2017-04-09", "sex": "F", "village": "Thôn 3",
                         "ethnicity": "29", "guardians": [{"full_name": "Rơ Châm Ly", "relationship": "mother"}]})
    second = change("child.register", recorded_at=recorded + dt.timedelta(minutes=20),
                    data={"full_name": "A Khánh", "birth_date": "2019-11-30", "sex": "M", "schooling": "not_school_age"})
    risk = change("risk.assess", recorded_at=recorded + dt.timedelta(minutes=25),
                  target={"child": f"local:{first['id']}"}, data={"factors": ["parents_away"], "note": "Nhà xa trường"})
    answer = push(client, [first, second, risk])
    assert results(answer) == ["applied", "applied", "applied"], answer
    hương = Child.objects.get(pk=answer["results"][0]["result"]["child"])
    assert hương.full_name == "Rơ Châm Thị Hương" and hương.unit == units.commune_a_2025 and hương.source == "field"
    assert hương.guardians.get().full_name == "Rơ Châm Ly"
    assert Child.objects.filter(full_name="A Khánh", unit=units.commune_a_2025).count() == 1
    risk_row = ChildRisk.objects.get(child=hương)
    assert risk_row.factor.code == "parents_away" and risk_row.start == timezone.localdate(recorded + dt.timedelta(minutes=25))
    # Audited once each, with the time recorded on the phone and the time synced.
    for sent in (first, second, risk):
        rows = list(_sync_rows(sent["id"]))
        assert len(rows) == 1, sent["kind"]
        sync = rows[0].changes["sync"]
        assert sync["recorded_at"] == sent["recorded_at"] and sync["synced_at"] and rows[0].actor == worker_a
        assert dt.datetime.fromisoformat(sync["synced_at"]) > dt.datetime.fromisoformat(sync["recorded_at"])
    assert {r.action for r in AuditEntry.objects.filter(changes__sync__change_id__in=[first["id"], risk["id"]])} == {
        "child.register", "child.risk_assess"}


def test_the_same_change_sent_again_changes_nothing(worker_a):
    client = login(worker_a)
    one = change("child.register", data={"full_name": "Lê Văn Tâm", "birth_date": "2015-02-01", "sex": "M"})
    first = push(client, [one])
    again = push(client, [one, one])  # a sync cut off half-way, retried; and a double send in one batch
    assert results(again) == ["applied", "applied"]
    assert again["results"][0]["result"] == first["results"][0]["result"]
    assert Child.objects.filter(full_name="Lê Văn Tâm").count() == 1
    assert _sync_rows(one["id"]).count() == 1
    assert FieldChange.objects.filter(pk=one["id"]).count() == 1


def test_another_user_cannot_reuse_a_change_id(worker_a, worker_b):
    one = change("child.register", data={"full_name": "Lê Văn Tâm", "birth_date": "2015-02-01", "sex": "M"})
    push(login(worker_a), [one])
    answer = push(login(worker_b), [one])
    assert results(answer) == ["failed"]
    assert answer["results"][0]["result"] == {}  # nothing of worker A's change is shown


def test_refused_changes_say_why_in_vietnamese_and_write_nothing(worker_a, child_a):
    client = login(worker_a)
    before = (Child.objects.count(), AuditEntry.objects.count(), FieldChange.objects.count())
    bad = [
        change("child.register", data={"full_name": "Trần 3 Lan", "birth_date": "2015-02-01", "sex": "F"}),
        change("child.register", data={"full_name": "Trần Lan", "birth_date": "2001-02-01", "sex": "F"}),
        change("child.register", data={"full_name": "Trần Lan", "birth_date": "hôm qua", "sex": "F"}),
        change("child.address", target={"child": child_a.pk}, data={}, base={}, base_version=child_a.version),
        change("risk.assess", target={"child": child_a.pk}, data={"factors": ["no-such-factor"]}),
        change("case.intake", data={"child": child_a.pk, "channel": "community", "concern": "neglect",
                                    "place": "", "summary": "", "reporter_anonymous": True}),
        change("teleport", data={}),
    ]
    answer = push(client, bad)
    assert results(answer) == ["failed"] * len(bad)
    messages = [r["message"] for r in answer["results"]]
    assert messages[0] == ("Họ và tên chỉ gồm chữ cái (có dấu), dấu cách, dấu nháy (') và gạch nối (-); "
                           "không được có “3”.") and answer["results"][0]["field"] == "full_name"
    assert "dưới 16 tuổi" in messages[1]
    assert messages[2] == "Ngày không hợp lệ: hôm qua." and answer["results"][2]["field"] == "birth_date"
    assert "không có trường nào" in messages[3]
    assert messages[4] == "Yếu tố nguy cơ không hợp lệ: no-such-factor."
    assert answer["results"][5]["errors"] == {"place": "Chưa nhập nơi xảy ra sự việc.",
                                              "summary": "Chưa nhập nội dung sự việc."}
    assert messages[6] == "Loại thay đổi không hợp lệ: teleport."
    assert (Child.objects.count(), AuditEntry.objects.count(), FieldChange.objects.count()) == before


def test_a_change_to_a_record_ended_meanwhile_is_refused(worker_a, child_a):
    child_end(actor=worker_a, child=child_a, on=timezone.localdate(), reason="left")
    answer = push(login(worker_a), [change("child.address", target={"child": child_a.pk}, data={"village": "Thôn 9"},
                                           base={"village": "Thôn 1"}, base_version=1)])
    assert results(answer) == ["failed"]
    assert answer["results"][0]["message"] == "Hồ sơ đã kết thúc (Chuyển khỏi tỉnh), không sửa được."


def test_another_communes_child_is_out_of_reach(worker_a, child_b):
    before = Child.objects.get(pk=child_b.pk).village
    answer = push(login(worker_a), [
        change("child.address", target={"child": child_b.pk}, data={"village": "Thôn 9"}, base={"village": ""}),
        change("risk.assess", target={"child": child_b.pk}, data={"factors": []}),
        change("guardian.add", target={"child": child_b.pk}, data={"full_name": "A B", "relationship": "mother"})])
    assert results(answer) == ["failed"] * 3
    assert {r["message"] for r in answer["results"]} == {"Không tìm thấy hoặc bạn không có quyền xem."}
    assert Child.objects.get(pk=child_b.pk).village == before and not child_b.guardians.exists()


# ---------------------------------------------------------------- conflicts and merges

def test_the_same_village_changed_on_both_sides_is_a_conflict_she_resolves(worker_a, officer_a, child_a):
    seen = child_a.version
    child_update(actor=officer_a, child=child_a, data={"village": "Thôn Kon Gung"}, expected_version=seen)
    client = login(worker_a)
    edit = change("child.address", target={"child": child_a.pk}, data={"village": "Làng Đăk Rơ Wang"},
                  base={"village": "Thôn 1"}, base_version=seen)
    answer = push(client, [edit])
    assert results(answer) == ["conflict"]
    assert Child.objects.get(pk=child_a.pk).village == "Thôn Kon Gung"  # nothing applied until she chooses
    held = FieldChange.objects.get(pk=edit["id"])
    assert held.status == FieldChange.Status.CONFLICT
    assert held.result["fields"] == {"village": {"base": "Thôn 1", "server": "Thôn Kon Gung",
                                                 "device": "Làng Đăk Rơ Wang"}}
    # Both values are in the child's history now.
    conflict_row = AuditEntry.objects.get(action="child.sync_conflict", object_id=str(child_a.pk))
    assert conflict_row.changes["fields"] == {"village": {"server": "Thôn Kon Gung", "device": "Làng Đăk Rơ Wang"}}
    # The snapshot tells the phone about it.
    snap = client.get("/api/field/snapshot").json()
    assert [h["id"] for h in snap["held"]] == [edit["id"]]

    response = client.post(f"/api/field/conflicts/{edit['id']}/resolve", json.dumps({"choices": {}}),
                           content_type="application/json")
    assert response.status_code == 400 and response.json()["errors"] == {"village": "Hãy chọn giá trị giữ lại."}
    response = client.post(f"/api/field/conflicts/{edit['id']}/resolve",
                           json.dumps({"choices": {"village": "device"}}), content_type="application/json")
    assert response.status_code == 200, response.content
    assert Child.objects.get(pk=child_a.pk).village == "Làng Đăk Rơ Wang"
    update = AuditEntry.objects.get(action="child.update", changes__sync__change_id=edit["id"])
    assert update.changes["village"] == ["Thôn Kon Gung", "Làng Đăk Rơ Wang"]
    assert update.changes["resolution"]["village"] == {"server": "Thôn Kon Gung", "device": "Làng Đăk Rơ Wang",
                                                       "kept": "device"}
    assert FieldChange.objects.get(pk=edit["id"]).status == FieldChange.Status.RESOLVED
    # Decided once.
    again = client.post(f"/api/field/conflicts/{edit['id']}/resolve", json.dumps({"choices": {"village": "server"}}),
                        content_type="application/json")
    assert again.status_code == 404
    assert push(client, [edit])["results"][0]["status"] == "applied"  # a late resend gets the final answer


def test_keeping_the_servers_value_changes_nothing_and_keeps_both_in_the_history(worker_a, officer_a, child_a):
    child_update(actor=officer_a, child=child_a, data={"village": "Thôn 2"}, expected_version=child_a.version)
    client = login(worker_a)
    edit = change("child.address", target={"child": child_a.pk}, data={"village": "Thôn 5"}, base={"village": "Thôn 1"},
                  base_version=1)
    push(client, [edit])
    version = Child.objects.get(pk=child_a.pk).version
    response = client.post(f"/api/field/conflicts/{edit['id']}/resolve", json.dumps({"choices": {"village": "server"}}),
                           content_type="application/json")
    assert response.status_code == 200
    child = Child.objects.get(pk=child_a.pk)
    assert child.village == "Thôn 2" and child.version == version
    resolved = AuditEntry.objects.get(action="child.sync_conflict_resolved", object_id=str(child_a.pk))
    assert resolved.changes["resolution"]["village"] == {"server": "Thôn 2", "device": "Thôn 5", "kept": "server"}


def test_a_record_changed_again_while_she_chooses_asks_her_again(worker_a, officer_a, child_a):
    child_update(actor=officer_a, child=child_a, data={"village": "Thôn 2"}, expected_version=child_a.version)
    client = login(worker_a)
    edit = change("child.address", target={"child": child_a.pk}, data={"village": "Thôn 5"}, base={"village": "Thôn 1"},
                  base_version=1)
    push(client, [edit])
    child = Child.objects.get(pk=child_a.pk)
    child_update(actor=officer_a, child=child, data={"village": "Thôn 3"}, expected_version=child.version)
    response = client.post(f"/api/field/conflicts/{edit['id']}/resolve", json.dumps({"choices": {"village": "device"}}),
                           content_type="application/json")
    assert response.status_code == 409
    assert response.json()["held"]["result"]["fields"]["village"]["server"] == "Thôn 3"
    assert Child.objects.get(pk=child_a.pk).village == "Thôn 3"
    assert FieldChange.objects.get(pk=edit["id"]).result["fields"]["village"]["server"] == "Thôn 3"


def test_fields_changed_on_one_side_only_merge(worker_a, officer_a, child_a):
    seen = child_a.version
    child_update(actor=officer_a, child=child_a, data={"note": "Đã xác minh tại nhà"}, expected_version=seen)
    answer = push(login(worker_a), [
        change("child.address", target={"child": child_a.pk}, data={"village": "Thôn 4"}, base={"village": "Thôn 1"},
               base_version=seen),
        change("child.schooling", target={"child": child_a.pk},
               data={"schooling": "dropped_out", "school_level": "", "dropout_date": "2025-09-01"},
               base={"schooling": "unknown", "school_level": "", "dropout_date": ""}, base_version=seen)])
    assert results(answer) == ["applied", "applied"]
    assert answer["results"][0]["result"]["merged"] is True
    child = Child.objects.get(pk=child_a.pk)
    assert (child.village, child.schooling, child.dropout_date, child.note) == (
        "Thôn 4", "dropped_out", dt.date(2025, 9, 1), "Đã xác minh tại nhà")


def test_the_same_value_on_both_sides_is_no_conflict(worker_a, officer_a, child_a):
    child_update(actor=officer_a, child=child_a, data={"village": "Thôn 7"}, expected_version=child_a.version)
    edit = change("child.address", target={"child": child_a.pk}, data={"village": " Thôn 7 "}, base={"village": "Thôn 1"},
                  base_version=1)
    assert results(push(login(worker_a), [edit])) == ["applied"]
    assert AuditEntry.objects.filter(action="child.sync_unchanged", changes__sync__change_id=edit["id"]).count() == 1


def test_a_guardian_corrected_offline_and_a_guardian_added(worker_a, child_a):
    guardian = child_a.guardians.get()
    answer = push(login(worker_a), [
        change("guardian.update", target={"guardian": guardian.pk, "child": child_a.pk},
               data={"full_name": "Nguyễn Văn Bình", "relationship": "father", "phone": "0912 345 678"},
               base={"full_name": "Nguyễn Văn Bình", "relationship": "father", "phone": "0905123456"}, base_version=1),
        change("guardian.add", target={"child": child_a.pk},
               data={"full_name": "Trần Thị Mai", "relationship": "grandparent", "phone": "12ab"}),
        change("guardian.add", target={"child": child_a.pk}, data={"full_name": "Trần Thị Mai", "relationship": "grandparent"})])
    assert results(answer) == ["applied", "failed", "applied"]
    assert answer["results"][1]["message"] == "Số điện thoại không hợp lệ: 12ab."
    assert Guardian.objects.get(pk=guardian.pk).phone == "0912345678"
    assert child_a.guardians.count() == 2


# ---------------------------------------------------------------- duplicates

@pytest.mark.parametrize("decision", ["same", "different"])
def test_an_offline_registration_like_an_existing_child_waits_for_review(worker_a, child_a, decision):
    client = login(worker_a)
    reg = change("child.register", data={"full_name": "Nguyễn Thị Hoa", "birth_date": "2014-03-02", "sex": "F",
                                         "village": "Thôn 1"})
    later = change("risk.assess", target={"child": f"local:{reg['id']}"}, data={"factors": ["parents_away"]})
    answer = push(client, [reg, later])
    assert results(answer) == ["review", "waiting"]
    assert answer["results"][1]["message"] == "Chờ xét hồ sơ trùng của trẻ này."
    assert Child.objects.filter(full_name="Nguyễn Thị Hoa").count() == 1  # no second record
    held = FieldChange.objects.get(pk=reg["id"])
    assert held.status == FieldChange.Status.REVIEW and [c["id"] for c in held.result["candidates"]] == [child_a.pk]
    assert AuditEntry.objects.filter(action="field.registration_held", changes__sync__change_id=reg["id"]).count() == 1

    # The review queue shows it; the duplicate queue points to it.
    assert "Nguyễn Thị Hoa" in client.get("/field/review/").content.decode()
    assert "đang chờ xét trùng" in client.get("/registry/duplicates/").content.decode()
    page = client.get(f"/field/review/{reg['id']}/")
    assert page.status_code == 200 and f'value="{child_a.pk}"' in page.content.decode()
    response = client.post(f"/field/review/{reg['id']}/", {"decision": decision, "child": child_a.pk})
    assert response.status_code == 302
    held.refresh_from_db()
    assert held.status == FieldChange.Status.RESOLVED
    if decision == "same":
        assert Child.objects.filter(full_name="Nguyễn Thị Hoa").count() == 1 and held.result["child"] == child_a.pk
        linked = AuditEntry.objects.get(action="child.field_registration_linked", object_id=str(child_a.pk))
        assert linked.changes["registration"]["village"] == "Thôn 1" and linked.changes["review"]["decision"] == "same"
    else:
        assert Child.objects.filter(full_name="Nguyễn Thị Hoa").count() == 2
        assert held.result["child"] != child_a.pk
    # The assessment that waited now goes, to the child the review decided.
    assert results(push(client, [later])) == ["applied"]
    assert ChildRisk.objects.filter(child_id=held.result["child"], factor__code="parents_away").exists()


def test_same_requires_one_of_the_candidates(worker_a, child_a, child_b):
    client = login(worker_a)
    reg = change("child.register", data={"full_name": "Nguyễn Thị Hoa", "birth_date": "2014-03-02", "sex": "F"})
    push(client, [reg])
    response = client.post(f"/field/review/{reg['id']}/", {"decision": "same", "child": child_b.pk})
    assert response.status_code == 200 and "Hãy chọn hồ sơ trùng trong danh sách gợi ý." in response.content.decode()
    assert FieldChange.objects.get(pk=reg["id"]).status == FieldChange.Status.REVIEW


def test_another_communes_worker_cannot_see_or_decide_the_review(worker_a, worker_b, child_a):
    reg = change("child.register", data={"full_name": "Nguyễn Thị Hoa", "birth_date": "2014-03-02", "sex": "F"})
    push(login(worker_a), [reg])
    other = login(worker_b)
    assert "Nguyễn Thị Hoa" not in other.get("/field/review/").content.decode()
    assert other.get(f"/field/review/{reg['id']}/").status_code == 404
    assert other.post(f"/field/review/{reg['id']}/", {"decision": "different"}).status_code == 404
    assert FieldChange.objects.get(pk=reg["id"]).status == FieldChange.Status.REVIEW


# ---------------------------------------------------------------- cases, visits, activities

def test_a_report_received_offline_starts_the_12_hour_clock_when_recorded(worker_a, child_a):
    received = (timezone.now() - dt.timedelta(hours=7)).replace(microsecond=0)
    report = change("case.intake", recorded_at=received + dt.timedelta(minutes=3), data={
        "child": child_a.pk, "received_at": received.isoformat(), "channel": "community", "concern": "neglect",
        "place": "Nhà trẻ, thôn 1", "summary": "Trẻ bị bỏ mặc nhiều ngày", "in_danger": True,
        "reporter_name": "Y Liên", "reporter_relation": "hàng xóm"})
    answer = push(login(worker_a), [report])
    assert results(answer) == ["applied"], answer
    case = Case.objects.get(pk=answer["results"][0]["result"]["case"])
    # Decree 56/2017, Art. 26: emergency intervention within 12 hours of receiving the information.
    assert case.received_at == received
    assert case.emergency_due_at == received + dt.timedelta(hours=12)
    assert case.events.get(kind=CaseEvent.Kind.INTAKE).at == received


def test_a_report_about_a_new_child_registers_the_child_with_it(worker_a):
    answer = push(login(worker_a), [change("case.intake", data={
        "new_child": {"full_name": "Đinh Văn Tú", "birth_date": "2013-01-20", "sex": "M", "village": "Thôn 2"},
        "received_at": timezone.now().isoformat(), "channel": "school", "concern": "physical_violence",
        "place": "Trường", "summary": "Bị đánh", "reporter_anonymous": True})])
    assert results(answer) == ["applied"], answer
    case = Case.objects.get(pk=answer["results"][0]["result"]["case"])
    assert case.child.full_name == "Đinh Văn Tú" and case.child.village == "Thôn 2"


def test_a_home_visit_is_a_case_note_at_the_recorded_time(worker_a, child_a):
    from vitreem.cases.services import case_intake

    case = case_intake(actor=worker_a, received_at=timezone.now() - dt.timedelta(days=3), channel="community",
                       place="Nhà", concern="neglect", summary="Bỏ mặc", child=child_a, reporter_anonymous=True)
    visited = (timezone.now() - dt.timedelta(hours=30)).replace(microsecond=0)
    answer = push(login(worker_a), [change("case.note", target={"case": case.pk}, recorded_at=visited,
                                           data={"text": "Thăm nhà: trẻ đã đi học lại"})])
    assert results(answer) == ["applied"]
    event = case.events.get(kind=CaseEvent.Kind.VISIT)
    assert event.at == visited and event.text == "Thăm nhà: trẻ đã đi học lại"


def test_attendance_at_a_training_and_at_a_recreation_event(worker_a, units, child_a):
    today = timezone.localdate()
    training = Activity.objects.create(kind="training", title="Tập huấn kỹ năng", start_date=today, end_date=today,
                                       unit=units.commune_a_2025, status="planned")
    party = Activity.objects.create(kind="recreation", title="Trung thu", start_date=today, end_date=today,
                                    unit=units.commune_a_2025, status="planned")
    answer = push(login(worker_a), [
        change("activity.attend", target={"activity": training.pk},
               data={"participant": {"full_name": "Y Hoa", "sex": "F", "role": "cộng tác viên thôn"}}),
        change("activity.attend", target={"activity": party.pk}, data={"child": child_a.pk, "gift": "Đèn ông sao"}),
        change("activity.attend", target={"activity": party.pk}, data={"child": child_a.pk})])
    assert results(answer) == ["applied", "applied", "failed"]
    assert answer["results"][2]["message"] == "Trẻ em này đã có trong danh sách của hoạt động."
    assert Participant.objects.get(activity=training).full_name == "Y Hoa"
    assert RecreationChild.objects.get(activity=party).gift == "Đèn ông sao"
    snap = login(worker_a).get("/api/field/snapshot").json()
    assert {a["id"] for a in snap["activities"]} == {training.pk, party.pk}


# ---------------------------------------------------------------- the phone's clock

def test_a_phone_clock_hours_off_is_detected_and_its_times_corrected_and_flagged(worker_a, child_a):
    now = timezone.now()
    ahead = dt.timedelta(hours=5)
    received_by_phone = now + ahead - dt.timedelta(hours=2)  # really two hours ago, by a clock 5 hours fast
    report = change("case.intake", recorded_at=received_by_phone, data={
        "child": child_a.pk, "received_at": received_by_phone.isoformat(), "channel": "community",
        "concern": "neglect", "place": "Nhà", "summary": "Bỏ mặc", "in_danger": True, "reporter_anonymous": True})
    answer = push(login(worker_a), [report], device_time=now + ahead)
    assert answer["clock"]["suspect"] is True and abs(answer["clock"]["offset_seconds"] + 5 * 3600) < 60
    assert "chạy nhanh 5,0 giờ" in answer["clock"]["message"]
    assert results(answer) == ["applied"]
    case = Case.objects.get(pk=answer["results"][0]["result"]["case"])
    assert abs((case.received_at - (now - dt.timedelta(hours=2))).total_seconds()) < 60
    held = FieldChange.objects.get(pk=report["id"])
    assert held.clock_suspect and held.recorded_at == dt.datetime.fromisoformat(report["recorded_at"])
    sync = AuditEntry.objects.get(action="case.intake", changes__sync__change_id=report["id"]).changes["sync"]
    assert sync["clock_suspect"] is True and abs(sync["clock_offset_seconds"] + 5 * 3600) < 60


def test_a_time_in_the_future_by_a_right_clock_is_refused(worker_a, child_a):
    answer = push(login(worker_a), [change("risk.assess", target={"child": child_a.pk}, data={"factors": []},
                                           recorded_at=timezone.now() + dt.timedelta(hours=3))])
    assert results(answer) == ["failed"] and "ở tương lai" in answer["results"][0]["message"]


def test_a_clock_within_the_tolerance_is_not_flagged(worker_a, child_a):
    answer = push(login(worker_a), [change("risk.assess", target={"child": child_a.pk}, data={"factors": []})],
                  device_time=timezone.now() - dt.timedelta(minutes=3))
    assert answer["clock"]["suspect"] is False and results(answer) == ["applied"]
