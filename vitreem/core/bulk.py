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
