"""The audit log cannot be quietly rewritten (issue 15 item 6): every row is chained to the one before it.

Each row gets a place in the chain (`seq` 1, 2, 3 …) and a link
`hash = HMAC-SHA256(key, previous hash ‖ the row's content)`, so changing a row breaks its own link and
deleting one leaves a gap in `seq` and breaks the next link; the chain's head (`AuditChain`) says where
the rows must end, so cutting the tail is seen too. The key is not in the database (VITREEM_AUDIT_KEY,
else derived from SECRET_KEY): someone who can write to the database cannot recompute the links.

Why rows are chained by a sealing step rather than when they are written. Audit rows are written by
many transactions at once — every page of a child writes one, an import COPYs tens of thousands in a
transaction that lasts half a minute, reads may be spooled and written later (sec's audit spool). To
chain a row at insert time each writer would have to lock the chain's head until it commits: every
page view would wait behind a running import. And ids do not give the commit order (a transaction
that took its ids first may commit last), so a chain by id would be broken by rows that commit late.
So writers only insert, untouched; `audit_seal` then takes the committed rows not yet sealed, in id
order, and chains them after the head, in one short transaction per batch, holding the head's row
lock (one sealer at a time). A row that commits late simply gets a later place in the chain. The
worker (`vitreem run_worker`) seals every minute; `audit_verify` and `backup` seal first. Rows that are
not yet sealed are counted by `audit_verify`, not verified: the window is that minute.

The content hashed is every column but seq and hash, read back from the database (so what is verified
is what is stored), as canonical JSON with the empty values left out (so a column added later with an
empty default does not change the hashes of older rows).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from .models import AuditChain, AuditEntry

GENESIS = "0" * 64
SEAL_BATCH = 5000
_SEAL_FIELDS = {"seq", "hash"}


def _key() -> bytes:
    key = getattr(settings, "VITREEM_AUDIT_KEY", "") or ""
    if key:
        return key.encode()
    return hashlib.sha256(b"vitreem.audit.chain:" + settings.SECRET_KEY.encode()).digest()


def content_fields() -> list[str]:
    return [f.attname for f in AuditEntry._meta.concrete_fields if f.attname not in _SEAL_FIELDS]


def _plain(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value


def canonical(row: dict[str, Any]) -> str:
    """The row's content as hashed: sorted keys, empty values left out, times in ISO 8601 (UTC)."""
    kept = {k: _plain(v) for k, v in row.items() if k not in _SEAL_FIELDS and v not in (None, "", {}, [])}
    return json.dumps(kept, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def link(previous: str, row: dict[str, Any], key: bytes | None = None) -> str:
    message = previous.encode() + b"\n" + canonical(row).encode()
    return hmac.new(key or _key(), message, hashlib.sha256).hexdigest()


def _head_locked() -> AuditChain:
    """The chain's head, locked for this transaction: the UPDATE takes PostgreSQL's row lock, and on
    SQLite it takes the file's write lock before anything is read (a read first would leave a stale
    snapshot that cannot then write)."""
    updated = AuditChain.objects.filter(pk=1).update(sealed_at=timezone.now())
    if not updated:
        AuditChain.objects.get_or_create(pk=1, defaults={"sealed_at": timezone.now()})
    return AuditChain.objects.get(pk=1)


def _seal_batch(key: bytes, batch: int) -> int:
    with transaction.atomic():
        head = _head_locked()
        rows = list(AuditEntry.objects.filter(seq__isnull=True).order_by("id").values(*content_fields())[:batch])
        if not rows:
            return 0
        seq, previous = head.last_seq, head.last_hash or GENESIS
        updates = []
        for row in rows:
            seq += 1
            previous = link(previous, row, key)
            updates.append((seq, previous, row["id"]))
        table = AuditEntry._meta.db_table
        with connection.cursor() as cursor:
            cursor.executemany(f"UPDATE {table} SET seq = %s, hash = %s WHERE id = %s AND seq IS NULL",  # noqa: S608
                               updates)
        AuditChain.objects.filter(pk=1).update(last_seq=seq, last_hash=previous)
        return len(rows)


def audit_seal(*, batch: int = SEAL_BATCH, limit: int | None = None) -> int:
    """Chain every committed row not yet sealed; returns how many were sealed.

    Outside a transaction on SQLite, a sealer that finds the database busy (an import holding the
    write lock) stops and tries again next time instead of waiting."""
    from .audit import audit_spool_flush
    from .db import write_if_free

    audit_spool_flush()  # the reads spooled while the database was busy enter the log first
    key = _key()
    total = 0
    while limit is None or total < limit:
        size = batch if limit is None else min(batch, limit - total)
        done: list[int] = []
        if not write_if_free(partial(_seal_one, key, size, done)):
            break
        if not done or not done[0]:
            break
        total += done[0]
    return total


def _seal_one(key: bytes, size: int, done: list[int]) -> None:
    done.append(_seal_batch(key, size))


@dataclass
class Verification:
    rows: int = 0
    unsealed: int = 0
    head_seq: int = 0
    head_hash: str = ""
    problems: list[dict[str, Any]] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_json(self) -> dict[str, Any]:
        return {"ok": self.ok, "rows": self.rows, "unsealed": self.unsealed,
                "head": {"seq": self.head_seq, "hash": self.head_hash}, "problems": self.problems}


def _chained_rows(chunk: int = 5000) -> Iterator[dict[str, Any]]:
    fields = [*content_fields(), "seq", "hash"]
    last = 0
    while True:
        rows = list(AuditEntry.objects.filter(seq__gt=last).order_by("seq").values(*fields)[:chunk])
        if not rows:
            return
        yield from rows
        last = rows[-1]["seq"]


def _describe(row: dict[str, Any]) -> str:
    return f"{row.get('action', '')} {row.get('object_type', '')} #{row.get('object_id', '')} at {_plain(row.get('at'))}"


def audit_verify() -> Verification:
    """Walk the chain from its start and report every row whose link does not hold, every gap, and a
    chain that stops before (or runs past) its head."""
    key = _key()
    result = Verification()
    head = AuditChain.objects.filter(pk=1).first()
    result.head_seq, result.head_hash = (head.last_seq, head.last_hash) if head else (0, "")
    expected, previous = 1, GENESIS
    for row in _chained_rows():
        seq = row["seq"]
        if seq != expected:
            result.problems.append({"kind": "missing", "from_seq": expected, "to_seq": seq - 1,
                                    "message": f"rows {expected}–{seq - 1} of the chain are missing (deleted)"})
        if link(previous, row, key) != row["hash"]:
            kind = "broken_link" if seq != expected else "altered"
            result.problems.append({"kind": kind, "seq": seq, "id": row["id"],
                                    "message": f"row {seq} (id {row['id']}: {_describe(row)}) does not match its "
                                               f"hash: changed, or written outside the application"})
        previous, expected = row["hash"], seq + 1
        result.rows += 1
    last = expected - 1
    if last < result.head_seq:
        result.problems.append({"kind": "tail_missing", "from_seq": last + 1, "to_seq": result.head_seq,
                                "message": f"the chain ends at row {last} but its head says {result.head_seq}: "
                                           f"the last rows were deleted"})
    elif last > result.head_seq or (result.head_seq and previous != result.head_hash):
        result.problems.append({"kind": "head_mismatch", "seq": last,
                                "message": "the chain's head does not match its last row"})
    result.unsealed = AuditEntry.objects.filter(seq__isnull=True).count()
    return result
