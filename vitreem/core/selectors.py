from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from .errors import PermissionDenied
from .models import AuditEntry
from .scope import scope_for

if TYPE_CHECKING:
    from vitreem.accounts.models import User


def audit_entries_for_user(*, user: User, action: str = "", object_type: str = "", actor: str = "",
                           object_id: str = "") -> QuerySet[AuditEntry]:
    """Audit entries the user may read (`Scope.can_read_audit`: administrators and provincial officers):
    an administrator every entry, an officer the entries of their units and those with no unit
    (logins, settings)."""
    from vitreem.accounts.models import Role

    scope = scope_for(user)
    if not scope.can_read_audit:
        raise PermissionDenied(_("Chỉ quản trị viên và cán bộ cấp tỉnh được xem nhật ký."))
    qs = AuditEntry.objects.select_related("actor", "unit")
    if scope.role != Role.ADMIN:
        qs = qs.filter(Q(unit__isnull=True) | Q(unit_id__in=scope.unit_ids))
    if action:
        qs = qs.filter(action__icontains=action)
    if object_type:
        qs = qs.filter(object_type=object_type)
    if object_id:
        qs = qs.filter(object_id=object_id)
    if actor:
        qs = qs.filter(actor__username=actor)
    return qs
