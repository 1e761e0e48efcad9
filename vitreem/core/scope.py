"""Scope: the one place that decides which administrative units (and member units) a user may see.

Every selector of child, household, case or benefit data filters through `scope_filter`; no view or
API endpoint builds its own filter. A commune worker sees their commune(s); a provincial officer or
leader the whole province they are assigned (both its legacy and its 2025 unit when assigned both);
a member-unit reporter no child records at all, only their unit's reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from .errors import NotFound, PermissionDenied


@dataclass(frozen=True)
class Scope:
    user_id: int | None
    role: str
    unit_ids: frozenset[int]
    member_unit_ids: frozenset[int]
    read_children: bool
    write_children: bool
    read_case_details: bool
    province_wide: bool

    def sees_unit(self, unit_id: int | None) -> bool:
        return unit_id is not None and unit_id in self.unit_ids


_EMPTY = Scope(None, "", frozenset(), frozenset(), False, False, False, False)


def scope_for(user) -> Scope:
    """The scope of `user`, computed once per user object (per request)."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _EMPTY
    cached = getattr(user, "_vitreem_scope", None)
    if cached is not None:
        return cached

    from vitreem.accounts.models import PROVINCE_WIDE_ROLES, Role
    from vitreem.places.selectors import descendant_ids

    role = user.role
    assigned = list(user.units.all())
    unit_ids = frozenset(descendant_ids(assigned))
    member_units = frozenset([user.member_unit_id] if user.member_unit_id else [])
    scope = Scope(
        user_id=user.pk,
        role=role,
        unit_ids=unit_ids,
        member_unit_ids=member_units,
        read_children=role != Role.REPORTER and role != Role.REFERRAL_AGENCY,
        write_children=role in {Role.ADMIN, Role.PROVINCE_OFFICER, Role.COMMUNE_WORKER},
        read_case_details=role not in {Role.REPORTER, Role.LEADER},
        province_wide=role in PROVINCE_WIDE_ROLES,
    )
    user._vitreem_scope = scope
    return scope


def scope_filter(qs: QuerySet, user, *, unit_field: str = "unit") -> QuerySet:
    """Restrict a queryset of child-related rows to the units the user may see."""
    scope = scope_for(user)
    if not scope.read_children or not scope.unit_ids:
        return qs.none()
    return qs.filter(**{f"{unit_field}__in": scope.unit_ids})


def units_filter(qs: QuerySet, user) -> QuerySet:
    """Restrict a queryset of AdminUnit to those in the user's scope."""
    scope = scope_for(user)
    return qs.filter(pk__in=scope.unit_ids)


M = TypeVar("M", bound=Model)


def get_in_scope(qs: QuerySet[M], user, *, unit_field: str = "unit", **lookup) -> M:
    """Fetch one object the user may see; anything else is 404 (we do not reveal that it exists)."""
    try:
        return scope_filter(qs, user, unit_field=unit_field).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None


def require_unit(user, unit, *, write: bool = True) -> None:
    """Refuse to read or write data of a unit outside the user's scope (or a read-only role writing)."""
    scope = scope_for(user)
    if write and not scope.write_children:
        raise PermissionDenied(_("Tài khoản của bạn chỉ được xem, không được sửa dữ liệu."))
    unit_id = getattr(unit, "pk", unit)
    if not scope.sees_unit(unit_id):
        raise PermissionDenied(
            _("Đơn vị %(unit)s nằm ngoài phạm vi của bạn.") % {"unit": getattr(unit, "name", unit_id)},
            field="unit", code="out_of_scope",
        )


def require_member_unit(user, member_unit_id: int | None) -> None:
    scope = scope_for(user)
    if scope.province_wide:
        return
    if member_unit_id is None or member_unit_id not in scope.member_unit_ids:
        raise PermissionDenied(_("Bạn không thuộc đơn vị này."), code="out_of_scope")
