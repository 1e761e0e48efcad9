"""Retention: the rule in force makes records due; applying it de-identifies them with an audit row, and
the figures of past years stay as they were (Law 91/2025/QH15 Art. 14(1)(b)–(c), 14(6), 2(11))."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from conftest import login
from vitreem.cases.models import Attachment, Case
from vitreem.core.models import AuditEntry
from vitreem.privacy.erasure import retention_due
from vitreem.privacy.models import RecordKind, RetentionApplied, RetentionRule
from vitreem.registry.models import Child, Guardian

from .helpers import make_child, with_guardian


def _closed_case(child, owner, *, code: str, closed: dt.datetime) -> Case:
    case = Case.objects.create(code=code, child=child, unit=child.unit, owner=owner, created_by=owner, status="closed",
                               received_at=closed - dt.timedelta(days=40), channel="community",
                               reporter_name="Người báo tin Bảy", reporter_phone="0909000111", place="Thôn 3, nhà ông X",
                               concern="physical_violence", summary="Trẻ bị đánh, có vết bầm", closed_at=closed,
                               outcome="resolved")
    from django.core.files.base import ContentFile

    att = Attachment(case=case, name="anh.jpg", content_type="image/jpeg", size=3, uploaded_by=owner)
    att.file.save("anh.jpg", ContentFile(b"abc"), save=True)
    return case


@pytest.fixture
def world(units, worker_a):
    """In commune A: a young man born 2004 (21 today: due), with a closed case from 2015 and a special-
    circumstance episode in 2012–2019; a girl born 2012 (not due); in commune B one more due record."""
    old = with_guardian(make_child(units.commune_a, birth=dt.date(2004, 3, 10), name="Nguyễn Văn Cũ",
                                   episodes=[("1", dt.date(2012, 1, 5), dt.date(2019, 6, 30))],
                                   poverty={2018: "poor", 2019: "poor"}))
    Child.objects.filter(pk=old.pk).update(personal_id="062204123456", village="Thôn Kon Gung",
                                           note="Mẹ đi làm xa")
    case = _closed_case(old, worker_a, code="VV-2015-001",
                        closed=timezone.make_aware(dt.datetime(2015, 9, 1, 9, 0)))
    young = make_child(units.commune_a_2025, birth=dt.date(2012, 5, 1), name="Lê Thị Nhỏ")
    other = make_child(units.commune_b, birth=dt.date(2003, 8, 1), name="Phạm Văn Khác")
    return {"old": old, "case": case, "young": young, "other": other}


def _stats(year: int) -> dict:
    out = io.StringIO()
    call_command("stats", "--year", str(year), "--json", stdout=out)
    return json.loads(out.getvalue())


def test_due_lists_the_records_past_their_rule(world):
    due = retention_due(on=timezone.localdate())
    kinds = {(d.kind, d.object_id) for d in due}
    assert (RecordKind.CHILD, world["old"].pk) in kinds and (RecordKind.CHILD, world["other"].pk) in kinds
    assert all(d.object_id != world["young"].pk for d in due if d.kind == RecordKind.CHILD)
    # The child's case goes with the child: not listed on its own.
    assert (RecordKind.CASE, world["case"].pk) not in kinds
    old_due = next(d for d in due if d.object_id == world["old"].pk)
    assert old_due.due_on == dt.date(2025, 3, 10)  # 16th birthday 2020-03-10 + 5 years
    # A rule dated later with a longer period governs from its date.
    RetentionRule.objects.create(kind=RecordKind.CHILD, effective_from=timezone.localdate(), years=10, source="test")
    assert not [d for d in retention_due(on=timezone.localdate()) if d.kind == RecordKind.CHILD]
    assert [d for d in retention_due(on=timezone.localdate() - dt.timedelta(days=1)) if d.kind == RecordKind.CHILD]


@pytest.mark.parametrize("persona", ["officer", "admin_user"])
def test_applying_retention_keeps_every_past_years_figures(persona, request, world, units):
    actor = request.getfixturevalue(persona)
    years = range(2015, timezone.localdate().year + 1)
    before = {y: _stats(y) for y in years}
    out = io.StringIO()
    call_command("retention", "--apply", "--as", actor.username, "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["applied"] == {"child": 2, "case": 0}
    after = {y: _stats(y) for y in years}
    assert after == before
    assert before[2018]["children"] == 3  # the two due records counted then, as children, and still do
    old = Child.objects.get(pk=world["old"].pk)
    assert old.full_name == f"Ẩn danh #{old.pk}" and old.personal_id == "" and old.village == "" and old.note == ""
    assert old.birth_date == dt.date(2004, 3, 10) and old.special_episodes.count() == 1
    assert Guardian.objects.get(child=old).full_name == "—" and Guardian.objects.get(child=old).phone == ""
    case = Case.objects.get(pk=world["case"].pk)
    assert case.summary == "—" and case.place == "—" and case.reporter_name == "" and case.reporter_phone == ""
    assert case.status == "closed" and case.concern == "physical_violence"
    assert not Attachment.objects.filter(case=case).exists()
    rows = AuditEntry.objects.filter(action="privacy.pseudonymise")
    assert rows.count() == 2 and all(r.actor == actor for r in rows)
    assert "Nguyễn Văn Cũ" not in json.dumps([r.changes for r in rows], ensure_ascii=False)
    assert RetentionApplied.objects.count() == 2
    # A row about a child's record carries its province code, as the record does (issue 13 item 6).
    assert old.province_code and set(RetentionApplied.objects.values_list("province_code", flat=True)) \
        == {old.province_code}
    # Applied once: nothing is due any more.
    assert not retention_due(on=timezone.localdate())
    assert Child.objects.get(pk=world["young"].pk).full_name == "Lê Thị Nhỏ"


def test_a_closed_case_due_on_its_own_is_erased(world, worker_a, units):
    RetentionRule.objects.filter(kind=RecordKind.CASE).update(anchor="closed", years=10)
    young_case = _closed_case(world["young"], worker_a, code="VV-2014-009",
                              closed=timezone.make_aware(dt.datetime(2014, 2, 1, 9, 0)))
    due = retention_due(on=timezone.localdate())
    assert (RecordKind.CASE, young_case.pk) in {(d.kind, d.object_id) for d in due}
    from vitreem.privacy.erasure import retention_apply

    with transaction.atomic():
        counts = retention_apply(actor=worker_a, on=timezone.localdate(), unit_ids=None)
    assert counts["case"] == 1
    assert Case.objects.get(pk=young_case.pk).summary == "—"
    assert Child.objects.get(pk=world["young"].pk).full_name == "Lê Thị Nhỏ"
    assert AuditEntry.objects.filter(action="privacy.retention_case", object_id=str(young_case.pk)).exists()


def test_command_without_apply_writes_nothing_and_refuses_other_roles(world, worker_a):
    out = io.StringIO()
    call_command("retention", stdout=out)
    assert "2 due" in out.getvalue()
    assert not AuditEntry.objects.filter(action__startswith="privacy.").exists()
    with pytest.raises(CommandError):
        call_command("retention", "--apply", stdout=io.StringIO())
    with pytest.raises(CommandError):
        call_command("retention", "--apply", "--as", "worker_a", stdout=io.StringIO())
    assert Child.objects.get(pk=world["old"].pk).full_name == "Nguyễn Văn Cũ"


@pytest.mark.parametrize("persona", ["officer", "admin_user"])
def test_retention_page_lists_and_applies(persona, request, world):
    client = login(request.getfixturevalue(persona))
    page = client.get(reverse("privacy:retention"))
    assert page.status_code == 200 and page.context["count"] == 2
    assert client.post(reverse("privacy:retention")).status_code == 302
    assert client.get(reverse("privacy:retention")).context["count"] == 0


def test_retention_page_is_refused_to_communes_and_read_only_roles(world, worker_a, worker_b, leader):
    for user in (worker_a, worker_b, leader):
        client = login(user)
        assert client.get(reverse("privacy:retention")).status_code == 403
        assert client.post(reverse("privacy:retention")).status_code == 403
    assert Child.objects.get(pk=world["old"].pk).full_name == "Nguyễn Văn Cũ"


def test_deletion_request_of_a_record_past_its_purpose_is_carried_out(world, worker_a):
    from vitreem.privacy import services

    before = _stats(2018)
    req = services.request_register(actor=worker_a, child=world["old"], kind="deletion", requester="subject",
                                    requester_name="Nguyễn Văn Cũ", received_on=timezone.localdate())
    services.request_answer(actor=worker_a, request_id=req.pk, done=True, answer="Đã khử nhận dạng hồ sơ")
    assert Child.objects.get(pk=world["old"].pk).full_name.startswith("Ẩn danh")
    assert RetentionApplied.objects.get(object_id=world["old"].pk).request_id == req.pk
    assert _stats(2018) == before
