"""Reassignment of a case to another commune worker by the caseload's managers."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.accounts.models import Role, User
from vitreem.core.audit import snapshot
from vitreem.core.errors import ValidationFailed
from vitreem.core.scope import scope_for

from ..models import (
    Case,
    CaseEvent,
)
from ._common import _record, _text, case_for_action

# ---------------------------------------------------------------- reassignment

# The provincial case supervisor and the standing agency's officer manage the caseload of the
# province (Scope.manages_caseload); they hand a case to another commune worker (a worker leaving, on
# leave, overloaded).


def owner_candidates(case: Case):
    """Active commune workers whose units cover the case's commune (the commune itself or a unit
    above it), current owner excluded: who may receive the case."""
    from vitreem.accounts.models import User

    covering: list[int] = []
    unit: Any = case.unit
    while unit is not None:
        covering.append(unit.pk)
        unit = unit.parent
    return (User.objects.filter(role=Role.COMMUNE_WORKER, is_active=True, unitmembership__unit_id__in=covering)
            .exclude(pk=case.owner_id).distinct().order_by("full_name", "username"))


@transaction.atomic
def case_reassign(*, actor: User, case: Case | int, expected_version: int | None, owner: Any, reason: str) -> Case:
    """Hand the case to another commune worker of its commune. The new owner is notified in the app
    (and by e-mail when they have an address); the old owner keeps no special access."""
    from vitreem.accounts.models import User

    from ..notifications import assignment_notify

    case = case_for_action(actor, case, expected_version, action="reassign")
    errors: dict[str, str] = {}
    pk = owner.pk if isinstance(owner, User) else owner
    try:
        new_owner = User.objects.filter(pk=int(pk), is_active=True).first() if pk not in (None, "") else None
    except (TypeError, ValueError):
        new_owner = None
    if new_owner is None:
        errors["owner"] = _("Người nhận: chọn một người làm công tác bảo vệ trẻ em của xã.")
    elif new_owner.pk == case.owner_id:
        errors["owner"] = _("Người nhận: vụ việc đang do %(u)s phụ trách.") % {"u": new_owner.display_name}
    elif not scope_for(new_owner).commune_worker:
        errors["owner"] = _("Người nhận: %(u)s không phải người làm công tác bảo vệ trẻ em "
                            "cấp xã.") % {"u": new_owner.display_name}
    elif not owner_candidates(case).filter(pk=new_owner.pk).exists():
        errors["owner"] = _("Người nhận: %(u)s không phụ trách %(x)s, nơi có vụ việc.") % {
            "u": new_owner.display_name, "x": case.unit.name}
    if not _text(reason):
        errors["reason"] = _("Lý do: chưa nhập lý do giao lại vụ việc.")
    if errors:
        raise ValidationFailed(errors)
    assert new_owner is not None
    before = snapshot(case)
    old_owner = case.owner
    case.owner = new_owner
    event = _record(case, actor=actor, kind=CaseEvent.Kind.REASSIGN, before=before, from_status=case.status,
                    text=_text(reason), data={"from": old_owner.display_name, "from_id": old_owner.pk,
                                              "to": new_owner.display_name, "to_id": new_owner.pk})
    assignment_notify(case=case, owner=new_owner, actor=actor, at=event.at)
    return case
