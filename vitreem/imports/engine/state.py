"""What the engine's sections share: the records a row becomes, the outcome of an import, and the
state of one import (`ImporterState`), set up by `Importer.__init__` and read by every section."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from vitreem.core.bulk import Writer
from vitreem.places.models import AdminUnit
from vitreem.registry.duplicates import Rec
from vitreem.registry.models import Child, RiskFactor, SpecialGroup
from vitreem.registry.services_bulk import BulkRegisterSession

from ..reading import Table
from ..values import CodeTables, UnitResolver


@dataclass
class RowIssue:
    row: int
    column: str
    value: str
    code: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "value": self.value, "code": self.code,
                "message": self.message}


@dataclass
class Prepared:
    row: int
    data: dict[str, Any]
    unit: AdminUnit
    given: set[str]
    ethnicity_id: int | None = None
    guardians: list[dict[str, str]] = field(default_factory=list)
    poverty: str | None = None
    groups: list[SpecialGroup] = field(default_factory=list)
    risks: list[RiskFactor] = field(default_factory=list)


@dataclass
class Outcome:
    rows: int = 0
    valid: int = 0
    invalid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    review: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)
    error_rows: set[int] = field(default_factory=set)
    splits: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


class ImporterState:
    """The attributes of one import. Declared once here so that each section of the engine (a mixin
    of `Importer`) is typed against the same state; `Importer.__init__` gives them their values."""

    table: Table
    actor: Any
    today: dt.date
    source: str
    mapping: dict[int, str]
    col: dict[str, int]
    units: UnitResolver
    codes: CodeTables
    progress: Callable[[int, int], None] | None
    encodings: dict[int, str]
    cleaned_column: dict[str, str]
    writer: Writer
    bulk: BulkRegisterSession
    out: Outcome
    _allowed_units: set[int]
    _keys: set[tuple[Any, ...]] | None
    _any: bool | None
    _memo: dict[int, dict[str, str]]
    _parse_cache: dict[str, dict[tuple[type, Any], tuple]]
    _ethnicity_codes: dict[int, str]
    _had_ids: bool | None
    _file_recs: list[Rec]
    _made: dict[int, int | None]
    _review_rows: set[int]

    def _before(self) -> None:
        """What the register held before this import wrote anything, asked once: whether any child has a
        personal ID. When not (an empty register), the per-chunk look-ups by ID are skipped; what this
        import itself creates is tracked in memory. (The households: the bulk-register session asks.)"""
        if self._had_ids is None:
            self._had_ids = Child.objects.filter(ended_on__isnull=True).exclude(personal_id="").exists()
