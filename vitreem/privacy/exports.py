"""Least privilege in exports (issue 15 item 8) and the record of every file that leaves the system.

A file with children's names, IDs or case data is taken only by a role whose work is the list itself
(`Scope.export_names`, core/scope.py). Its audit row is the bulk-read row of core/audit.py
(`audit_read_list`, action "export": who, which list, its filters, how many rows) — one mechanism for
every list and export — with what the breach log needs on top: the communes whose children it held and
how many each ("whose data left, and when") and the legal ground it rests on, the purpose `named-export`
of the register: sharing inside the agency for the purpose set (Law 91/2025/QH15 Art. 17(1)(b)) under
Art. 19(1)(c). The breach page reads these rows back (selectors.exports_log).
"""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.utils.translation import gettext as _

from vitreem.core.audit import audit_read_list
from vitreem.core.errors import PermissionDenied
from vitreem.core.scope import scope_for

NAMED_PURPOSE = "named-export"


def require_export_names(user) -> None:
    if not scope_for(user).export_names:
        raise PermissionDenied(_("Tài khoản của bạn không được xuất danh sách có họ tên, số định danh hoặc "
                                 "thông tin vụ việc; hãy dùng bản xuất ẩn danh (số liệu theo nhóm tuổi)."),
                               code="no_named_export")


def units_of(qs: QuerySet, unit_field: str = "unit_id") -> dict[str, int]:
    """{unit id: rows} of an export's queryset (one GROUP BY)."""
    return {str(u): n for u, n in qs.order_by().values_list(unit_field).annotate(n=Count("pk")) if u is not None}


def export_audit(*, actor, what: str, rows: int, filters: dict[str, Any], units: dict[str, int] | None = None,
                 named: bool = True, extra: dict[str, Any] | None = None) -> None:
    """The audit row of one export: `what` is the list's model label ("registry.child",
    "benefits.payroll"), `units` {unit id: rows}. A single-commune export carries that commune as the
    row's unit, so the commune's own officers find it."""
    ground: dict[str, Any] = {"units": units or {}}
    ground.update({"purpose": NAMED_PURPOSE, "basis": "19_1_c"} if named else {"anonymised": True})
    unit = int(next(iter(units))) if units and len(units) == 1 else None
    audit_read_list(user=actor, what=what, filters=filters, count=rows, action="export", unit=unit,
                    extra={**ground, **(extra or {})})
