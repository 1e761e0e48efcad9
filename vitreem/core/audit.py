"""The audit log: one helper for changes, one for reads. Call them inside the service's transaction.

Decree 13/2023 (personal data protection) treats children's data as sensitive: every change and
every detail view of a child or a case is recorded with who, when and what.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from django.db import models, transaction

from .middleware import request_id_var, source_var
from .models import AuditEntry

if TYPE_CHECKING:
    from vitreem.accounts.models import User


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


# Facts about the circumstances of a write that every audit row written inside `audit_context` carries
# under its keys (an offline change synced later: its change id, the time the worker recorded it and
# the time it reached the server), so a service need not know where its call came from.
_context_var: ContextVar[dict[str, Any] | None] = ContextVar("audit_context", default=None)


@contextlib.contextmanager
def audit_context(**extra: Any) -> Iterator[None]:
    """Add `extra` (JSON-ready after _jsonable) to the `changes` of every audit_change in the block."""
    token = _context_var.set({**(_context_var.get() or {}), **extra})
    try:
        yield
    finally:
        _context_var.reset(token)


def _object_ref(obj: models.Model | None, object_type: str | None, object_id: Any) -> tuple[str, str]:
    if obj is not None:
        return object_type or obj._meta.label_lower, str(obj.pk)
    return object_type or "", "" if object_id is None else str(object_id)


def audit_change(
    *,
    actor: User | None,
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
    extra = _context_var.get()
    entry = AuditEntry.objects.create(
        actor=actor if getattr(actor, "pk", None) else None,
        kind=AuditEntry.Kind.CHANGE,
        action=action,
        object_type=otype,
        object_id=oid,
        unit_id=getattr(unit, "pk", unit),
        changes=_jsonable({**(changes or {}), **extra} if extra else (changes or {})),
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


# ---------------------------------------------------------------- reads, never failing the request

def _spool_dir():
    from pathlib import Path

    from django.conf import settings

    return Path(settings.VITREEM_AUDIT_SPOOL_DIR)


def _record_read(**fields: Any) -> AuditEntry:
    """Write a read's audit row without ever making the read fail or wait (issue 20 item 8).

    On SQLite an import holds the one write lock for its whole transaction; a row written then would
    wait for it and fail after the busy timeout ("database is locked") — the page or the API call with
    it. So outside a transaction the row is tried once without waiting (core.db.write_if_free) and,
    when the database is busy, appended to a spool file; audit_spool_flush writes it later (run_worker
    and audit_seal do, every minute), with the time of the read in changes["read_at"]. PostgreSQL
    locks rows, not the database: there, and inside a transaction, the row is written at once."""
    from .db import write_if_free

    entry = AuditEntry(**fields)
    if write_if_free(entry.save):
        return entry
    import json
    import os

    from django.utils import timezone

    spool = _spool_dir()
    spool.mkdir(parents=True, exist_ok=True)
    line = {f.attname: getattr(entry, f.attname) for f in AuditEntry._meta.concrete_fields
            if f.attname not in ("id", "at", "seq", "hash")}
    line["changes"] = {**(entry.changes or {}), "read_at": timezone.now().isoformat()}
    # One file per process, appended in one write: processes never interleave within a line.
    with open(spool / f"{os.getpid()}.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(_jsonable(line), ensure_ascii=False) + "\n")
    return entry


def audit_spool_flush() -> int:
    """Write the spooled read rows into the audit log; returns how many. A file is renamed before it is
    read (its process starts a new one), written in one transaction and deleted after; a database
    still busy leaves it for the next time."""
    import json
    import uuid as uuid_mod

    from .db import write_if_free

    spool = _spool_dir()
    if not spool.is_dir():
        return 0
    total = 0
    for path in sorted(spool.glob("*.jsonl")):
        path = path.rename(path.with_suffix(f".{uuid_mod.uuid4().hex}.flushing"))
    for path in sorted(spool.glob("*.flushing")):
        rows = [AuditEntry(**json.loads(line)) for line in path.read_text(encoding="utf-8").splitlines() if line]

        def write(rows: list[AuditEntry] = rows) -> None:
            with transaction.atomic():
                AuditEntry.objects.bulk_create(rows, batch_size=1000)

        if not write_if_free(write):
            break
        path.unlink()
        total += len(rows)
    return total


def audit_access(*, actor: User | None, obj: models.Model, unit: Any = None, action: str = "view") -> AuditEntry:
    """Record that `actor` opened the detail of a sensitive record."""
    otype, oid = _object_ref(obj, None, None)
    return _record_read(
        actor=actor if getattr(actor, "pk", None) else None,
        kind=AuditEntry.Kind.ACCESS,
        action=action,
        object_type=otype,
        object_id=oid,
        unit_id=getattr(unit, "pk", unit),
        source=source_var.get(),
        request_id=request_id_var.get(),
    )


# The filters a list was read with, as the audit row keeps them: plain values only, empty ones left out,
# each cut to a length that keeps one row small whatever the query string holds.
_FILTER_VALUE_MAX = 200


def _filters_kept(filters: dict[str, Any]) -> dict[str, Any]:
    kept: dict[str, Any] = {}
    for key, value in filters.items():
        if value in (None, "", [], (), {}):
            continue
        value = _jsonable(value)
        if not isinstance(value, (bool, int, float)):
            value = str(value)[:_FILTER_VALUE_MAX]
        kept[str(key)[:64]] = value
    return kept


def audit_read_list(*, user: User | None, what: str, filters: dict[str, Any], count: int,
                    total: int | None = None, action: str = "list", unit: Any = None,
                    extra: dict[str, Any] | None = None) -> AuditEntry:
    """Record one read in bulk — a list page, an API list, an export (issue 20 item 6): who, which list
    (`what`: the model label, e.g. "registry.child"), the filters it was read with and how many records
    it returned (`count`; `total`, when known, how many matched). One row per request, never one per
    record, so reading a list stays cheap. `action` is "list" for a page or an API list, "export" for a
    file (what the breach log of the data-protection law asks: whose data left, and when)."""
    changes: dict[str, Any] = {"filters": _filters_kept(filters), "count": int(count)}
    if total is not None:
        changes["total"] = int(total)
    if extra:
        # An export's row also says whose data it held and on what ground (privacy/exports.py).
        changes.update({k: _jsonable(v) for k, v in extra.items() if k not in changes})
    return _record_read(
        actor=user if getattr(user, "pk", None) else None,
        kind=AuditEntry.Kind.ACCESS,
        action=action[:64],
        object_type=what,
        object_id="",
        unit_id=getattr(unit, "pk", unit),
        changes=changes,
        source=source_var.get(),
        request_id=request_id_var.get(),
    )


def history_for(obj: models.Model, *, object_type: str | None = None):
    """The audit rows about one object, newest first (the change history on a detail page)."""
    otype, oid = _object_ref(obj, object_type, None)
    return AuditEntry.objects.filter(object_type=otype, object_id=oid).select_related("actor")


# ---------------------------------------------------------------- history in words

# Bookkeeping a history never shows: row versions, search keys, the distribution column.
_HIDDEN_KEYS = {"version", "name_key", "given_key", "family_name", "middle_name", "given_name", "province_code",
                "head_key", "updated_at", "created_at"}


def _value_text(value: Any) -> str:
    from django.utils.translation import gettext

    if value in (None, ""):
        return "—"
    if isinstance(value, bool):
        return gettext("có") if value else gettext("không")
    return str(value)


def changes_text(changes: dict[str, Any] | None, labels: Mapping[str, Any] | None = None) -> str:
    """"Họ và tên: A → B; Thôn: — → Thôn 3" for a {field: [before, after]} diff, with `labels` naming
    the fields (a foreign key's "owner_id" is looked up as "owner"); other facts as "field: value".
    Internal bookkeeping is left out (issue 21 item 6: histories showed raw dicts)."""
    labels = labels or {}
    parts = []
    for key, value in (changes or {}).items():
        if key in _HIDDEN_KEYS:
            continue
        label = str(labels.get(key) or labels.get(key.removesuffix("_id")) or key)
        if isinstance(value, list) and len(value) == 2:  # noqa: PLR2004 — [before, after]
            parts.append(f"{label}: {_value_text(value[0])} → {_value_text(value[1])}")
        elif isinstance(value, dict) and value.get("full_name"):  # a person the change was about
            parts.append(f"{label}: {value['full_name']}")
        elif not isinstance(value, (dict, list)):
            parts.append(f"{label}: {_value_text(value)}")
    return "; ".join(parts)


def history_in_words(entries: Iterable[AuditEntry], labels: Any = None) -> list[dict[str, Any]]:
    """Audit rows as a settings page shows them: when, who and what, in words. `labels`: a mapping of
    field names, or the page's form (its fields' labels are the names people read on the page)."""
    if labels is not None and hasattr(labels, "fields"):
        labels = {name: field.label for name, field in labels.fields.items()}
    return [{"at": e.at, "actor": e.actor, "action": e.action,
             "text": changes_text(e.changes if isinstance(e.changes, dict) else None, labels)} for e in entries]

