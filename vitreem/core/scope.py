"""Scope: the one place that decides which administrative units (and member units) a user may see.

Every selector of child, household, case or benefit data filters through `scope_filter`; no view or
API endpoint builds its own filter. A commune worker sees their commune(s); a provincial officer or
leader the whole province they are assigned (both its legacy and its 2025 unit when assigned both);
a member-unit reporter no child records at all, only their unit's reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any, TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

from . import db as _db  # noqa: F401 — registers the `in_ids` lookup scope_filter uses
from .errors import NotFound, PermissionDenied

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from vitreem.accounts.models import User


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
    # Reads the audit log (issue 20 item 10): the standing agency only — administrators and provincial
    # officers, the roles that must log in with a second factor. The log tells who opened which child's
    # record, case or allowance anywhere in the province, far more than a case supervisor's work needs
    # (their cases' own history is on each case's page). Pages, menu and selectors ask only here.
    can_read_audit: bool = False
    # Least privilege in exports (issue 15 item 8; Law 91/2025/QH15 Art. 3(2): personal data only within
    # the purpose): a file with children's names, IDs or case data leaves the system only in the hands of
    # the roles whose work is the list itself. Every role that reads child figures may take the
    # anonymised export (vitreem/privacy/anonymised.py).
    export_names: bool = False
    # Administrators of personal-data protection: the register of purposes, retention, the export log.
    manage_privacy: bool = False
    # The Steering Committee's standing agency (administrators and provincial officers): settings,
    # exceptions to the benefit rules, activity budgets, targets, other units' programme reports.
    standing_agency: bool = False
    # The benefit rules themselves (coefficients, base levels): administrators only.
    edits_rules: bool = False
    # A commune's child-protection worker: her commune's case work, her commune's programme reports.
    commune_worker: bool = False
    # The commune's own people (worker, chairman): children's names in full on case lists.
    commune_staff: bool = False
    # A member unit's reporter (only with a member unit): that unit's programme reports.
    member_unit_reporter: bool = False
    # An agency a case is referred to: only its own open referrals.
    referral_agency: bool = False
    # The case workflow's abilities (cases/workflow.py maps its actions to these).
    works_cases: bool = False
    decides_cases: bool = False
    manages_caseload: bool = False

    def sees_unit(self, unit_id: int | None) -> bool:
        return unit_id is not None and unit_id in self.unit_ids

    @cached_property
    def province_code(self) -> str | None:
        """The one 2025 province all the user's units are in (None: several, or none).

        Every child-data row carries its child's province code and a child never changes province
        (places/fields.py; registry.services.child_move refuses a move to another province), so a
        filter on it never drops a row the unit filter keeps. It lets PostgreSQL use the indexes that
        lead with the province, as the name search's does (registry/0013)."""
        from vitreem.places.selectors import province_map

        codes = province_map()
        found = {codes.get(pk, "") for pk in self.unit_ids}
        return found.pop() if len(found) == 1 and "" not in found else None


_EMPTY = Scope(None, "", frozenset(), frozenset(), False, False, False, False)


def _with_merged_predecessors(unit_ids: set[int]) -> set[int]:
    """The units and the legacy units merged into them by the 2025 reform (their default successor in
    the crosswalk, the same mapping figures use): records filed before 1 July 2025 under a commune that
    became part of hers — a case, a decision — are the 2025 commune's, for every kind of record (issue 21
    item 2: a worker owned a case of a merged commune she could not open). A split commune's records go
    to its default successor only, so no other successor's people see them."""
    from vitreem.places.models import UnitSuccession

    merged = UnitSuccession.objects.filter(new_id__in_ids=unit_ids, is_default=True).values_list("old_id", flat=True)
    return unit_ids | set(merged)


# {assigned unit ids: (the tree's stamp, the units they cover)}: the same few assignments (a province, a
# commune) are expanded on every request, three queries over the province's ~400 units (3.9 ms of a
# province officer's request, 1.2 ms of a commune worker's, measured). Kept per process while the unit
# tree's stamp (places.TreeStamp: one small query) does not move.
_UNITS_UNDER: dict[frozenset[int], tuple[Any, frozenset[int]]] = {}


def _units_under(assigned: list) -> frozenset[int]:
    from vitreem.places.selectors import descendant_ids, kept_while_tree_unchanged

    return kept_while_tree_unchanged(
        _UNITS_UNDER, frozenset(u.pk for u in assigned),
        lambda: frozenset(_with_merged_predecessors(descendant_ids(assigned))))


def scope_for(user: User | AnonymousUser | None) -> Scope:
    """The scope of `user`, computed once per user object (per request); the empty scope for no user, an
    anonymous one or an inactive account."""
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return _EMPTY
    cached = getattr(user, "_vitreem_scope", None)
    if cached is not None:
        return cached

    from vitreem.accounts.models import (
        CASE_DECIDER_ROLES,
        CASE_WORKER_ROLES,
        CASELOAD_MANAGER_ROLES,
        COMMUNE_STAFF_ROLES,
        PROVINCE_WIDE_ROLES,
        STANDING_AGENCY_ROLES,
        Role,
    )
    role = user.role
    assigned = list(user.units.all())
    unit_ids = _units_under(assigned)
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
        can_read_audit=role in STANDING_AGENCY_ROLES,
        export_names=role in STANDING_AGENCY_ROLES | {Role.COMMUNE_WORKER},
        manage_privacy=role in STANDING_AGENCY_ROLES,
        standing_agency=role in STANDING_AGENCY_ROLES,
        edits_rules=role == Role.ADMIN,
        commune_worker=role == Role.COMMUNE_WORKER,
        commune_staff=role in COMMUNE_STAFF_ROLES,
        member_unit_reporter=role == Role.REPORTER and bool(member_units),
        referral_agency=role == Role.REFERRAL_AGENCY,
        works_cases=role in CASE_WORKER_ROLES,
        decides_cases=role in CASE_DECIDER_ROLES,
        manages_caseload=role in CASELOAD_MANAGER_ROLES,
    )
    user._vitreem_scope = scope
    return scope


def scope_filter(qs: QuerySet, user: User, *, unit_field: str = "unit") -> QuerySet:
    """Restrict a queryset of child-related rows to the units the user may see."""
    scope = scope_for(user)
    if not scope.read_children or not scope.unit_ids:
        return qs.none()
    return qs.filter(**{f"{unit_field}__in_ids": scope.unit_ids})  # core.db.InIds: hundreds of ids, one parameter


def units_filter(qs: QuerySet, user: User) -> QuerySet:
    """Restrict a queryset of AdminUnit to those in the user's scope."""
    scope = scope_for(user)
    return qs.filter(pk__in_ids=scope.unit_ids)


M = TypeVar("M", bound=Model)


def get_in_scope(qs: QuerySet[M], user: User, *, unit_field: str = "unit", **lookup) -> M:
    """Fetch one object the user may see; anything else is 404 (we do not reveal that it exists)."""
    try:
        return scope_filter(qs, user, unit_field=unit_field).get(**lookup)
    except (ObjectDoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None


def require_ability(user: User, ability: str, message: str) -> None:
    """The one guard of pages and API operations: PermissionDenied (the 403 page, or the API's 403,
    through the domain-error middleware and core/api.py) unless the user's Scope has `ability` (one
    of its named fields, such as "read_children"); `message` says what the account may not see."""
    if not getattr(scope_for(user), ability):
        raise PermissionDenied(message)


def require_unit(user: User, unit, *, write: bool = True) -> None:
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


def require_member_unit(user: User, member_unit_id: int | None) -> None:
    scope = scope_for(user)
    if scope.province_wide:
        return
    if member_unit_id is None or member_unit_id not in scope.member_unit_ids:
        raise PermissionDenied(_("Bạn không thuộc đơn vị này."), code="out_of_scope")
