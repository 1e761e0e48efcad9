"""Small database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection
from django.db.models import Field, ForeignObject, Lookup


def write_if_free(write: Callable[[], Any]) -> bool:
    """Run a bookkeeping write (a token's last-use time) only if the database takes it at once.

    SQLite has one writer for the whole file: an import keeps it for its whole transaction, and a
    request waiting for it fails after the busy timeout ("database is locked", issue 20). A write
    that can be skipped tries once without waiting, and is skipped when the lock is taken. Inside a
    transaction (a service, a test) the lock is already this connection's, and PostgreSQL locks rows,
    not the database: there the write is simply made. Returns whether it was written."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        write()
        return True
    timeout_ms = int(float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        write()
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return False
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
    return True


class InIds(Lookup):
    """`field__in_ids=ids`: `field IN (ids)` for a set of integer ids (a scope's units), as one array
    parameter on PostgreSQL (`field = ANY(%s::bigint[])`, the same plan as IN) where `__in` sends one
    parameter per id. A province's scope is some 400 units: `__in` cost 3–5 ms of Python per query
    (each id prepared by Django and quoted into the text by psycopg; a text that long is not cached),
    most of the time of the pages that filter by scope. Other databases: a plain IN list."""

    lookup_name = "in_ids"
    prepare_rhs = False

    def get_prep_lookup(self) -> list[int]:
        return sorted({int(v) for v in self.rhs})

    def as_sql(self, compiler, connection):
        if not self.rhs:
            raise EmptyResultSet
        lhs, lhs_params = self.process_lhs(compiler, connection)
        if connection.vendor == "postgresql":
            return f"{lhs} = ANY(%s::{self.lhs.output_field.db_type(connection)}[])", [*lhs_params, self.rhs]
        return f"{lhs} IN ({', '.join(['%s'] * len(self.rhs))})", [*lhs_params, *self.rhs]


Field.register_lookup(InIds)
ForeignObject.register_lookup(InIds)  # a relation's lookups are its own ("unit__in_ids": the unit_id column)
