"""Fast inserts for large generated or imported data sets: COPY on PostgreSQL, executemany on SQLite.

Django's bulk_create manages about 9,000 rows/s here; COPY about 120,000. Use this only for rows
whose validation already happened (demo generation, the commit step of a validated import), inside
the caller's transaction, and reserve ids with `next_ids` so related rows can point at them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

from django.db import connection


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
    PostgreSQL's COPY needs no such help. Runs inside the caller's transaction (SQLite DDL is transactional)."""
    if connection.vendor != "sqlite":
        yield
        return
    saved: list[tuple[str, str]] = []
    with connection.cursor() as cur:
        for model in models:
            cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = %s AND sql IS NOT NULL",
                        [model._meta.db_table])
            saved += cur.fetchall()
        for name, _sql in saved:
            cur.execute(f'DROP INDEX "{name}"')
    try:
        yield
    finally:
        with connection.cursor() as cur:
            for _name, sql in saved:
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
