"""The import engine: each row read into the registry's terms, validated by the registry's own
`child_clean`, matched against the register, then created in bulk or updated through the services.

The engine runs inside the caller's transaction (services.import_execute); it never commits. With
`write=False` it only reads (dry run, preview). Rows are handled in chunks so a 200,000-row list
stays within memory and each chunk costs a handful of queries.

A package along the engine's sections, each a part of `Importer`: `cells` (reading cells, legacy
encodings), `rows` (one row: a table of column readers, then child_clean), `matching` (against the
register and within the file), `creating` (new children through the registry's bulk-register service,
COPY), `updating` (a matched child, through the registry services); `state` holds what they share.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.core.bulk import Writer
from vitreem.core.errors import DomainError
from vitreem.places.models import AdminUnit
from vitreem.registry.duplicates import Rec
from vitreem.registry.models import DuplicateCandidate
from vitreem.registry.services_bulk import BulkRegisterSession

from ..columns import FIELDS
from ..reading import Table
from ..values import CodeTables, UnitResolver
from .cells import ENCODING_SAMPLE, TEXT_FIELDS, UNIQUE_FIELDS, CellReader
from .creating import BulkCreator
from .matching import MATCH_SCORE, REVIEW_SCORE, Matcher
from .rows import CLEANED_COLUMN, RowPreparer
from .state import ImporterState, Outcome, Prepared, RowIssue
from .updating import Updater

__all__ = [
    "CHUNK",
    "CLEANED_COLUMN",
    "ENCODING_SAMPLE",
    "MATCH_SCORE",
    "MAX_ERRORS_KEPT",
    "REVIEW_SCORE",
    "TEXT_FIELDS",
    "UNIQUE_FIELDS",
    "BulkCreator",
    "CellReader",
    "Importer",
    "ImporterState",
    "Matcher",
    "Outcome",
    "Prepared",
    "RowIssue",
    "RowPreparer",
    "Updater",
]

# Defined here, where the loop reads it, so that setting `engine.CHUNK` (a test's smaller chunks)
# takes effect.
CHUNK = 5000
MAX_ERRORS_KEPT = 50_000


class Importer(RowPreparer, Matcher, Updater):
    """One import of one table: read and prepare each row (rows), match it (matching), create new
    children in bulk (creating) or update matched ones through the registry services (updating).
    This class holds the state and the loop over the table, chunk by chunk."""

    def __init__(self, table: Table, *, actor, mapping: dict[int, str], today: dt.date, source: str,
                 default_unit: AdminUnit | None = None, unit_choices: dict[str, int] | None = None,
                 progress: Callable[[int, int], None] | None = None):
        self.table, self.actor, self.today, self.source = table, actor, today, source
        self.mapping = {int(k): v for k, v in mapping.items() if v in FIELDS and v != "seq"}
        self.col = {f: i for i, f in sorted(self.mapping.items(), reverse=True)}
        self.units = UnitResolver(actor, default=default_unit, choices=unit_choices, today=today)
        self.codes = CodeTables.load()
        self.progress = progress
        self.encodings = self._detect_encodings()
        self._allowed_units = set()
        self._keys = None
        self._any = None
        self._memo = {i: {} for i, f in self.mapping.items() if f not in UNIQUE_FIELDS}
        self._parse_cache = {}
        self._ethnicity_codes = {}
        self.cleaned_column = {**CLEANED_COLUMN, "full_name": "full_name" if "full_name" in self.col else "family_middle",
                               "sex": "sex" if "sex" in self.col else "sex_male"}
        self._had_ids = None
        self.writer = Writer()
        # What the registry's bulk registration keeps from chunk to chunk (households, poverty, folded names).
        self.bulk = BulkRegisterSession(actor=actor, source=source, today=today, writer=self.writer)
        # Rows created by this file (row number → child id; None in a dry run), for the scan of
        # near-duplicates among the file's own rows at the end.
        self._file_recs = []
        self._made = {}
        self._review_rows = set()
        self.out = Outcome()

    # ------------------------------------------------------------ the whole table

    def run(self, *, write: bool, valid_only: bool) -> Outcome:
        """Read, validate, match and (when `write`) write every row, chunk by chunk.

        A chunk's COPYs may still be running in the writer's thread while the next chunk is read;
        every query this thread makes through Django first waits for them (an execute wrapper), so
        the two never use the connection at once, whichever code path asks."""
        from django.db import connection

        def after_writes(execute, sql, params, many, context):
            self.writer.wait()
            return execute(sql, params, many, context)

        try:
            with connection.execute_wrapper(after_writes):
                return self._run(write=write, valid_only=valid_only)
        finally:
            # Stop the writer before the caller commits or rolls back. On success _run has waited
            # already; on an error that error is what the caller must see, not a second one.
            with contextlib.suppress(Exception):
                self.writer.close()

    def _run(self, *, write: bool, valid_only: bool) -> Outcome:
        out = self.out
        chunk: list[Prepared] = []
        seen: dict[tuple[Any, ...], int] = {}
        total = max(1, self.table.data_end - self.table.data_start)
        done = 0
        for rownum, cells in self.table.data_rows():
            prepared, errors, warnings = self.prepare(rownum, cells)
            if prepared is None and not errors:
                continue
            out.rows += 1
            out.warnings.extend(warnings)
            if prepared is not None:
                keys: list[tuple[Any, ...]] = (
                    [("id", prepared.data["personal_id"])] if prepared.data.get("personal_id") else [])
                keys.append(("name", prepared.data["name_key"], prepared.data["birth_date"], prepared.unit.pk))
                first = next((seen[k] for k in keys if k in seen), None)
                if first is not None:
                    errors = [RowIssue(rownum, self.header("full_name"), prepared.data["full_name"],
                                       "duplicate_in_file", _("Trùng với dòng %(r)s của tệp (cùng trẻ).") % {"r": first})]
                    prepared = None
                else:
                    for k in keys:
                        seen[k] = rownum
            if errors:
                out.invalid += 1
                out.error_rows.add(rownum)
                if len(out.errors) < MAX_ERRORS_KEPT:
                    out.errors.extend(errors)
                continue
            out.valid += 1
            assert prepared is not None
            d = prepared.data  # already folded: the scorer's record straight from it
            self._file_recs.append(Rec(
                id=rownum, full_name=d["full_name"], name_key=d["name_key"], given_key=d["given_key"],
                birth_date=d["birth_date"], precision=d["birth_precision"], sex=d["sex"],
                personal_id=d.get("personal_id") or "", household_id=None, unit_id=prepared.unit.pk,
                guardians=tuple(self.bulk.fold_name(g["full_name"]) for g in prepared.guardians)))
            chunk.append(prepared)
            if len(chunk) >= CHUNK:
                self._flush(chunk, write=write and (valid_only or not out.invalid))
                done = rownum - self.table.data_start
                chunk = []
                if self.progress:
                    self.progress(min(done, total), total)
        if chunk:
            self._flush(chunk, write=write and (valid_only or not out.invalid))
        self.writer.close()
        self._near_duplicates_in_file(write=write and (valid_only or not out.invalid))
        return out

    def _flush(self, chunk: list[Prepared], *, write: bool) -> None:
        self.writer.wait()  # the previous chunk's COPYs: the queries below use the connection
        create, update, review = self._match(chunk)
        out = self.out
        self._review_rows.update(p.row for p, _c in review)
        if not write:
            self._made.update((p.row, None) for p in [*create, *(p for p, _c in review)])
            out.created += len(create) + len(review)
            out.review += len(review)
            for p, child_id in update:
                out.updated += 0
                if self._update(p, child_id, write=False):
                    out.updated += 1
                else:
                    out.unchanged += 1
            return
        children = self._create([*create, *(p for p, _c in review)])
        self._made.update(zip((p.row for p in [*create, *(p for p, _c in review)]), children, strict=True))
        out.created += len(children)
        if review or update:
            self.writer.wait()
        if review:
            made = {p.row: child_id for p, child_id in zip([*create, *(p for p, _c in review)], children, strict=True)}
            rows = [DuplicateCandidate(child_a_id=made[p.row], child_b_id=int(c["id"]), score=float(c["score"]),
                                       reasons=c.get("reasons") or [], source=self.source, unit_id=p.unit.pk)
                    for p, found in review for c in found]
            DuplicateCandidate.objects.bulk_create(rows, ignore_conflicts=True)
            out.review += len(review)
        for p, child_id in update:
            try:
                with transaction.atomic():
                    changed = self._update(p, child_id, write=True)
            except DomainError as exc:
                self._reject(p, exc.field or "full_name", p.data.get("full_name", ""), exc.code, str(exc.message))
                continue
            if changed:
                out.updated += 1
            else:
                out.unchanged += 1
