"""Fast writes for the commit step of a validated import: ids reserved from the table's sequence and
rows sent with COPY (PostgreSQL) or executemany (SQLite) through core.bulk.insert_rows.

Django's bulk_create builds a model instance per row and binds every value client-side; for a
200,000-row list that was most of the import's time. Here a row is a plain tuple of the columns the
import knows, and every other column gets the field's default once per table (auto_now fields: the
time of the write). Runs inside the import's transaction; nothing here validates.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models

from vitreem.core.bulk import insert_rows, missing_columns, next_ids


def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`.

    PostgreSQL: taken from the table's own sequence, so a form registering a child at the same moment
    can never collide with the import. SQLite: one writer at a time, so the ids above the largest ever
    handed out (AUTOINCREMENT's sqlite_sequence, which also counts deleted rows) are free.
    """
    if count <= 0:
        return []
    table = model._meta.db_table
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            cur.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, count])
            return [row[0] for row in cur.fetchall()]
        cur.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cur.fetchone()
    used = int(row[0]) if row and row[0] is not None else 0
    ids = next_ids(model, count)
    start = max(ids.start, used + 1)
    return list(range(start, start + count))


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


# One encoder for the whole import: json.dumps(..., default=…) builds a new encoder on every call,
# which costs more than encoding a child's audit snapshot.
_ENCODER = json.JSONEncoder(default=_json_default)


def to_json(value: Any) -> str:
    """A JSONField value as the column stores it (dates as ISO text, like core.audit's snapshots)."""
    return _ENCODER.encode(value)


class Copy:
    """Rows for one table: `add(*values)` in the order of `given` (attnames); the other columns take
    their field default, computed once. `flush()` writes what was added."""

    def __init__(self, model: type[models.Model], given: Sequence[str], *, now: dt.datetime,
                 writer: Writer | None = None):
        fields = {f.attname: f for f in model._meta.concrete_fields}
        unknown = [name for name in given if name not in fields]
        if unknown:
            raise ValueError(f"{model.__name__} has no column {unknown}")
        missing_columns(model, given)
        tail_names: list[str] = []
        tail: list[Any] = []
        for name, f in fields.items():
            if name in given or f.primary_key:
                continue
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value: Any = now
            else:
                value = f.get_default()
            tail_names.append(name)
            tail.append(self._constant(f, value))
        self.model = model
        self.columns: list[str] = [str(fields[name].column) for name in [*given, *tail_names]]
        self.tail = tuple(tail)
        self.rows: list[tuple[Any, ...]] = []
        self.writer = writer

    @staticmethod
    def _constant(f: models.Field, value: Any) -> Any:
        if value is None:
            return None
        if isinstance(f, models.JSONField):
            return to_json(value)
        if isinstance(value, dt.datetime) and connection.vendor != "postgresql":
            return connection.ops.adapt_datetimefield_value(value)
        return value

    def add(self, *values: Any) -> None:
        self.rows.append(values + self.tail)

    def flush(self) -> int:
        rows, self.rows = self.rows, []
        if self.writer is not None:
            self.writer.write(self.model, self.columns, rows)
            return len(rows)
        return insert_rows(self.model, self.columns, rows) if rows else 0


class Writer:
    """Where Copy.flush() sends its rows.

    On PostgreSQL the COPYs of one chunk run in a background thread on the same connection (the same
    transaction) while the engine reads and validates the next chunk: the server's work (indexes,
    constraints) then overlaps the Python work instead of following it. The engine calls `wait()`
    before it uses the connection itself; the connection is never used by both at once. Elsewhere
    (SQLite) each flush writes at once through core.bulk.insert_rows.
    """

    def __init__(self, *, background: bool | None = None):
        self.background = connection.vendor == "postgresql" if background is None else background
        self._pool: Any = None
        self._pending: list[Any] = []

    def write(self, model: type[models.Model], columns: list[str], rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        if not self.background:
            insert_rows(model, columns, rows)
            return
        if self._pool is None:
            from concurrent.futures import ThreadPoolExecutor

            # Django's foreign keys are checked at commit (deferred): for a whole import that is one
            # long serial step at the end. Checked at the end of each COPY instead, the checks run
            # in the writer's time, beside the reading of the next chunk. The rows of a chunk are
            # sent parents first, so immediate checks hold; close() puts the deferral back.
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="import-copy")
        raw = connection.connection
        table = model._meta.db_table
        quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
        self._pending.append(self._pool.submit(_copy_raw, raw, f"COPY {table} ({quoted}) FROM STDIN", rows))

    def wait(self) -> None:
        """Block until every write sent so far is done; re-raise the first failure."""
        pending, self._pending = self._pending, []
        error = None
        for future in pending:
            try:
                future.result()
            except Exception as exc:  # noqa: BLE001 — kept, raised once all writes stopped
                error = error or exc
        if error is not None:
            with connection.wrap_database_errors:  # the driver's error as Django's (IntegrityError…)
                raise error

    def close(self) -> None:
        """Wait for the writes, stop the thread and put Django's deferred checks back. After a failed
        write the transaction is aborted: only the thread is stopped and the failure raised."""
        try:
            self.wait()
        finally:
            pool, self._pool = self._pool, None
            if pool is not None:
                pool.shutdown(wait=True)
        if pool is not None:
            with connection.cursor() as cur:
                cur.execute("SET CONSTRAINTS ALL DEFERRED")


def _copy_raw(raw: Any, sql: str, rows: list[tuple[Any, ...]]) -> None:
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for row in rows:
            copy.write_row(row)
