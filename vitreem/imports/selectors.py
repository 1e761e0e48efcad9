"""Every read of the imports app, through the scope mechanism."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from vitreem.core.errors import NotFound
from vitreem.core.scope import get_in_scope, scope_filter, scope_for

from .models import ExportFile, ImportBatch


def imports_for_user(*, user) -> QuerySet[ImportBatch]:
    """The imports filed under units the user may see (a commune worker: their commune's)."""
    return scope_filter(ImportBatch.objects.select_related("owner", "unit"), user)


def import_get_for_user(*, user, import_id: int) -> ImportBatch:
    found = get_in_scope(ImportBatch.objects.select_related("owner", "unit", "default_unit"), user, pk=import_id)
    assert isinstance(found, ImportBatch)
    return found


def export_get_for_user(*, user, export_id: int) -> ExportFile:
    """An export file is its owner's alone (it holds the children they could see when it was made)."""
    found = ExportFile.objects.filter(pk=export_id, owner_id=getattr(user, "pk", None)).first()
    if found is None or not scope_for(user).read_children:
        raise NotFound("")
    return found


def children_for_export(*, user, filters: dict[str, Any] | None = None):
    """The children of the child list with its filters (registry.children_filter), within scope."""
    from vitreem.registry.selectors import children_filter, children_for_user

    filters = dict(filters or {})
    qs = children_for_user(user=user, include_ended=filters.get("as_of") is not None)
    return children_filter(qs, user=user, **filters)
