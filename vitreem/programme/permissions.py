"""Who may do what in the programme, on top of `vitreem.core.scope`.

- The standing agency (province officers, admins) runs the catalogue, targets, forms, plans, accepts or
  returns reports and confirms evaluations.
- Leaders (and other province-wide roles) read everything here (there are no case details in it).
- A member-unit reporter reads and enters only their own unit's reports, tasks and evaluation, and the
  targets of the indicators their unit owns.
- A commune worker enters the reports assigned to communes for their own commune(s).
"""

from __future__ import annotations

from django.utils.translation import gettext as _

from vitreem.core.errors import PermissionDenied
from vitreem.core.scope import require_member_unit, scope_for


def is_manager(user) -> bool:
    """The standing agency's officers."""
    return scope_for(user).standing_agency


def reads_all(user) -> bool:
    return scope_for(user).province_wide


def is_reporter(user) -> bool:
    """A member unit's reporter (with the unit she reports for)."""
    return scope_for(user).member_unit_reporter


def enters_commune_reports(user) -> bool:
    """A commune worker enters her commune's reports (the forms addressed to communes)."""
    return scope_for(user).commune_worker


def can_use_programme(user) -> bool:
    """Shown in the navigation: anyone with something to read or enter here."""
    if not getattr(user, "is_authenticated", False):
        return False
    return reads_all(user) or is_reporter(user) or enters_commune_reports(user)


def require_manager(user) -> None:
    if not is_manager(user):
        raise PermissionDenied(_("Chỉ cơ quan thường trực (cán bộ cấp tỉnh) được thực hiện việc này."),
                               code="forbidden")


def require_reader(user) -> None:
    """Province-wide pages (the whole year's evaluation, the completeness matrix)."""
    if not reads_all(user) and not is_reporter(user):
        raise PermissionDenied(_("Bạn không có quyền xem trang này."))


def require_member_unit_write(user, member_unit_id: int | None) -> None:
    """Enter data for a member unit: its own reporter, or the standing agency on its behalf."""
    if is_manager(user):
        return
    if not is_reporter(user):
        raise PermissionDenied(_("Tài khoản của bạn chỉ được xem, không được nhập báo cáo."))
    require_member_unit(user, member_unit_id)


def require_member_unit_read(user, member_unit_id: int | None) -> None:
    if reads_all(user):
        return
    require_member_unit(user, member_unit_id)
