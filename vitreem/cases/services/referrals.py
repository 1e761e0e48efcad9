"""Referrals to other agencies: Decree 56/2017, Art. 29."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.accounts.models import MemberUnit, User
from vitreem.core.audit import snapshot
from vitreem.core.errors import NotFound, ValidationFailed
from vitreem.core.scope import scope_for

from .. import workflow
from ..models import (
    Case,
    CaseEvent,
    Referral,
)
from ._common import CONSENT_AGE, _now, _record, _text, case_for_action

# ---------------------------------------------------------------- referrals

@transaction.atomic
def referral_open(*, actor: User, case: Case | int, expected_version: int | None, member_unit: MemberUnit | int,
                  reason: str, guardian_consent: bool, child_consent: bool | None = None,
                  exception: str = "", exception_note: str = "") -> Referral:
    """Refer the case to another agency. The child's information leaves the commune only with the consent
    of the legal representative and of the child aged 7 or over (Law 91/2025/QH15 Art. 24(2)), or under an
    exception of Art. 19(1) stated with its facts (`exception`, e.g. "19_1_a": life or health in an urgent
    case). privacy.services.disclosure_record checks it (a restriction the family obtained, Art. 10,
    stops a referral on consent) and writes the ground in the audit log."""
    from vitreem.privacy.services import disclosure_record

    case = case_for_action(actor, case, expected_version, action="referral")
    errors: dict[str, str] = {}
    unit = member_unit if isinstance(member_unit, MemberUnit) else MemberUnit.objects.filter(
        pk=member_unit).first()
    if unit is None:
        errors["member_unit"] = _("Chọn cơ quan, tổ chức nhận chuyển gửi.")
    elif not unit.member_on(timezone.localdate()):
        # A unit whose membership has ended (DOLISA after the 2025 reorganisation) takes no new referral.
        errors["member_unit"] = _("%(u)s không còn là đơn vị thành viên: không chuyển gửi mới tới đơn vị này.") % {
            "u": unit.name}
    elif case.referrals.filter(member_unit=unit, closed_at__isnull=True).exists():
        errors["member_unit"] = _("Vụ việc đang được chuyển gửi tới %(u)s.") % {"u": unit.name}
    if not _text(reason):
        errors["reason"] = _("Chưa nhập lý do, nội dung chuyển gửi.")
    age = case.child.age_on(timezone.localdate())
    if not exception and not guardian_consent:
        errors["guardian_consent"] = _("Chưa ghi nhận sự đồng ý của cha mẹ/người chăm sóc: không được chia sẻ "
                                       "thông tin của trẻ với cơ quan khác.")
    if not exception and age >= CONSENT_AGE and not child_consent:
        errors["child_consent"] = _("Trẻ từ đủ 7 tuổi: cần ghi nhận sự đồng ý của trẻ trước khi chuyển gửi.")
    if errors:
        raise ValidationFailed(errors)
    assert unit is not None
    disclosure_record(actor=actor, child=case.child, purpose="referral", exception=exception, note=exception_note,
                      target=unit.name, given_on_form=None if exception else {
                          "guardian": True, "child": bool(child_consent) if age >= CONSENT_AGE else None,
                          "case": case.code})
    before = snapshot(case)
    referral = Referral.objects.create(case=case, member_unit=unit, reason=_text(reason),
                                       child_consent=bool(child_consent) if age >= CONSENT_AGE else None,
                                       guardian_consent=bool(guardian_consent), opened_at=_now(), opened_by=actor)
    _record(case, actor=actor, kind=CaseEvent.Kind.REFERRAL, before=before, from_status=case.status,
            text=referral.reason, data={"referral": referral.pk, "member_unit": unit.name,
                                        "child_consent": referral.child_consent,
                                        "guardian_consent": referral.guardian_consent, "exception": exception})
    return referral


@transaction.atomic
def referral_close(*, actor: User, case: Case | int, expected_version: int | None, referral_id: int,
                   result: str = "") -> Referral:
    """End a referral: the agency's access to the case ends with it. The case worker or the
    agency itself may close it (workflow.TRANSITIONS["referral_close"]); an agency only its own."""
    case = case_for_action(actor, case, expected_version, action="referral_close")
    referral = case.referrals.filter(pk=referral_id, closed_at__isnull=True).select_related("member_unit").first()
    if referral is not None and workflow.WORKS_CASE not in workflow.abilities_of(actor) \
            and referral.member_unit_id not in scope_for(actor).member_unit_ids:
        referral = None
    if referral is None:
        raise NotFound(_("Không tìm thấy lượt chuyển gửi đang mở."))
    before = snapshot(case)
    referral.closed_at, referral.result = _now(), _text(result)
    referral.save()
    _record(case, actor=actor, kind=CaseEvent.Kind.REFERRAL_CLOSE, before=before, from_status=case.status,
            text=referral.result, data={"referral": referral.pk, "member_unit": referral.member_unit.name})
    return referral
