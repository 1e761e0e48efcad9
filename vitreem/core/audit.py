"""The audit log: one helper for changes, one for reads. Call them inside the service's transaction.

Decree 13/2023 (personal data protection) treats children's data as sensitive: every change and
every detail view of a child or a case is recorded with who, when and what.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.db import models, transaction

from .middleware import request_id_var, source_var
from .models import AuditEntry


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, (decimal.Decimal, uuid.UUID)):
        return str(value)
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


def snapshot(obj: models.Model, fields: Iterable[str] | None = None) -> dict[str, Any]:
    """The concrete field values of `obj`, JSON-ready, to diff before and after a change."""
    names = fields or [f.attname for f in obj._meta.concrete_fields]
    return {name: _jsonable(getattr(obj, name)) for name in names}


def diff(before: dict[str, Any], after: dict[str, Any]) -> dict[str, list[Any]]:
    """{field: [before, after]} for the fields that changed."""
    keys = set(before) | set(after)
    return {k: [before.get(k), after.get(k)] for k in sorted(keys) if before.get(k) != after.get(k)}


# Listeners told about committed changes (the statistics rollups use this to know which figures are
# stale). A listener gets the list of AuditEntry rows of a change, after the transaction commits,
# so it never sees a change that was rolled back. Listener errors must not break the write path.
_LISTENERS: list[Callable[[list[AuditEntry]], None]] = []


def on_change(callback: Callable[[list[AuditEntry]], None]) -> None:
    """Register `callback(entries)`, called after commit for every audit_change / audit_changes_bulk."""
    if callback not in _LISTENERS:
        _LISTENERS.append(callback)


def notify_listeners(entries: list[AuditEntry]) -> None:
    """Tell the listeners, once the transaction commits, about change rows. audit_change and
    audit_changes_bulk call it; a writer that puts its audit rows in with COPY (the import) calls it
    itself."""
    if not _LISTENERS or not entries:
        return

    def run() -> None:
        import logging

        for callback in _LISTENERS:
            try:
                callback(entries)
            except Exception:  # a listener's bug must not turn a committed change into an error
                logging.getLogger("vitreem.audit").exception("audit listener failed")

    transaction.on_commit(run)


def _object_ref(obj: models.Model | None, object_type: str | None, object_id: Any) -> tuple[str, str]:
    if obj is not None:
        return object_type or obj._meta.label_lower, str(obj.pk)
    return object_type or "", "" if object_id is None else str(object_id)


def audit_change(
    *,
    actor: Any,
    action: str,
    obj: models.Model | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    unit: Any = None,
    changes: dict[str, Any] | None = None,
    source: str | None = None,
) -> AuditEntry:
    """Record a change. Must run inside the writing transaction, so both commit or neither."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("audit_change must be called inside the service's transaction")
    otype, oid = _object_ref(obj, object_type, object_id)
    entry = AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        kind=AuditEntry.Kind.CHANGE,
        action=action,
        object_type=otype,
        object_id=oid,
        unit_id=getattr(unit, "pk", unit),
        changes=_jsonable(changes or {}),
        source=source or source_var.get(),
        request_id=request_id_var.get(),
    )
    notify_listeners([entry])
    return entry


def audit_changes_bulk(rows: list[AuditEntry]) -> None:
    """Many change rows at once (imports): same table, one INSERT per batch."""
    rid, src = request_id_var.get(), source_var.get()
    for row in rows:
        row.request_id = row.request_id or rid
        row.source = row.source or src
        row.changes = _jsonable(row.changes)
    AuditEntry.objects.bulk_create(rows, batch_size=2000)
    notify_listeners(list(rows))


def audit_access(*, actor: Any, obj: models.Model, unit: Any = None, action: str = "view") -> AuditEntry:
    """Record that `actor` opened the detail of a sensitive record."""
    otype, oid = _object_ref(obj, None, None)
    return AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        kind=AuditEntry.Kind.ACCESS,
        action=action,
        object_type=otype,
        object_id=oid,
        unit_id=getattr(unit, "pk", unit),
        source=source_var.get(),
        request_id=request_id_var.get(),
    )


def history_for(obj: models.Model, *, object_type: str | None = None):
    """The audit rows about one object, newest first (the change history on a detail page)."""
    otype, oid = _object_ref(obj, object_type, None)
    return AuditEntry.objects.filter(object_type=otype, object_id=oid).select_related("actor")
