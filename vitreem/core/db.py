"""Small database helpers shared by the apps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import OperationalError, connection
from django.db.models import (
    BooleanField,
    Exists,
    Expression,
    Field,
    ForeignObject,
    Lookup,
    OuterRef,
    Q,
    QuerySet,
)


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


def after_bulk_load() -> str:
    """Refresh the planner's statistics after rows were loaded in bulk (COPY, the demo, a synthetic country).

    On PostgreSQL it also vacuums when it can (outside a transaction: VACUUM cannot run in one). A bulk
    load leaves the visibility map unset until autovacuum comes by, so no index-only scan is possible:
    the child list's count of a commune's open records visited 3,262 heap pages in 14.9 ms instead of 19
    index pages in 1.4 ms (load benchmark database, 200,000 children). Returns what it ran."""
    statement = "VACUUM (ANALYZE)" if connection.vendor == "postgresql" and not connection.in_atomic_block \
        else "ANALYZE"
    with connection.cursor() as cursor:
        cursor.execute(statement)
    return statement


def index_built_concurrently(name: str, definition: str, *, include: str = "", reverse: bool = False) -> Any:
    """A migration step (RunPython) that builds the index `name` — `CREATE INDEX name {definition}` —
    CONCURRENTLY on PostgreSQL, so a country's register takes writes while it builds, and plainly on
    SQLite; reversed by dropping it. Its migration sets `atomic = False` (CONCURRENTLY cannot run in a
    transaction) and gives the model's state the same index (SeparateDatabaseAndState).

    `include`: columns the index carries without ordering by them (PostgreSQL's `INCLUDE`, for
    index-only scans; SQLite has no such clause and builds the index without them). `reverse`: the step
    drops the index instead, and its reversal builds it (an index replaced by another)."""
    from django.db import migrations

    def concurrently(schema_editor) -> str:
        return "CONCURRENTLY " if schema_editor.connection.vendor == "postgresql" else ""

    def create(apps, schema_editor) -> None:
        covering = f" INCLUDE ({include})" if include and schema_editor.connection.vendor == "postgresql" else ""
        schema_editor.execute(f"CREATE INDEX {concurrently(schema_editor)}IF NOT EXISTS {name} {definition}{covering}")

    def drop(apps, schema_editor) -> None:
        schema_editor.execute(f"DROP INDEX {concurrently(schema_editor)}IF EXISTS {name}")

    return migrations.RunPython(drop, create) if reverse else migrations.RunPython(create, drop)


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


class InValues(InIds):
    """`field__in_values=values`: `in_ids` for text values (the rollups' stamp keys of a province's ~400
    units: 3,200 keys, each one parameter with `__in`)."""

    lookup_name = "in_values"

    def get_prep_lookup(self) -> list[str]:  # type: ignore[override]
        return sorted({str(v) for v in self.rhs})


Field.register_lookup(InIds)
Field.register_lookup(InValues)
ForeignObject.register_lookup(InIds)  # a relation's lookups are its own ("unit__in_ids": the unit_id column)


_AS_SETS: ContextVar[bool] = ContextVar("vitreem_rows_as_sets", default=False)


class HasRow(Expression):
    """The outer row has a row in `rows` whose `column` is its `outer` field — one condition, compiled
    in one of two shapes that select the same rows:

    - by default a correlated `EXISTS (SELECT … WHERE column = outer)`: an index probe per outer row,
      the cheaper plan for a few rows (a commune's list, a refresh of the communes a change touched);
    - inside `rows_as_sets()`, `outer IN (SELECT column FROM rows)`: the set is computed once and
      hashed. For a count over every child of many communes (`registry.indicators.child_counts`) the
      probes were most of the time, and a correlated subplan is also kept out of PostgreSQL's parallel
      workers (measured on the 200,000-child demo, 100 communes on one date: 1.34 s → 0.60 s on one
      core, 0.48 s with two).

    The set shape keeps EXISTS's answer where SQL's IN would not: a NULL `outer` (a child without a
    household) has no row, and NULLs in `column` are left out of the set, so a negation (`~`) stays
    true for such a row as it does with EXISTS."""

    conditional = True
    output_field = BooleanField()

    def __init__(self, rows: QuerySet, column: str, outer: str = "pk") -> None:
        super().__init__()
        self.rows, self.column, self.outer = rows, column, outer
        self.probe: Any = None
        self.member: Any = None

    def resolve_expression(self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False):
        # Both shapes are resolved against the outer query now (joins, aliases); `as_sql` picks one.
        c = self.copy()
        c.is_summary = summarize
        args = (query, allow_joins, reuse, summarize, for_save)
        c.probe = Exists(self.rows.filter(**{self.column: OuterRef(self.outer)})).resolve_expression(*args)
        member = Q(**{f"{self.outer}__in": self.rows.filter(**{f"{self.column}__isnull": False})
                      .values(self.column)})
        if self.outer != "pk":
            member &= Q(**{f"{self.outer}__isnull": False})
        c.member = member.resolve_expression(*args)
        return c

    def get_source_expressions(self) -> list[Any]:
        return [self.probe, self.member] if self.probe is not None else []

    def set_source_expressions(self, exprs: Sequence[Any]) -> None:
        if exprs:
            self.probe, self.member = exprs

    def as_sql(self, compiler, connection):
        return compiler.compile(self.member if _AS_SETS.get() else self.probe)


def has_row(rows: QuerySet, column: str, outer: str = "pk") -> Q:
    """Q: the outer row has a row in `rows` whose `column` is its `outer` field (see `HasRow`)."""
    return Q(HasRow(rows, column, outer))


@contextmanager
def rows_as_sets() -> Iterator[None]:
    """Queries compiled inside it test `has_row` conditions against sets (`HasRow`)."""
    token = _AS_SETS.set(True)
    try:
        yield
    finally:
        _AS_SETS.reset(token)


# ---------------------------------------------------------------- PostgreSQL's times, read fast

_ISO_TZ_LOADERS: dict[type, type] = {}


def iso_tz_loader(django_loader: type) -> type:
    """Django's `timestamptz` loader class for a zone, reading ISO text with `fromisoformat` (see
    `iso_timestamptz`)."""
    if django_loader not in _ISO_TZ_LOADERS:
        class IsoTzLoader(django_loader):  # type: ignore[misc,valid-type]
            # Django's create_cursor compares this `timezone` with the connection's, and puts its own
            # loader back when they differ (a test overriding TIME_ZONE): correct, only slower.
            iso_fast = True

            def load(self, data: Any) -> Any:
                try:
                    value = dt.datetime.fromisoformat(bytes(data).decode())
                except ValueError:
                    return super().load(data)
                if value.tzinfo is None:
                    return super().load(data)
                # psycopg's: the instant in the connection's zone; then Django's: that wall time in its zone
                # (the same zone, or None: naive)
                value = value.astimezone(getattr(self, "_timezone", dt.UTC))
                return value.replace(tzinfo=self.timezone)  # type: ignore[attr-defined]

        _ISO_TZ_LOADERS[django_loader] = IsoTzLoader
    return _ISO_TZ_LOADERS[django_loader]


def iso_timestamptz(sender: Any, connection: Any, **_kwargs: Any) -> None:
    """`connection_created`: read PostgreSQL's `timestamptz` text with `datetime.fromisoformat`.

    Django's loader for them (django.db.backends.postgresql.psycopg_any.BaseTzLoader) subclasses
    psycopg's pure-Python one, so psycopg's compiled parser is never used: ~5 µs a value, and a
    province's home page reads ~600 of them (its stored figures' times), the country's stamps and
    stored figures tens of thousands. `fromisoformat` (C) reads the ISO text PostgreSQL writes in ~1 µs;
    anything else (another DateStyle, infinity, a year BC) goes to Django's own loader. The result is
    Django's: the instant in the connection's zone, then given the loader's `timezone` (None: naive)."""
    if connection.vendor != "postgresql":
        return
    from psycopg.pq import Format

    adapters = connection.connection.adapters
    django_loader = adapters.get_loader(adapters.types["timestamptz"].oid, Format.TEXT)
    if not hasattr(django_loader, "timezone") or getattr(django_loader, "iso_fast", False):
        return  # not Django's loader, or ours already
    adapters.register_loader("timestamptz", iso_tz_loader(django_loader))
