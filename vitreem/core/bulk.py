"""Fast inserts for large generated or imported data sets: COPY on PostgreSQL, executemany on SQLite.

Django's bulk_create manages about 9,000 rows/s here; COPY about 120,000. Use this only for rows
whose validation already happened (demo generation, the registry's bulk registration of a validated
import), inside the caller's transaction, and reserve ids with `next_ids` (or `reserve_ids`, from the
table's sequence) so related rows can point at them.

Two levels: `insert_rows` / `upsert_rows` write an iterable of tuples at once; `Copy` gathers the
rows of one table (the columns a writer knows, every other column its field default) and sends them
through a `Writer`, which on PostgreSQL runs the COPYs in a background thread on the same connection.
Django's bulk_create builds a model instance per row and binds every value client-side; for a
200,000-row list that was most of an import's time.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from django.db import connection, models


def next_ids(model, count: int) -> range:
    """Reserve `count` primary keys above the current maximum (caller holds the write transaction)."""
    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")  # noqa: S608 — table name from the model
        start = cur.fetchone()[0] + 1
    return range(start, start + count)


def insert_rows(model, columns: Sequence[str], rows: Iterable[Sequence], *, batch: int = 20_000) -> int:
    """Insert plain tuples into `model`'s table (column names are db columns). Returns the row count."""
    missing_columns(model, columns)
    table = model._meta.db_table
    quoted = ", ".join(connection.ops.quote_name(c) for c in columns)
    n = 0
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            with cur.cursor.copy(f"COPY {table} ({quoted}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
        else:
            sql = f"INSERT INTO {table} ({quoted}) VALUES ({', '.join(['%s'] * len(columns))})"  # noqa: S608
            chunk: list[Sequence] = []
            for row in rows:
                chunk.append(row)
                if len(chunk) >= batch:
                    cur.executemany(sql, chunk)
                    n += len(chunk)
                    chunk = []
            if chunk:
                cur.executemany(sql, chunk)
                n += len(chunk)
    return n


def upsert_rows(model, columns: Sequence[str], rows: Iterable[Sequence], *, key: Sequence[str]) -> int:
    """Insert plain tuples into `model`'s table, replacing the rows whose `key` columns (a unique
    constraint) are equal: COPY into a temporary table then one INSERT … ON CONFLICT DO UPDATE on
    PostgreSQL, INSERT … ON CONFLICT executemany on SQLite. Safe beside concurrent writers of the same
    keys (the last one wins). Returns the row count."""
    missing_columns(model, columns)
    table = model._meta.db_table
    q = connection.ops.quote_name
    cols = ", ".join(q(c) for c in columns)
    conflict = ", ".join(q(c) for c in key)
    update = ", ".join(f"{q(c)} = EXCLUDED.{q(c)}" for c in columns if c not in key)
    if connection.vendor != "postgresql":
        rows = list(rows)
        with connection.cursor() as cur:
            cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({', '.join(['%s'] * len(columns))}) "  # noqa: S608
                            f"ON CONFLICT ({conflict}) DO UPDATE SET {update}", rows)
        return len(rows)
    n = 0
    with connection.cursor() as cur:
        cur.execute(f"CREATE TEMPORARY TABLE vitreem_upsert AS SELECT {cols} FROM {table} WITH NO DATA")  # noqa: S608
        try:
            with cur.cursor.copy(f"COPY vitreem_upsert ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            # In key order: two writers of overlapping keys then take their row locks in the same
            # order, and one waits for the other instead of both waiting for each other (the load
            # benchmark's dashboards and the worker's refresh deadlocked on stats_rollup without it).
            cur.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM vitreem_upsert "  # noqa: S608
                        f"ORDER BY {conflict} ON CONFLICT ({conflict}) DO UPDATE SET {update}")
        finally:
            cur.execute("DROP TABLE vitreem_upsert")
    return n


def missing_columns(model, columns: Sequence[str]) -> None:
    """Refuse a raw insert that leaves out a column the model requires every writer to give (the
    province code of child data, places/fields.py): COPY bypasses the field's own filling."""
    missing = [f.column for f in model._meta.concrete_fields
               if getattr(f, "required_in_copy", False) and f.column not in columns and f.attname not in columns]
    if missing:
        raise ValueError(f"{model.__name__}: a raw insert must give {', '.join(missing)}")


def reset_sequences(*models) -> None:
    """After inserting explicit ids on PostgreSQL, move the id sequences past them."""
    if connection.vendor != "postgresql":
        return
    from django.core.management.color import no_style

    with connection.cursor() as cur:
        for sql in connection.ops.sequence_reset_sql(no_style(), list(models)):
            cur.execute(sql)


@contextmanager
def indexes_deferred(*models) -> Iterator[None]:
    """On SQLite, drop the tables' secondary indexes during a mass insert and rebuild them after:
    building an index once over sorted keys is several times faster than maintaining it row by row.
    PostgreSQL's COPY needs no such help. Runs inside the caller's transaction (SQLite DDL is transactional).

    The tables' triggers go and come back with them: a trigger that looks the table up (the residences'
    no-overlap check, registry/0010) would scan it whole for every row without its index — the demo's
    registry took 356 s for 50,000 children, and grew with the square. A mass insert is then checked
    by its caller (registry.demo checks the residences once, after)."""
    if connection.vendor != "sqlite":
        yield
        return
    saved: list[tuple[str, str, str]] = []
    with connection.cursor() as cur:
        for model in models:
            cur.execute("SELECT type, name, sql FROM sqlite_master WHERE type IN ('index', 'trigger') "
                        "AND tbl_name = %s AND sql IS NOT NULL", [model._meta.db_table])
            saved += cur.fetchall()
        for kind, name, _sql in saved:
            cur.execute(f'DROP {kind.upper()} "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for _kind, _name, sql in saved:
                cur.execute(sql)


@contextmanager
def pg_indexes_deferred(*models, maintenance_work_mem: str = "1GB") -> Iterator[None]:
    """On PostgreSQL, drop the tables' secondary indexes and foreign keys during a mass COPY and build
    them once after (the national bench load). With them in place, COPY into a 25-million-row table
    maintains a b-tree per index on random keys (names, dates) row by row; one sorted build per index
    is much faster. Primary keys and unique constraints stay (their keys arrive in order). Runs in
    autocommit, outside the load's transactions; the definitions are restored even if the load fails."""
    if connection.vendor != "postgresql":
        yield
        return
    tables = [model._meta.db_table for model in models]
    with connection.cursor() as cur:
        # Inside a transaction (the tests), deferred foreign-key checks still pending would forbid ALTER TABLE.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cur.execute("SELECT pg_get_indexdef(i.indexrelid), i.indexrelid::regclass::text FROM pg_index i "
                    "WHERE i.indrelid = ANY(%s::regclass[]) AND NOT i.indisprimary "
                    "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [tables])
        indexes = cur.fetchall()
        cur.execute("SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid) "
                    "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(%s::regclass[])", [tables])
        foreign_keys = cur.fetchall()
        for table, name, _definition in foreign_keys:
            cur.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
        for _definition, name in indexes:
            cur.execute(f"DROP INDEX {name}")
    try:
        yield
    finally:
        with connection.cursor() as cur:
            cur.execute(f"SET maintenance_work_mem = '{maintenance_work_mem}'")
            for definition, _name in indexes:
                cur.execute(definition)
            for table, name, definition in foreign_keys:
                cur.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")
            cur.execute("RESET maintenance_work_mem")


# ---------------------------------------------------------------- Copy and Writer

def reserve_ids(model: type[models.Model], count: int) -> list[int]:
    """`count` fresh primary keys for `model`.

    PostgreSQL: taken from the table's own sequence, so a form registering a child at the same moment
    can never collide with a bulk write. SQLite: one writer at a time, so the ids above the largest ever
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


# One encoder for every row: json.dumps(..., default=…) builds a new encoder on every call,
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
    transaction) while the caller (the import engine) reads and validates the next chunk: the server's
    work (indexes, constraints) then overlaps the Python work instead of following it. The caller calls
    `wait()` before it uses the connection itself; the connection is never used by both at once.
    Elsewhere (SQLite), or with `background=False`, each flush writes at once through insert_rows.
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
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="bulk-copy")
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
