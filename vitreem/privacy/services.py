"""Every write of the privacy app: consents, disclosures, data subjects' requests (with the audit row).

Law 91/2025/QH15 on Personal Data Protection (in force 1 January 2026) is cited clause by clause; the
table in docs/en/legal-basis.md ("Personal data") maps each clause to these functions and their tests.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.audit import audit_change, snapshot
from vitreem.core.errors import NotFound, PermissionDenied, ValidationFailed
from vitreem.core.scope import get_in_scope, require_unit, scope_for
from vitreem.registry.models import Child

from .models import (
    EXCEPTIONS,
    Basis,
    Consent,
    Purpose,
    RequestDeadline,
    RequestKind,
    Restriction,
    SubjectRequest,
)

# Law 91/2025/QH15, Art. 24(2): publishing or disclosing a child's private information needs the consent
# of the child "từ đủ 07 tuổi trở lên" and of the legal representative.
CONSENT_AGE = 7


def _today() -> dt.date:
    return timezone.localdate()


def _child(actor: User, child: Child | int, *, write: bool = True) -> Child:
    """The child, refused (404) outside the actor's scope and for a read-only role writing."""
    found = get_in_scope(Child.objects.select_related("unit"), actor, pk=getattr(child, "pk", child))
    require_unit(actor, found.unit_id, write=write)
    return found


def purpose_get(code: str) -> Purpose:
    try:
        return Purpose.objects.get(code=code, active=True)
    except Purpose.DoesNotExist:
        raise NotFound(_("Không có mục đích xử lý %(c)s trong danh mục.") % {"c": code}) from None


# ---------------------------------------------------------------- consent (Art. 9, Art. 24)

@transaction.atomic
def consent_record(*, actor: User, child: Child | int, purpose: str, representative_name: str,
                   representative_relationship: str, given_on: dt.date, evidence: str,
                   child_agrees: bool | None = None, method: str = Consent.Method.WRITTEN) -> Consent:
    """Record a consent for one purpose (Art. 9(4)(a)): who gave it (the legal representative, and the
    child aged 7 or more where Art. 24(2) asks both), when, and where the signed or electronic form is
    kept (Art. 9(3)). Silence is not consent (Art. 9(4)(d)): the representative's name is required."""
    found = _child(actor, child)
    target = purpose_get(purpose)
    errors: dict[str, str] = {}
    representative_name = (representative_name or "").strip()
    if not representative_name:
        errors["representative_name"] = _("Chưa nhập họ tên người đại diện theo pháp luật đã đồng ý.")
    if not (representative_relationship or "").strip():
        errors["representative_relationship"] = _("Chưa nhập quan hệ của người đại diện với trẻ.")
    if not (evidence or "").strip():
        errors["evidence"] = _("Chưa ghi nơi lưu văn bản đồng ý (Điều 9 khoản 3: in, sao chép được bằng văn bản).")
    if given_on is None or given_on > _today():
        errors["given_on"] = _("Ngày đồng ý không hợp lệ (không được sau hôm nay).")
    elif given_on < found.birth_date:
        errors["given_on"] = _("Ngày đồng ý trước ngày sinh của trẻ.")
    if method not in Consent.Method.values:
        errors["method"] = _("Hình thức đồng ý không hợp lệ.")
    age = found.age_on(given_on) if "given_on" not in errors else 0
    if age >= CONSENT_AGE and target.discloses and child_agrees is not True:
        errors["child_agrees"] = _("Trẻ từ đủ 7 tuổi: cần sự đồng ý của chính trẻ và của người đại diện "
                                   "(Luật Bảo vệ dữ liệu cá nhân, Điều 24 khoản 2).")
    if errors:
        raise ValidationFailed(errors)
    consent = Consent.objects.create(
        child=found, unit_id=found.unit_id, purpose=target, child_age=age,
        child_agrees=bool(child_agrees) if age >= CONSENT_AGE else None,
        representative_name=representative_name, representative_relationship=representative_relationship.strip(),
        given_on=given_on, method=method, evidence=evidence.strip(), recorded_by=actor)
    audit_change(actor=actor, action="privacy.consent_record", obj=consent, unit=found.unit_id,
                 changes={"child": found.pk, "purpose": target.code, "given_on": given_on,
                          "child_agrees": consent.child_agrees, "representative": representative_name})
    return consent


@transaction.atomic
def consent_withdraw(*, actor: User, consent_id: int, on: dt.date | None = None, note: str = "") -> Consent:
    """The person who consented takes it back: processing on that consent stops (Art. 24(3)(a)); what was
    done before stays lawful (Art. 10(4))."""
    consent = get_in_scope(Consent.objects.select_for_update(), actor, pk=consent_id)
    require_unit(actor, consent.unit_id)
    if consent.withdrawn_on:
        raise ValidationFailed({"consent": _("Sự đồng ý này đã được rút lại ngày %(d)s.")
                                % {"d": consent.withdrawn_on.strftime("%d/%m/%Y")}})
    on = on or _today()
    if on < consent.given_on or on > _today():
        raise ValidationFailed({"withdrawn_on": _("Ngày rút lại phải từ ngày đồng ý đến hôm nay.")})
    consent.withdrawn_on, consent.withdrawn_by, consent.withdrawal_note = on, actor, (note or "").strip()
    consent.save()
    audit_change(actor=actor, action="privacy.consent_withdraw", obj=consent, unit=consent.unit_id,
                 changes={"child": consent.child_id, "purpose": consent.purpose.code, "withdrawn_on": on})
    return consent


def consent_in_force(*, child: Child, purpose: str, on: dt.date | None = None) -> Consent | None:
    """The active consent for `purpose` that covers the child as they are on `on`: given by the
    representative and, for a disclosing purpose, by the child if 7 or more on that day."""
    on = on or _today()
    consents = Consent.objects.filter(child=child, purpose__code=purpose, withdrawn_on__isnull=True,
                                      given_on__lte=on).select_related("purpose").order_by("-given_on", "-pk")
    for consent in consents:
        # A consent given before the child turned 7 does not carry the child's own agreement, which
        # Art. 24(2) asks for once the child is 7.
        if consent.purpose.discloses and child.age_on(on) >= CONSENT_AGE and consent.child_agrees is not True:
            continue
        return consent
    return None


def restricted(child: Child, on: dt.date | None = None) -> bool:
    on = on or _today()
    # `end` is the day the restriction was lifted: not in force from that day on.
    return Restriction.objects.filter(child=child, start__lte=on).exclude(end__lte=on).exists()


def disclosure_record(*, actor: User, child: Child, purpose: str, exception: str = "", note: str = "",
                      target: str = "", consent: Consent | None = None,
                      given_on_form: dict[str, Any] | None = None) -> dict[str, Any]:
    """Check a disclosing action (a referral outside the commune, a publication) before it happens and
    record on what ground it happens: the consent in force, or the exception of Art. 19(1) that applies
    with the facts that make it apply (Art. 19(1)(a): the one disclosing must prove the case).

    A restriction the data subject obtained (Art. 10) stops disclosures on consent; an Art. 19(1)
    exception still applies (Art. 10(1) excepts it). `given_on_form`: the consents a service's own form
    took when no consent was recorded beforehand (the case referral's checkboxes for the representative
    and the child of 7 or more); the row keeps them. Runs inside the caller's transaction."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("disclosure_record must run inside the disclosing service's transaction")
    chosen = purpose_get(purpose)
    if exception:
        if exception not in EXCEPTIONS:
            raise ValidationFailed({"exception": _("Trường hợp ngoại lệ không hợp lệ.")})
        if not (note or "").strip():
            raise ValidationFailed({"exception_note": _("Ghi rõ sự việc làm trường hợp ngoại lệ được áp dụng "
                                                        "(Điều 19 khoản 1: bên xử lý phải chứng minh).")})
        ground: dict[str, Any] = {"basis": exception, "note": note.strip()}
    else:
        if restricted(child):
            raise ValidationFailed({"exception": _("Trẻ đang được hạn chế xử lý dữ liệu theo yêu cầu (Điều 10): "
                                                   "chỉ chia sẻ khi có trường hợp ngoại lệ của Điều 19 khoản 1.")})
        consent = consent or consent_in_force(child=child, purpose=purpose)
        if consent is not None:
            ground = {"basis": Basis.CONSENT.value, "consent": consent.pk}
        elif given_on_form:
            ground = {"basis": Basis.CONSENT.value, "form": given_on_form}
        else:
            raise ValidationFailed({"consent": _("Chưa có sự đồng ý còn hiệu lực cho mục đích “%(p)s” "
                                                 "(Điều 24 khoản 2) và chưa ghi trường hợp ngoại lệ.")
                                    % {"p": chosen.name}})
    audit_change(actor=actor, action="privacy.disclosure", object_type="registry.child", object_id=child.pk,
                 unit=child.unit_id, changes={"purpose": purpose, "to": target, **ground})
    return ground


# ---------------------------------------------------------------- requests (Art. 4(1), 10, 13, 14, 15)

def deadline_for(kind: str, on: dt.date) -> RequestDeadline:
    rule = RequestDeadline.objects.filter(kind=kind, effective_from__lte=on).order_by("-effective_from").first()
    if rule is None:
        raise ValidationFailed({"received_on": _("Chưa có quy định thời hạn cho loại yêu cầu này vào ngày %(d)s.")
                                % {"d": on.strftime("%d/%m/%Y")}})
    return rule


@transaction.atomic
def request_register(*, actor: User, child: Child | int, kind: str, requester_name: str, received_on: dt.date,
                     requester: str = SubjectRequest.Requester.REPRESENTATIVE, details: str = "") -> SubjectRequest:
    """Register a request and route it to the commune that holds the record (the child's commune of
    residence today), with its deadlines from the rule in force on the day it was received."""
    from vitreem.cases.deadlines import add_working_days

    found = _child(actor, child)
    errors: dict[str, str] = {}
    if kind not in RequestKind.values:
        errors["kind"] = _("Loại yêu cầu không hợp lệ.")
    if requester not in SubjectRequest.Requester.values:
        errors["requester"] = _("Người yêu cầu không hợp lệ.")
    if not (requester_name or "").strip():
        errors["requester_name"] = _("Chưa nhập họ tên người yêu cầu.")
    if received_on is None or received_on > _today():
        errors["received_on"] = _("Ngày nhận yêu cầu không hợp lệ (không được sau hôm nay).")
    # Art. 24(2): for a child the legal representative exercises the data subject's rights.
    if requester == SubjectRequest.Requester.SUBJECT and received_on and found.age_on(received_on) < 16:
        errors["requester"] = _("Trẻ dưới 16 tuổi: người đại diện theo pháp luật thay mặt thực hiện quyền "
                                "(Điều 24 khoản 2).")
    if kind == RequestKind.CORRECTION and not (details or "").strip():
        errors["details"] = _("Ghi rõ thông tin cần chỉnh sửa.")
    if errors:
        raise ValidationFailed(errors)
    rule = deadline_for(kind, received_on)
    req = SubjectRequest.objects.create(
        child=found, unit_id=found.unit_id, kind=kind, requester=requester, requester_name=requester_name.strip(),
        details=(details or "").strip(), received_on=received_on,
        reply_due_on=add_working_days(received_on, rule.reply_working_days),
        due_on=received_on + dt.timedelta(days=rule.complete_days), created_by=actor)
    audit_change(actor=actor, action="privacy.request_register", obj=req, unit=found.unit_id,
                 changes={"child": found.pk, "kind": kind, "received_on": received_on, "due_on": req.due_on})
    return req


def _request_for_update(actor: User, request_id: int) -> SubjectRequest:
    req = get_in_scope(SubjectRequest.objects.select_for_update().select_related("child"), actor, pk=request_id)
    require_unit(actor, req.unit_id)
    if not req.is_open:
        raise ValidationFailed({"status": _("Yêu cầu đã được trả lời ngày %(d)s.")
                                % {"d": req.answered_on.strftime("%d/%m/%Y") if req.answered_on else ""}})
    return req


@transaction.atomic
def request_acknowledge(*, actor: User, request_id: int, on: dt.date | None = None) -> SubjectRequest:
    req = _request_for_update(actor, request_id)
    before = snapshot(req, ["status", "acknowledged_on"])
    req.status, req.acknowledged_on = SubjectRequest.Status.ACKNOWLEDGED, on or _today()
    req.save()
    audit_change(actor=actor, action="privacy.request_acknowledge", obj=req, unit=req.unit_id,
                 changes={"before": before, "after": snapshot(req, ["status", "acknowledged_on"])})
    return req


@transaction.atomic
def request_answer(*, actor: User, request_id: int, done: bool, answer: str, on: dt.date | None = None) -> SubjectRequest:
    """Answer a request: carried out, or refused with the reason the data subject must be told
    (Art. 13(3), 14(5)). A deletion is carried out only as retention allows (privacy/erasure.py):
    while the record serves the duties of Art. 19(1)(c) it is refused (Art. 14(2))."""
    from .erasure import child_erasable, child_pseudonymise

    req = _request_for_update(actor, request_id)
    answer = (answer or "").strip()
    if not answer:
        raise ValidationFailed({"answer": _("Chưa nhập nội dung trả lời cho người yêu cầu.")})
    on = on or _today()
    if on < req.received_on:
        raise ValidationFailed({"answered_on": _("Ngày trả lời trước ngày nhận yêu cầu.")})
    if done and req.kind == RequestKind.DELETION:
        reason = child_erasable(req.child, on=on)
        if reason:
            raise ValidationFailed({"done": reason})
        child_pseudonymise(actor=actor, child=req.child, request=req)
    if done and req.kind == RequestKind.RESTRICTION:
        Restriction.objects.create(child=req.child, request=req, start=on)
    req.status = SubjectRequest.Status.DONE if done else SubjectRequest.Status.REFUSED
    req.answer, req.answered_on, req.answered_by = answer, on, actor
    req.acknowledged_on = req.acknowledged_on or on
    req.save()
    audit_change(actor=actor, action="privacy.request_answer", obj=req, unit=req.unit_id,
                 changes={"status": req.status, "answered_on": on, "late": on > req.due_on})
    return req


@transaction.atomic
def restriction_end(*, actor: User, request_id: int, on: dt.date | None = None) -> Restriction:
    req = get_in_scope(SubjectRequest.objects.all(), actor, pk=request_id)
    require_unit(actor, req.unit_id)
    restriction = Restriction.objects.select_for_update().filter(request=req, end__isnull=True).first()
    if restriction is None:
        raise NotFound(_("Không có hạn chế xử lý đang áp dụng."))
    restriction.end = on or _today()
    restriction.save()
    audit_change(actor=actor, action="privacy.restriction_end", obj=req, unit=req.unit_id,
                 changes={"end": restriction.end})
    return restriction


def require_manage(actor: User) -> None:
    if not scope_for(actor).manage_privacy:
        raise PermissionDenied(_("Chỉ quản trị hệ thống và cán bộ cấp tỉnh được làm việc này."))
