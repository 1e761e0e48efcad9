"""Every read of the imports app, through the scope mechanism."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from vitreem.accounts.models import User
from vitreem.core.errors import DomainError, NotFound
from vitreem.core.scope import get_in_scope, scope_filter, scope_for

from .models import ExportFile, ImportBatch


def imports_for_user(*, user: User) -> QuerySet[ImportBatch]:
    """The imports filed under units the user may see (a commune worker: their commune's)."""
    return scope_filter(ImportBatch.objects.select_related("owner", "unit"), user)


def import_get_for_user(*, user: User, import_id: int) -> ImportBatch:
    found = get_in_scope(ImportBatch.objects.select_related("owner", "unit", "default_unit"), user, pk=import_id)
    assert isinstance(found, ImportBatch)
    return found


def export_get_for_user(*, user: User, export_id: int) -> ExportFile:
    """An export file is its owner's alone (it holds the children they could see when it was made)."""
    found = ExportFile.objects.filter(pk=export_id, owner_id=getattr(user, "pk", None)).first()
    if found is None or not scope_for(user).read_children:
        raise NotFound("")
    return found


def children_for_export(*, user: User, filters: dict[str, Any] | None = None):
    """The children of the child list with its filters (registry.children_filter), within scope."""
    from vitreem.registry.selectors import children_filter, children_for_user

    filters = dict(filters or {})
    qs = children_for_user(user=user, include_ended=filters.get("as_of") is not None)
    return children_filter(qs, user=user, **filters)


def export_filters(user: User, query: dict[str, Any]):
    """The child list's own filter form and selector: an export is exactly the list on screen."""
    from vitreem.registry.forms import ChildFilterForm

    form = ChildFilterForm(query, user=user)
    if not form.is_valid():
        raise DomainError(_("Bộ lọc không hợp lệ: %(e)s") % {"e": "; ".join(
            f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items())}, code="invalid_filter")
    filters = form.filter_kwargs()
    return filters, children_for_export(user=user, filters=filters)
