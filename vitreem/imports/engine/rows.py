"""One row read into the registry's terms: a table of column readers, then the registry's own
`child_clean`, the commune, and the records hung on the child (ethnicity, guardians, poverty, special
circumstances, risks).

A reader is a small function of one column (or of the few columns that say one thing: sex in one
column or two marks). It adds what it read to the row and may raise `CellError`, which `prepare`
reports against the column, as `child_clean`'s own errors are reported. The tables' order is the
order of the row's messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError
from vitreem.core.scope import require_unit
from vitreem.places.models import AdminUnit
from vitreem.registry.models import PovertyStatus
from vitreem.registry.validation import Cleaned, child_clean

from ..values import (
    CellError,
    cell_text,
    is_mark,
    parse_date,
    parse_disability,
    parse_personal_id,
    parse_poverty,
    parse_relationship,
    parse_schooling,
    parse_sex,
    parse_sex_marks,
)
from .cells import CellReader
from .state import Prepared, RowIssue

# The column reporting a child_clean error on each cleaned field.
CLEANED_COLUMN = {"birth_date": "birth_date", "birth_precision": "birth_date", "personal_id": "personal_id",
                  "schooling": "schooling", "school_level": "schooling", "dropout_date": "schooling",
                  "disability": "disability"}


@dataclass
class Row:
    """One row being read: its values by field, what it says of the child so far (`raw`, for
    child_clean), the fields it states (`given`: an update changes only those), its messages."""

    num: int
    values: dict[str, Any]
    header: Callable[[str], str]
    raw: dict[str, Any] = field(default_factory=dict)
    given: set[str] = field(default_factory=set)
    errors: list[RowIssue] = field(default_factory=list)
    warnings: list[RowIssue] = field(default_factory=list)

    def text(self, name: str) -> str:
        value = self.values.get(name, "")
        return value if isinstance(value, str) else cell_text(value)

    def fail(self, name: str, exc: CellError) -> None:
        self.errors.append(RowIssue(self.num, self.header(name), self.text(name)[:200], exc.code, exc.message))

    def warn(self, name: str, shown: str, code: str, message: str) -> None:
        self.warnings.append(RowIssue(self.num, self.header(name), shown, code, message))


# ------------------------------------------------------------ the child's own fields (before child_clean)

def _birth_date(imp: RowPreparer, row: Row, column: str) -> None:
    birth = row.values.get(column, "")
    if birth in ("", None):
        return
    row.raw["birth_date"], row.raw["birth_precision"] = imp._parsed("date", imp._parse_date, birth)
    if row.raw["birth_precision"] == "year":
        row.warn(column, cell_text(birth), "year_only",
                 _("Chỉ có năm sinh: ghi nhận ngày 01/01 và đánh dấu là chỉ có năm."))


def _sex(imp: RowPreparer, row: Row, column: str) -> None:
    """One column (Nam/Nữ…), or two columns of marks (a cross under Nam or under Nữ)."""
    v = row.values
    if "sex" in imp.col:
        row.raw["sex"] = imp._parsed("sex", parse_sex, v["sex"])
    elif "sex_male" in imp.col or "sex_female" in imp.col:
        row.raw["sex"] = imp._parsed("sex_marks", lambda pair: parse_sex_marks(*pair),
                                     (v.get("sex_male", ""), v.get("sex_female", "")))


def _personal_id(imp: RowPreparer, row: Row, column: str) -> None:
    if not row.text(column):
        return
    cell = row.values.get(column, "")
    row.raw["personal_id"], note = parse_personal_id(cell)
    row.given.add("personal_id")
    if note:
        row.warn(column, cell_text(cell), "id_leading_zero", note)


def _schooling(imp: RowPreparer, row: Row, column: str) -> None:
    if row.text(column):
        row.raw["schooling"], row.raw["school_level"] = imp._parsed("schooling", parse_schooling, row.values[column])
        row.given.add("schooling")


def _disability(imp: RowPreparer, row: Row, column: str) -> None:
    if row.text(column):
        row.raw["disability"] = imp._parsed("disability", parse_disability, row.values[column])
        row.given.add("disability")


def _plain_text(imp: RowPreparer, row: Row, column: str) -> None:
    text = row.text(column)
    if text:
        row.raw[column] = text
        row.given.add(column)


ChildReader = Callable[["RowPreparer", Row, str], None]
# Column → its reader, for the fields child_clean validates.
CHILD_READERS: tuple[tuple[str, ChildReader], ...] = (
    ("birth_date", _birth_date),
    ("sex", _sex),
    ("personal_id", _personal_id),
    ("schooling", _schooling),
    ("disability", _disability),
    ("village", _plain_text),
    ("note", _plain_text),
)


# ------------------------------------------------------------ what hangs on the child (after child_clean)

def _ethnicity(imp: RowPreparer, row: Row, p: Prepared) -> None:
    p.ethnicity_id = imp._parsed("ethnicity", imp.codes.parse_ethnicity, row.values.get("ethnicity", ""))
    if p.ethnicity_id:
        p.given.add("ethnicity")


def _guardians(imp: RowPreparer, row: Row, p: Prepared) -> None:
    """A guardian column and a father's and a mother's: each name reported on its own column."""
    for key, rel in (("guardian", None), ("father", "father"), ("mother", "mother")):
        text = row.text(key)
        if not text:
            continue
        if any(map(str.isdigit, text)) or len(text) > 150:
            row.fail(key, CellError("invalid_name", _("Tên người nuôi dưỡng không hợp lệ: %(v)s.") % {"v": text[:60]}))
            continue
        relationship = rel or imp._parsed("relationship", parse_relationship, row.values.get("relationship", ""))
        p.guardians.append({"full_name": text, "relationship": relationship})


def _poverty(imp: RowPreparer, row: Row, p: Prepared) -> None:
    """One column naming the status, or a mark under near-poor or under poor."""
    v = row.values
    if "poverty" in imp.col:
        p.poverty = imp._parsed("poverty", parse_poverty, v["poverty"])
    elif imp._parsed("mark", is_mark, v.get("near_poor", "")):
        p.poverty = PovertyStatus.NEAR_POOR
    elif imp._parsed("mark", is_mark, v.get("poor", "")):
        p.poverty = PovertyStatus.POOR
    # A household's status needs its head: the first guardian (read just before).
    if p.poverty in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR) and not p.guardians:
        row.warn("poverty", row.text("poverty"), "poverty_no_head",
                 _("Chưa ghi được hộ nghèo/cận nghèo: thiếu tên cha, mẹ hoặc người nuôi dưỡng (chủ hộ)."))
        p.poverty = None


def _special(imp: RowPreparer, row: Row, p: Prepared) -> None:
    p.groups = list(imp._parsed("special", imp.codes.parse_groups, row.values.get("special", "")))


def _risk(imp: RowPreparer, row: Row, p: Prepared) -> None:
    risks, note = imp._parsed("risk", imp.codes.parse_risks, row.values.get("risk", ""))
    p.risks = list(risks)
    if note:
        row.warn("risk", row.text("risk"), "risk_unspecified", note)


LinkReader = Callable[["RowPreparer", Row, Prepared], None]
# Column → its reader, for the records made beside the child.
LINK_READERS: tuple[tuple[str, LinkReader], ...] = (
    ("ethnicity", _ethnicity),
    ("guardian", _guardians),
    ("poverty", _poverty),
    ("special", _special),
    ("risk", _risk),
)


class RowPreparer(CellReader):
    def prepare(self, rownum: int, cells: list[Any]) -> tuple[Prepared | None, list[RowIssue], list[RowIssue]]:
        row = Row(rownum, self._values(cells), self.header)
        row.raw["full_name"] = self._full_name(row)
        if not any(row.text(f) for f in self.col):
            return None, [], []  # a row with only a sequence number
        for column, read in CHILD_READERS:
            try:
                read(self, row, column)
            except CellError as exc:
                row.fail(self.cleaned_column.get(column, column), exc)
        cleaned = child_clean(row.raw, on=self.today, strict_id=False)
        self._report_cleaning(row, cleaned)
        unit = self._unit(row)
        prepared = Prepared(row=rownum, data=cleaned.data, unit=unit, given=row.given)  # type: ignore[arg-type]
        for column, link in LINK_READERS:
            try:
                link(self, row, prepared)
            except CellError as exc:
                row.fail(column, exc)
        if row.errors or unit is None:
            return None, row.errors, row.warnings
        return prepared, row.errors, row.warnings

    def _full_name(self, row: Row) -> str:
        """One column, or the family and middle names and the given name in two."""
        name = row.values.get("full_name", "")
        if not name and ("family_middle" in self.col or "given_name" in self.col):
            name = " ".join(p for p in (row.text("family_middle"), row.text("given_name")) if p)
        return name if isinstance(name, str) else cell_text(name)

    def _report_cleaning(self, row: Row, cleaned: Cleaned) -> None:
        """child_clean's messages, on the column each field came from."""
        if cleaned.errors:
            reported = {e.column for e in row.errors}
            for fname, message in cleaned.errors.items():
                col = self.cleaned_column.get(fname, fname)
                if self.header(col) in reported:
                    continue  # the cell parser already said what is wrong
                row.errors.append(RowIssue(row.num, self.header(col), row.text(col)[:200],
                                           cleaned.codes.get(fname, "invalid"), message))
        for fname, message in cleaned.warnings.items():
            col = self.cleaned_column.get(fname, fname)
            row.warn(col, row.text(col), "id_mismatch", message)

    def _unit(self, row: Row) -> AdminUnit | None:
        """The commune, by name or code, within the actor's scope (asked once per commune)."""
        unit = None
        try:
            unit = self.units.resolve(row.text("unit"), row.text("unit_code"))
            if unit.pk not in self._allowed_units:
                try:
                    require_unit(self.actor, unit)
                except DomainError as exc:
                    raise CellError("out_of_scope", str(exc.message)) from None
                self._allowed_units.add(unit.pk)
        except CellError as exc:
            row.fail("unit_code" if "unit_code" in self.col and row.text("unit_code") else "unit", exc)
            if exc.code == "unit_split":
                self.out.splits.setdefault(row.text("unit"), exc.candidates)
        return unit

    def _parse_date(self, cell: Any) -> tuple[dt.date, str]:
        return parse_date(cell, today=self.today)
