"""Consent and data subjects' requests, through the services and the pages, persona by persona
(Law 91/2025/QH15 Arts. 4, 9, 10, 14, 19, 24)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vitreem.core.errors import NotFound, PermissionDenied, ValidationFailed
from vitreem.core.models import AuditEntry
from vitreem.privacy import services
from vitreem.privacy.models import Consent, Restriction, SubjectRequest

from .helpers import make_child, with_guardian, years_ago

TODAY = timezone.localdate


@pytest.fixture
def child_a(units):
    return with_guardian(make_child(units.commune_a_2025, birth=years_ago(9), name="Trần Thị Hoa"))


@pytest.fixture
def small_child_a(units):
    return make_child(units.commune_a_2025, birth=years_ago(4), name="Lê Văn Bé")


# ---------------------------------------------------------------- consent


@pytest.mark.parametrize("persona", ["worker_a", "officer", "admin_user"])
def test_consent_of_a_child_of_7_or_more_needs_the_child_and_the_representative(persona, request, child_a):
    actor = request.getfixturevalue(persona)
    base = {"actor": actor, "child": child_a, "purpose": "referral", "representative_name": "Nguyễn Thị Mẹ",
            "representative_relationship": "Mẹ", "given_on": TODAY(), "evidence": "Phiếu đồng ý số 12, tủ hồ sơ xã"}
    with pytest.raises(ValidationFailed) as exc:
        services.consent_record(**base)
    assert "child_agrees" in exc.value.errors and "Điều 24 khoản 2" in exc.value.errors["child_agrees"]
    assert not Consent.objects.exists()
    consent = services.consent_record(**base, child_agrees=True)
    assert consent.child_age == 9 and consent.child_agrees is True and consent.recorded_by == actor
    row = AuditEntry.objects.get(action="privacy.consent_record")
    assert row.actor == actor and row.changes["representative"] == "Nguyễn Thị Mẹ"


def test_consent_refuses_silence_and_names_every_field(worker_a, small_child_a):
    with pytest.raises(ValidationFailed) as exc:
        services.consent_record(actor=worker_a, child=small_child_a, purpose="publication", representative_name=" ",
                                representative_relationship="", given_on=TODAY() + dt.timedelta(days=1), evidence="")
    assert set(exc.value.errors) == {"representative_name", "representative_relationship", "evidence", "given_on"}
    assert not Consent.objects.exists() and not AuditEntry.objects.filter(action__startswith="privacy.").exists()


def test_under_7_the_representative_alone_and_withdrawal_stops_it(worker_a, small_child_a):
    consent = services.consent_record(actor=worker_a, child=small_child_a, purpose="publication",
                                      representative_name="Lê Văn Cha", representative_relationship="Cha",
                                      given_on=TODAY(), evidence="Văn bản số 3")
    assert consent.child_agrees is None
    assert services.consent_in_force(child=small_child_a, purpose="publication") == consent
    services.consent_withdraw(actor=worker_a, consent_id=consent.pk, note="Cha rút lại")
    assert services.consent_in_force(child=small_child_a, purpose="publication") is None
    with pytest.raises(ValidationFailed):
        services.consent_withdraw(actor=worker_a, consent_id=consent.pk)


def test_another_communes_worker_and_read_only_roles_cannot_record_or_see(worker_b, leader, reporter, child_a,
                                                                         worker_a):
    for actor in (worker_b, reporter):
        with pytest.raises(NotFound):
            services.consent_record(actor=actor, child=child_a, purpose="referral", representative_name="X",
                                    representative_relationship="Mẹ", given_on=TODAY(), evidence="e",
                                    child_agrees=True)
    with pytest.raises(PermissionDenied):
        services.consent_record(actor=leader, child=child_a, purpose="referral", representative_name="X",
                                representative_relationship="Mẹ", given_on=TODAY(), evidence="e", child_agrees=True)
    consent = services.consent_record(actor=worker_a, child=child_a, purpose="referral", representative_name="X",
                                      representative_relationship="Mẹ", given_on=TODAY(), evidence="e",
                                      child_agrees=True)
    assert login(worker_b).get(reverse("privacy:consent_new") + f"?child={child_a.pk}").status_code == 404
    body = login(worker_b).get(reverse("privacy:consents")).content.decode()
    assert "Trần Thị Hoa" not in body
    assert login(worker_b).post(reverse("privacy:consent_withdraw", args=[consent.pk])).status_code == 404
    assert login(reporter).get(reverse("privacy:consents")).status_code == 403
    assert Consent.objects.get().withdrawn_on is None


def test_consent_page_records_and_lists(worker_a, child_a):
    client = login(worker_a)
    url = reverse("privacy:consent_new") + f"?child={child_a.pk}"
    assert client.get(url).status_code == 200
    r = client.post(url, {"purpose": "referral", "representative_name": "Nguyễn Thị Mẹ",
                          "representative_relationship": "Mẹ", "given_on": TODAY().isoformat(),
                          "evidence": "Phiếu số 1", "child_agrees": ""})
    assert r.status_code == 400 and "Điều 24 khoản 2" in r.content.decode()
    r = client.post(url, {"purpose": "referral", "representative_name": "Nguyễn Thị Mẹ",
                          "representative_relationship": "Mẹ", "given_on": TODAY().isoformat(),
                          "evidence": "Phiếu số 1", "child_agrees": "yes"})
    assert r.status_code == 302
    assert "Nguyễn Thị Mẹ" in client.get(reverse("privacy:consents")).content.decode()


# ---------------------------------------------------------------- disclosure


def test_disclosure_needs_consent_or_a_proven_exception(worker_a, child_a):
    from django.db import transaction

    with pytest.raises(ValidationFailed) as exc, transaction.atomic():
        services.disclosure_record(actor=worker_a, child=child_a, purpose="referral")
    assert "consent" in exc.value.errors
    with pytest.raises(ValidationFailed) as exc, transaction.atomic():
        services.disclosure_record(actor=worker_a, child=child_a, purpose="referral", exception="19_1_a")
    assert "exception_note" in exc.value.errors
    with transaction.atomic():
        ground = services.disclosure_record(actor=worker_a, child=child_a, purpose="referral", exception="19_1_a",
                                            note="Trẻ bị bạo lực nghiêm trọng, cần cơ sở y tế can thiệp ngay")
    assert ground["basis"] == "19_1_a"
    consent = services.consent_record(actor=worker_a, child=child_a, purpose="referral", representative_name="Mẹ",
                                      representative_relationship="Mẹ", given_on=TODAY(), evidence="Phiếu",
                                      child_agrees=True)
    with transaction.atomic():
        ground = services.disclosure_record(actor=worker_a, child=child_a, purpose="referral", target="Công an huyện")
    assert ground == {"basis": "consent", "consent": consent.pk}
    assert AuditEntry.objects.filter(action="privacy.disclosure").count() == 2


# ---------------------------------------------------------------- requests


@pytest.mark.parametrize("persona", ["worker_a", "officer"])
def test_request_registered_routed_to_the_commune_and_answered(persona, request, worker_a, worker_b, child_a):
    actor = request.getfixturevalue(persona)
    received = TODAY() - dt.timedelta(days=3)
    req = services.request_register(actor=actor, child=child_a, kind="access", requester_name="Nguyễn Thị Mẹ",
                                    received_on=received)
    # Routed to the commune that holds the record, whoever registered it.
    assert req.unit_id == child_a.unit_id
    assert req.due_on == received + dt.timedelta(days=10) and req.reply_due_on > received
    assert list(SubjectRequest.objects.all()) == [req]
    queue = login(worker_a).get(reverse("privacy:index")).content.decode()
    assert "Trần Thị Hoa" in queue
    assert "Trần Thị Hoa" not in login(worker_b).get(reverse("privacy:index")).content.decode()
    assert login(worker_b).get(reverse("privacy:request", args=[req.pk])).status_code == 404
    assert login(worker_b).post(reverse("privacy:request", args=[req.pk]),
                                {"action": "done", "answer": "x"}).status_code == 404
    services.request_acknowledge(actor=actor, request_id=req.pk)
    done = services.request_answer(actor=actor, request_id=req.pk, done=True, answer="Đã gửi hồ sơ cho mẹ")
    assert done.status == "done" and done.answered_by == actor
    assert AuditEntry.objects.filter(action="privacy.request_answer", object_id=str(req.pk)).exists()
    with pytest.raises(ValidationFailed):
        services.request_answer(actor=actor, request_id=req.pk, done=True, answer="again")


def test_a_child_under_16_is_represented(worker_a, child_a):
    with pytest.raises(ValidationFailed) as exc:
        services.request_register(actor=worker_a, child=child_a, kind="access", requester="subject",
                                  requester_name="Trần Thị Hoa", received_on=TODAY())
    assert "Điều 24 khoản 2" in exc.value.errors["requester"]


def test_request_pages_register_and_answer(worker_a, child_a):
    client = login(worker_a)
    url = reverse("privacy:request_new") + f"?child={child_a.pk}"
    r = client.post(url, {"kind": "correction", "requester_name": "Nguyễn Thị Mẹ", "received_on": TODAY().isoformat(),
                          "details": ""})
    assert r.status_code == 400 and "chỉnh sửa" in r.content.decode()
    r = client.post(url, {"kind": "correction", "requester_name": "Nguyễn Thị Mẹ", "received_on": TODAY().isoformat(),
                          "details": "Ngày sinh đúng là 02/03"})
    req = SubjectRequest.objects.get()
    assert r.status_code == 302 and r["Location"] == reverse("privacy:request", args=[req.pk])
    page = client.get(r["Location"])
    assert page.status_code == 200 and AuditEntry.objects.filter(kind="access", object_id=str(req.pk)).exists()
    r = client.post(r["Location"], {"action": "done", "answer": ""})
    assert r.status_code == 400
    r = client.post(reverse("privacy:request", args=[req.pk]), {"action": "done", "answer": "Đã sửa ngày sinh"})
    assert r.status_code == 302 and SubjectRequest.objects.get().status == "done"


def test_restriction_stops_disclosure_on_consent_but_not_an_exception(worker_a, child_a):
    from django.db import transaction

    services.consent_record(actor=worker_a, child=child_a, purpose="referral", representative_name="Mẹ",
                            representative_relationship="Mẹ", given_on=TODAY(), evidence="Phiếu", child_agrees=True)
    req = services.request_register(actor=worker_a, child=child_a, kind="restriction", requester_name="Mẹ",
                                    received_on=TODAY())
    services.request_answer(actor=worker_a, request_id=req.pk, done=True, answer="Đã hạn chế")
    assert Restriction.objects.filter(child=child_a, end__isnull=True).exists()
    # Rows of a child's data all carry its 2025 province code (issue 13 item 6, places/fields.py).
    assert child_a.province_code == "51"
    for model in (Consent, SubjectRequest, Restriction):
        assert list(model.objects.values_list("province_code", flat=True)) == ["51"], model
    with pytest.raises(ValidationFailed), transaction.atomic():
        services.disclosure_record(actor=worker_a, child=child_a, purpose="referral")
    with transaction.atomic():
        services.disclosure_record(actor=worker_a, child=child_a, purpose="referral", exception="19_1_a",
                                   note="Nguy hiểm đến tính mạng")
    services.restriction_end(actor=worker_a, request_id=req.pk)
    with transaction.atomic():
        assert services.disclosure_record(actor=worker_a, child=child_a, purpose="referral")["basis"] == "consent"


def test_deletion_of_a_child_still_served_is_refused_with_the_reason(worker_a, child_a):
    req = services.request_register(actor=worker_a, child=child_a, kind="deletion", requester_name="Mẹ",
                                    received_on=TODAY())
    assert req.due_on == TODAY() + dt.timedelta(days=20)
    with pytest.raises(ValidationFailed) as exc:
        services.request_answer(actor=worker_a, request_id=req.pk, done=True, answer="Đã xóa")
    assert "Điều 14" in exc.value.errors["done"]
    refused = services.request_answer(actor=worker_a, request_id=req.pk, done=False,
                                      answer="Hồ sơ đang phục vụ nhiệm vụ bảo vệ trẻ em (Điều 19 khoản 1 điểm c)")
    assert refused.status == "refused"
    child_a.refresh_from_db()
    assert child_a.full_name == "Trần Thị Hoa"


def test_purposes_register_is_for_administrators(admin_user, officer, worker_a, leader):
    for user in (admin_user, officer):
        body = login(user).get(reverse("privacy:purposes")).content.decode()
        assert "Điều 19 khoản 1 điểm c" in body and "named-export" in body
    for user in (worker_a, leader):
        assert login(user).get(reverse("privacy:purposes")).status_code == 403
