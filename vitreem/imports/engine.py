"""The import engine: each row read into the registry's terms, validated by the registry's own
`child_clean`, matched against the register, then created in bulk or updated through the services.

The engine runs inside the caller's transaction (services.import_execute); it never commits. With
`write=False` it only reads (dry run, preview). Rows are handled in chunks so a 200,000-row list
stays within memory and each chunk costs a handful of queries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError
from vitreem.core.middleware import request_id_var
from vitreem.core.models import AuditEntry
from vitreem.core.scope import require_unit
from vitreem.core.text import detect_column_encoding, fold, nfc, to_unicode
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import province_code_of
from vitreem.registry.duplicates import Rec
from vitreem.registry.models import (
    Child,
    ChildRisk,
    DuplicateCandidate,
    Guardian,
    Household,
    HouseholdPoverty,
    PovertyStatus,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)
from vitreem.registry.services import CHILD_FIELDS, nurture_case_clean
from vitreem.registry.validation import child_clean

from .columns import FIELDS
from .reading import Table
from .values import (
    CellError,
    CodeTables,
    UnitResolver,
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
from .writing import Copy, Writer, reserve_ids, to_json

CHUNK = 5000
# Duplicate-detection scores (registry.duplicates): at or above MATCH the row is that child;
# between REVIEW and MATCH an officer decides in the duplicate review queue.
MATCH_SCORE = 0.9
REVIEW_SCORE = 0.6
TEXT_FIELDS = {"full_name", "family_middle", "given_name", "ethnicity", "village", "unit", "guardian", "father",
               "mother", "relationship", "poverty", "special", "risk", "schooling", "disability", "note", "sex"}
ENCODING_SAMPLE = 3000
# Columns whose cells repeat a lot (ethnicity, village, commune, sex, poverty…): each distinct text is
# converted and parsed once per import. Names, IDs and dates are nearly unique, so caching them
# would only fill memory.
UNIQUE_FIELDS = {"seq", "full_name", "family_middle", "given_name", "personal_id", "birth_date", "guardian", "father",
                 "mother", "note"}
# The column reporting a child_clean error on each cleaned field.
CLEANED_COLUMN = {"birth_date": "birth_date", "birth_precision": "birth_date", "personal_id": "personal_id",
                  "schooling": "schooling", "school_level": "schooling", "dropout_date": "schooling",
                  "disability": "disability"}
MAX_ERRORS_KEPT = 50_000


class HouseholdRef(NamedTuple):
    """A household the import found or made (the bulk path needs only these three)."""

    pk: int
    unit_id: int
    village: str


# Child columns the import writes from a row (the rest take their defaults: not ended, version 1).
CHILD_COLUMNS = ["family_name", "middle_name", "given_name", "full_name", "name_key", "given_key", "birth_date",
                 "birth_precision", "sex", "ethnicity_id", "personal_id", "personal_id_mismatch", "birth_registered",
                 "household_id", "unit_id", "village", "schooling", "school_level", "dropout_date", "disability",
                 "note"]


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
    household_key: tuple[int, str, str] | None = None


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


class Importer:
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
        self._allowed_units: set[int] = set()
        self._keys: set[tuple[Any, ...]] | None = None
        self._any: bool | None = None
        self._household_cache: dict[tuple[int, str, str], HouseholdRef] = {}
        self._memo: dict[int, dict[str, str]] = {i: {} for i, f in self.mapping.items() if f not in UNIQUE_FIELDS}
        self._parse_cache: dict[str, dict[tuple[type, Any], tuple]] = {}
        self._ethnicity_codes: dict[int, str] = {}
        self.cleaned_column = {**CLEANED_COLUMN, "full_name": "full_name" if "full_name" in self.col else "family_middle",
                               "sex": "sex" if "sex" in self.col else "sex_male"}
        self._poverty_known: dict[int, str | None] = {}
        self._folded_village: dict[str, str] = {}
        self._folded_names: dict[str, str] = {}
        self._had_ids: bool | None = None
        self._had_households = True
        self.writer = Writer()
        # Rows created by this file (row number → child id; None in a dry run), for the scan of
        # near-duplicates among the file's own rows at the end.
        self._file_recs: list[Rec] = []
        self._made: dict[int, int | None] = {}
        self._review_rows: set[int] = set()
        self._actor_id = actor.pk if getattr(actor, "pk", None) else None
        self._request_id = request_id_var.get() or ""
        self.out = Outcome()

    # ------------------------------------------------------------ reading cells

    def _detect_encodings(self) -> dict[int, str]:
        found = {}
        for index, name in self.mapping.items():
            if name not in TEXT_FIELDS:
                continue
            sample = []
            for _row, cells in self.table.data_rows():
                if index < len(cells) and isinstance(cells[index], str) and cells[index]:
                    sample.append(cells[index])
                    if len(sample) >= ENCODING_SAMPLE:
                        break
            found[index] = detect_column_encoding(sample)
        return found

    @property
    def encoding(self) -> str:
        legacy = sorted({e for e in self.encodings.values() if e in ("tcvn3", "vni")})
        return "+".join(legacy) if legacy else "unicode"

    def header(self, name: str) -> str:
        index = self.col.get(name)
        return self.table.headers[index] if index is not None else str(FIELDS.get(name, name))

    def _cell(self, cells: list[Any], name: str) -> Any:
        """One cell of a row as the engine reads it (legacy encodings converted, text in NFC)."""
        index = self.col.get(name)
        if index is None or index >= len(cells):
            return ""
        return self._convert(index, cells[index])

    def _convert(self, index: int, value: Any) -> Any:
        if not isinstance(value, str):
            return value
        memo = self._memo.get(index)
        if memo is not None:
            hit = memo.get(value)
            if hit is not None:
                return hit
        encoding = self.encodings.get(index, "unicode")
        out = to_unicode(value, encoding) if encoding in ("tcvn3", "vni") else nfc(value)
        if memo is not None:
            memo[value] = out
        return out

    def _values(self, cells: list[Any]) -> dict[str, Any]:
        """Every mapped field of a row, read once (the parsers below look at a field several times)."""
        n = len(cells)
        return {name: self._convert(index, cells[index]) if index < n else "" for name, index in self.col.items()}

    def _parsed(self, kind: str, parse: Callable[[Any], Any], value: Any) -> Any:
        """parse(value), remembered per distinct cell (by type too: 1.0, 1 and True read differently)."""
        cache = self._parse_cache.setdefault(kind, {})
        key = (type(value), value)
        hit = cache.get(key)
        if hit is None:
            try:
                hit = (True, parse(value))
            except CellError as exc:
                hit = (False, exc.code, exc.message, exc.candidates)
            cache[key] = hit
        if hit[0]:
            return hit[1]
        raise CellError(hit[1], hit[2], candidates=hit[3])

    # ------------------------------------------------------------ one row

    def prepare(self, rownum: int, cells: list[Any]) -> tuple[Prepared | None, list[RowIssue], list[RowIssue]]:
        errors: list[RowIssue] = []
        warnings: list[RowIssue] = []
        given: set[str] = set()
        v = self._values(cells)

        def t(name: str) -> str:
            value = v.get(name, "")
            return value if isinstance(value, str) else cell_text(value)

        def fail(name: str, exc: CellError, value: Any = None) -> None:
            shown = t(name) if value is None else cell_text(value)
            errors.append(RowIssue(rownum, self.header(name), shown[:200], exc.code, exc.message))

        raw: dict[str, Any] = {}
        name = v.get("full_name", "")
        if not name and ("family_middle" in self.col or "given_name" in self.col):
            name = " ".join(p for p in (t("family_middle"), t("given_name")) if p)
        raw["full_name"] = name if isinstance(name, str) else cell_text(name)
        if not any(t(f) for f in self.col):
            return None, [], []  # a row with only a sequence number
        birth = v.get("birth_date", "")
        if birth not in ("", None):
            try:
                raw["birth_date"], raw["birth_precision"] = self._parsed("date", self._parse_date, birth)
                if raw["birth_precision"] == "year":
                    warnings.append(RowIssue(rownum, self.header("birth_date"), cell_text(birth), "year_only",
                                             _("Chỉ có năm sinh: ghi nhận ngày 01/01 và đánh dấu là chỉ có năm.")))
            except CellError as exc:
                fail("birth_date", exc)
        try:
            if "sex" in self.col:
                raw["sex"] = self._parsed("sex", parse_sex, v["sex"])
            elif "sex_male" in self.col or "sex_female" in self.col:
                raw["sex"] = self._parsed("sex_marks", lambda pair: parse_sex_marks(*pair),
                                          (v.get("sex_male", ""), v.get("sex_female", "")))
        except CellError as exc:
            fail("sex" if "sex" in self.col else "sex_male", exc)
        pid_cell = v.get("personal_id", "")
        if t("personal_id"):
            raw["personal_id"], note = parse_personal_id(pid_cell)
            given.add("personal_id")
            if note:
                warnings.append(RowIssue(rownum, self.header("personal_id"), cell_text(pid_cell), "id_leading_zero",
                                         note))
        if t("schooling"):
            try:
                raw["schooling"], raw["school_level"] = self._parsed("schooling", parse_schooling, v["schooling"])
                given.add("schooling")
            except CellError as exc:
                fail("schooling", exc)
        if t("disability"):
            try:
                raw["disability"] = self._parsed("disability", parse_disability, v["disability"])
                given.add("disability")
            except CellError as exc:
                fail("disability", exc)
        for key in ("village", "note"):
            text = t(key)
            if text:
                raw[key] = text
                given.add(key)

        cleaned = child_clean(raw, on=self.today, strict_id=False)
        if cleaned.errors:
            reported = {e.column for e in errors}
            for fname, message in cleaned.errors.items():
                col = self.cleaned_column.get(fname, fname)
                if self.header(col) in reported:
                    continue  # the cell parser already said what is wrong
                errors.append(RowIssue(rownum, self.header(col), t(col)[:200], cleaned.codes.get(fname, "invalid"),
                                       message))
        for fname, message in cleaned.warnings.items():
            col = self.cleaned_column.get(fname, fname)
            warnings.append(RowIssue(rownum, self.header(col), t(col), "id_mismatch", message))

        unit = None
        try:
            unit = self.units.resolve(t("unit"), t("unit_code"))
            if unit.pk not in self._allowed_units:
                try:
                    require_unit(self.actor, unit)
                except DomainError as exc:
                    raise CellError("out_of_scope", str(exc.message)) from None
                self._allowed_units.add(unit.pk)
        except CellError as exc:
            fail("unit_code" if "unit_code" in self.col and t("unit_code") else "unit", exc)
            if exc.code == "unit_split":
                self.out.splits.setdefault(t("unit"), exc.candidates)

        prepared = Prepared(row=rownum, data=cleaned.data, unit=unit, given=given)  # type: ignore[arg-type]
        try:
            prepared.ethnicity_id = self._parsed("ethnicity", self.codes.parse_ethnicity, v.get("ethnicity", ""))
            if prepared.ethnicity_id:
                given.add("ethnicity")
        except CellError as exc:
            fail("ethnicity", exc)
        for key, rel in (("guardian", None), ("father", "father"), ("mother", "mother")):
            text = t(key)
            if not text:
                continue
            if any(map(str.isdigit, text)) or len(text) > 150:
                fail(key, CellError("invalid_name", _("Tên người nuôi dưỡng không hợp lệ: %(v)s.") % {"v": text[:60]}))
                continue
            relationship = rel or self._parsed("relationship", parse_relationship, v.get("relationship", ""))
            prepared.guardians.append({"full_name": text, "relationship": relationship})
        try:
            if "poverty" in self.col:
                prepared.poverty = self._parsed("poverty", parse_poverty, v["poverty"])
            elif self._parsed("mark", is_mark, v.get("near_poor", "")):
                prepared.poverty = PovertyStatus.NEAR_POOR
            elif self._parsed("mark", is_mark, v.get("poor", "")):
                prepared.poverty = PovertyStatus.POOR
        except CellError as exc:
            fail("poverty", exc)
        if prepared.poverty in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR) and not prepared.guardians:
            warnings.append(RowIssue(rownum, self.header("poverty"), t("poverty"),
                                     "poverty_no_head", _("Chưa ghi được hộ nghèo/cận nghèo: thiếu tên cha, mẹ hoặc "
                                                         "người nuôi dưỡng (chủ hộ).")))
            prepared.poverty = None
        try:
            prepared.groups = list(self._parsed("special", self.codes.parse_groups, v.get("special", "")))
        except CellError as exc:
            fail("special", exc)
        try:
            risks, note = self._parsed("risk", self.codes.parse_risks, v.get("risk", ""))
            prepared.risks = list(risks)
            if note:
                warnings.append(RowIssue(rownum, self.header("risk"), t("risk"), "risk_unspecified", note))
        except CellError as exc:
            fail("risk", exc)
        if errors or unit is None:
            return None, errors, warnings
        return prepared, errors, warnings

    def _parse_date(self, cell: Any) -> tuple[dt.date, str]:
        return parse_date(cell, today=self.today)

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
                guardians=tuple(self._fold_name(g["full_name"]) for g in prepared.guardians)))
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

    def _near_duplicates_in_file(self, *, write: bool) -> None:
        """Two rows of the file that are probably one child written twice (a typo, dropped diacritics,
        day and month swapped) but not the very same record, which is refused above: both are
        created and the pair goes to the duplicate review queue, scored as the register's scan scores
        (registry.duplicates.pairs_among), from the score at which registration warns."""
        from vitreem.registry.duplicates import NEW_THRESHOLD, pairs_among

        recs = [r for r in self._file_recs if r.id in self._made]
        self._file_recs = []
        if len(recs) < 2:
            return
        _compared, found = pairs_among(recs, threshold=NEW_THRESHOLD)
        if not found:
            return
        by_row = {r.id: r for r in recs}
        for a, b, score, _reasons in found:
            for row, other in ((a, b), (b, a)):
                self.out.warnings.append(RowIssue(
                    row, self.header("full_name"), by_row[row].full_name, "duplicate_in_file_possible",
                    _("Có thể trùng với dòng %(r)s của tệp (điểm %(s)s): cả hai được ghi và đưa vào danh sách "
                      "chờ xét trùng.") % {"r": other, "s": f"{score:.2f}"}))
        rows = {a for a, *_ in found} | {b for _a, b, *_ in found}
        self.out.review += len(rows - self._review_rows)
        if not write:
            return
        made = {row: child for row, child in self._made.items() if child is not None}
        candidates = []
        for a, b, score, reasons in found:
            low, high = sorted((made[a], made[b]))
            candidates.append(DuplicateCandidate(child_a_id=low, child_b_id=high, score=score, reasons=reasons,
                                                 source=self.source, unit_id=cast(int, by_row[a].unit_id)))
        DuplicateCandidate.objects.bulk_create(candidates, ignore_conflicts=True)

    # ------------------------------------------------------------ matching

    def _before(self) -> None:
        """What the register held before this import wrote anything, asked once: whether any child has a
        personal ID and whether any household exists. When not (an empty register), the per-chunk
        look-ups for them are skipped; what this import itself creates is tracked in memory."""
        if self._had_ids is None:
            self._had_ids = Child.objects.filter(ended_on__isnull=True).exclude(personal_id="").exists()
            self._had_households = Household.objects.exists()

    def _may_have_any(self) -> bool:
        if self._any is None:
            from vitreem.registry.selectors import children_for_user

            self._any = children_for_user(user=self.actor).exists()
        return self._any

    @property
    def _threshold(self) -> dict[str, Any]:
        """Ask duplicate detection down to the review score when it takes a threshold."""
        import inspect

        from vitreem.registry.duplicates import candidates_for_new

        return {"threshold": REVIEW_SCORE} if "threshold" in inspect.signature(candidates_for_new).parameters else {}

    def _may_match(self, p: Prepared) -> bool:
        """Cheap pre-check before asking duplicate detection, which looks for candidates sharing a given
        name, a full name, or a commune and an (unordered) day and month of birth: when no child in
        scope shares any of these, there is nothing to ask. An empty register skips matching at once.
        (Children created earlier in the same file are not in these sets: in-file duplicates are
        caught by their exact key only.)"""
        if self._keys is None:
            from vitreem.registry.selectors import children_for_user

            keys: set[tuple[Any, ...]] = set()
            for given, name, unit_id, born in children_for_user(user=self.actor).values_list(
                    "given_key", "name_key", "unit_id", "birth_date").iterator(chunk_size=5000):
                keys.update((("g", given), ("n", name), ("d", unit_id, frozenset((born.day, born.month)))))
            self._keys = keys
        if not self._keys:
            return False
        d = p.data
        born = d["birth_date"]
        return bool({("g", d["given_key"]), ("n", d["name_key"]),
                     ("d", p.unit.pk, frozenset((born.day, born.month)))} & self._keys)

    def _match(self, chunk: list[Prepared]) -> tuple[list[Prepared], list[tuple[Prepared, int]],
                                                      list[tuple[Prepared, list[dict]]]]:
        """(rows to create, rows matching child id, rows to create and send to review)."""
        from vitreem.core.scope import scope_for
        from vitreem.registry.duplicates import candidates_for_new

        scope = scope_for(self.actor)
        ids = [p.data["personal_id"] for p in chunk if p.data.get("personal_id")]
        by_id: dict[str, tuple[int, int]] = {}
        self._before()
        if ids and self._had_ids:
            for pk, pid, unit_id in Child.objects.filter(personal_id__in=ids, ended_on__isnull=True).values_list(
                    "pk", "personal_id", "unit_id"):
                by_id.setdefault(pid, (pk, unit_id))
        # The very same record (same folded name, birth date and precision, sex, commune) is that
        # child: re-importing a list, or an export, must change nothing whatever the scores say.
        from vitreem.registry.selectors import children_for_user

        same: dict[tuple[Any, ...], list[int]] = {}
        names = [p.data["name_key"] for p in chunk if not by_id.get(p.data.get("personal_id") or "")]
        if names and self._may_have_any():
            for row in children_for_user(user=self.actor).filter(name_key__in=names).values_list(
                    "pk", "name_key", "birth_date", "birth_precision", "sex", "unit_id"):
                same.setdefault(row[1:], []).append(row[0])
        create, update, review = [], [], []
        for p in chunk:
            exact = same.get((p.data["name_key"], p.data["birth_date"], p.data["birth_precision"], p.data["sex"],
                              p.unit.pk), [])
            if len(exact) == 1 and not p.data.get("personal_id"):
                update.append((p, exact[0]))
                continue
            hit = by_id.get(p.data.get("personal_id") or "")
            if hit:
                if not scope.sees_unit(hit[1]):
                    self._reject(p, "personal_id", p.data["personal_id"], "id_elsewhere",
                                 _("Số định danh này đã được đăng ký cho một trẻ ở đơn vị ngoài phạm vi của bạn; "
                                   "liên hệ cán bộ tỉnh."))
                    continue
                update.append((p, hit[0]))
                continue
            if not self._may_match(p):
                create.append(p)
                continue
            found = candidates_for_new({**p.data, "unit_id": p.unit.pk, "ethnicity_id": p.ethnicity_id,
                                        "guardians": p.guardians},
                                       unit=p.unit, user=self.actor, **self._threshold)  # type: ignore[arg-type]
            found = sorted(found, key=lambda c: -float(c.get("score", 0)))
            if found and float(found[0]["score"]) >= MATCH_SCORE:
                update.append((p, int(found[0]["id"])))
            elif found and float(found[0]["score"]) >= REVIEW_SCORE:
                review.append((p, [c for c in found if float(c["score"]) >= REVIEW_SCORE]))
            else:
                create.append(p)
        return create, update, review

    def _reject(self, p: Prepared, name: str, value: str, code: str, message: str) -> None:
        self.out.valid -= 1
        self.out.invalid += 1
        self.out.error_rows.add(p.row)
        self.out.errors.append(RowIssue(p.row, self.header(name), value, code, message))

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

    # ------------------------------------------------------------ creating in bulk

    def _audit(self, audits: list[tuple], action: str, obj_type: str, obj_id: Any, unit_id: int | None,
               changes: dict) -> None:
        """One change row of the audit log, written with the chunk (same table and columns as
        core.audit.audit_change; the import is its source)."""
        audits.append((self._actor_id, AuditEntry.Kind.CHANGE, action, obj_type, str(obj_id), unit_id,
                       to_json(changes), self.source, self._request_id))

    def _write_audits(self, audits: list[tuple], now: dt.datetime) -> None:
        if not audits:
            return
        copy = Copy(AuditEntry, ["actor_id", "kind", "action", "object_type", "object_id", "unit_id", "changes",
                                 "source", "request_id"], now=now, writer=self.writer)
        for row in audits:
            copy.add(*row)
        copy.flush()
        # Tell the audit listeners (the statistics rollups) which units changed, as audit_changes_bulk
        # would: one entry per unit stands for all the rows of that unit (new records live in it alone).
        from vitreem.core.audit import notify_listeners

        notify_listeners([AuditEntry(kind=AuditEntry.Kind.CHANGE, action="import.rows", object_type="registry.child",
                                     unit_id=unit_id, changes={}, source=self.source)
                          for unit_id in sorted({row[5] for row in audits if row[5] is not None})])

    def _fold_name(self, name: str) -> str:
        """fold() of a guardian's name, once per distinct name (parents of siblings, common names)."""
        key = self._folded_names.get(name)
        if key is None:
            key = self._folded_names[name] = fold(name)
        return key

    def _household_key(self, p: Prepared) -> tuple[int, str, str] | None:
        if p.poverty is None or not p.guardians:
            return None
        if p.household_key is None:
            village = p.data.get("village", "")
            folded = self._folded_village.get(village)
            if folded is None:
                folded = self._folded_village[village] = fold(village)
            p.household_key = (p.unit.pk, folded, self._fold_name(p.guardians[0]["full_name"]))
        return p.household_key

    def _households(self, rows: list[Prepared], audits: list[tuple], now: dt.datetime) -> dict[int, HouseholdRef]:
        """Row number → household, for rows that state a poverty status (the first guardian is the
        head). Siblings in one file share it; an existing household of the same head and village is
        reused. A few queries per chunk, whatever its size."""
        wanted: dict[tuple[int, str, str], Prepared] = {}
        for p in rows:
            key = self._household_key(p)
            if key is not None:
                wanted.setdefault(key, p)
        missing = [k for k in wanted if k not in self._household_cache]
        self._before()
        if missing and self._had_households:
            for pk, unit_id, village, head_key in Household.objects.filter(
                    unit_id__in={k[0] for k in missing}, head_key__in={k[2] for k in missing}).values_list(
                    "pk", "unit_id", "village", "head_key"):
                key = (unit_id, fold(village), head_key)
                if key in wanted:
                    self._household_cache.setdefault(key, HouseholdRef(pk, unit_id, village))
        new = [k for k in missing if k not in self._household_cache]
        if new:
            copy = Copy(Household, ["id", "unit_id", "head_name", "head_key", "village", "address", "province_code"],
                        now=now, writer=self.writer)
            created_at = now.isoformat()
            for pk, key in zip(reserve_ids(Household, len(new)), new, strict=True):
                p = wanted[key]
                head, village = nfc(p.guardians[0]["full_name"]), p.data.get("village", "")
                copy.add(pk, key[0], head, key[2], village, "", province_code_of(key[0]))
                self._audit(audits, "household.create", "registry.household", pk, key[0],
                            {"id": pk, "unit_id": key[0], "village": village, "head_name": head, "head_key": key[2],
                             "address": "", "created_at": created_at})
                self._household_cache[key] = HouseholdRef(pk, key[0], village)
                self._poverty_known[pk] = None  # new: no classification yet
            copy.flush()
        out = {}
        status: dict[int, str] = {}
        for p in rows:
            key = self._household_key(p)
            if key is not None:
                household = self._household_cache[key]
                out[p.row] = household
                status.setdefault(household.pk, p.poverty)  # type: ignore[arg-type]
        self._poverty_set(status, {h.pk: h.unit_id for h in out.values()}, audits, now)
        return out

    def _poverty_set(self, status: dict[int, str], units: dict[int, int], audits: list[tuple],
                     now: dt.datetime) -> None:
        """This year's classification of each household (Decree 07/2021 standard), as household_poverty_set
        records it, in bulk."""
        if not status:
            return
        year = self.today.year
        # This year's status of households this import made or already classified is known here;
        # only households that were in the register before are looked up.
        unknown = [pk for pk in status if pk not in self._poverty_known]
        if unknown or any(self._poverty_known.get(pk) not in (None, s) for pk, s in status.items()):
            self.writer.wait()
        if unknown:
            found = dict(HouseholdPoverty.objects.filter(household_id__in=unknown, year=year)
                         .values_list("household_id", "status"))
            self._poverty_known.update({pk: found.get(pk) for pk in unknown})
        copy = Copy(HouseholdPoverty, ["household_id", "year", "status", "province_code"], now=now, writer=self.writer)
        for pk, s in status.items():
            current = self._poverty_known[pk]
            if current == s:
                continue
            if current is None:
                copy.add(pk, year, s, province_code_of(units.get(pk)))
            else:
                HouseholdPoverty.objects.filter(household_id=pk, year=year).update(status=s)
            self._poverty_known[pk] = s
            self._audit(audits, "household.poverty_set", "registry.household", pk, units.get(pk),
                        {"status": [current, s], "year": [None, year]})
        copy.flush()

    def _create(self, rows: list[Prepared]) -> list[int]:
        """The same records child_register makes (child, residence from birth, guardians, audit row),
        plus the episodes, risks and poverty the list states: ids reserved up front, then one COPY per
        table per chunk. Returns the new children's ids, in the order of `rows`."""
        if not rows:
            return []
        now = timezone.now()
        audits: list[tuple] = []
        actor_id = self._actor_id
        # Every id first: once a COPY is sent the connection belongs to the writer until wait().
        ids = reserve_ids(Child, len(rows))
        episode_ids = iter(reserve_ids(SpecialEpisode, sum(len(p.groups) for p in rows)))
        assessment_ids = iter(reserve_ids(RiskAssessment, sum(1 for p in rows if p.risks)))
        households = self._households(rows, audits, now)
        # Every row carries the child's 2025 province (places/fields.py); COPY bypasses the field's filling.
        children = Copy(Child, [*CHILD_COLUMNS, "id", "source", "created_by_id", "province_code"], now=now,
                        writer=self.writer)
        residences = Copy(Residence, ["child_id", "unit_id", "start", "province_code"], now=now, writer=self.writer)
        guardians = Copy(Guardian, ["child_id", "full_name", "name_key", "relationship", "is_primary", "province_code"],
                         now=now, writer=self.writer)
        episodes: list[tuple[int, int, Prepared, SpecialGroup]] = []
        assessments: list[tuple[int, int, list[RiskFactor]]] = []
        for child_id, p in zip(ids, rows, strict=True):
            d = p.data
            household = households.get(p.row)
            values = {**d, "ethnicity_id": p.ethnicity_id, "household_id": household.pk if household else None,
                      "unit_id": p.unit.pk, "ended_on": None, "end_reason": ""}
            if household is not None and not values.get("village"):
                values["village"] = household.village
            pc = province_code_of(p.unit.pk)
            children.add(*(values[c] for c in CHILD_COLUMNS), child_id, self.source, actor_id, pc)
            residences.add(child_id, p.unit.pk, d["birth_date"], pc)
            for i, g in enumerate(p.guardians):
                guardians.add(child_id, g["full_name"], self._fold_name(g["full_name"]), g["relationship"], i == 0, pc)
            self._audit(audits, "child.register", "registry.child", child_id, p.unit.pk,
                        {**{k: values[k] for k in CHILD_FIELDS}, "guardians": p.guardians})
            episodes.extend((child_id, p.unit.pk, p, group) for group in p.groups)
            if p.risks:
                assessments.append((child_id, p.unit.pk, p.risks))
        children.flush()
        residences.flush()
        guardians.flush()
        if episodes:
            copy = Copy(SpecialEpisode, ["id", "child_id", "group_id", "subgroup_id", "start", "nurture_case",
                                         "recorded_by_id", "province_code"], now=now, writer=self.writer)
            for pk, (child_id, unit_id, _p, group) in zip(episode_ids, episodes,
                                                          strict=True):
                top_id = group.parent_id or group.pk
                # A list names the sub-group only: its Art. 5(1) point where the sub-group tells
                # (registry.services.nurture_case_clean, as a worker's entry without a choice).
                copy.add(pk, child_id, top_id, group.pk if group.parent_id else None, self.today,
                         nurture_case_clean(group.code, None, {}), actor_id, province_code_of(unit_id))
                self._audit(audits, "child.special_open", "registry.child", child_id, unit_id,
                            {"episode": pk, "group": group.code, "start": self.today, "end": None})
            copy.flush()
        if assessments:
            copy = Copy(RiskAssessment, ["id", "child_id", "assessed_on", "assessed_by_id", "province_code"], now=now,
                        writer=self.writer)
            links = Copy(ChildRisk, ["child_id", "factor_id", "start", "assessment_id", "province_code"], now=now,
                         writer=self.writer)
            for pk, (child_id, unit_id, factors) in zip(assessment_ids, assessments,
                                                        strict=True):
                pc = province_code_of(unit_id)
                copy.add(pk, child_id, self.today, actor_id, pc)
                for f in factors:
                    links.add(child_id, f.pk, self.today, pk, pc)
                self._audit(audits, "child.risk_assess", "registry.child", child_id, unit_id,
                            {"assessed_on": self.today, "factors": sorted(f.code for f in factors)})
            copy.flush()
            links.flush()
        self._write_audits(audits, now)
        return ids

    # ------------------------------------------------------------ updating one matched child

    def _update(self, p: Prepared, child_id: int, *, write: bool) -> bool:
        """Bring a registered child in line with the row through the registry services; only what the
        row states is changed (an empty cell never erases anything). True when something changed."""
        from vitreem.registry import services as reg

        child = Child.objects.select_related("household", "unit").get(pk=child_id)
        if p.unit.pk != child.unit_id:
            self.out.warnings.append(RowIssue(
                p.row, self.header("unit"), p.unit.name, "unit_differs",
                _("Trẻ này đang ở %(u)s theo sổ theo dõi; danh sách ghi %(v)s. Chưa chuyển nơi ở: dùng chức năng "
                  "chuyển nơi ở nếu trẻ đã chuyển.") % {"u": child.unit.name, "v": p.unit.name}))
        data: dict[str, Any] = {}
        d = p.data
        if d["name_key"] != child.name_key or d["full_name"] != child.full_name:
            data["full_name"] = d["full_name"]
        if d["birth_date"] != child.birth_date or d["birth_precision"] != child.birth_precision:
            data["birth_date"], data["birth_precision"] = d["birth_date"], d["birth_precision"]
        if d["sex"] != child.sex:
            data["sex"] = d["sex"]
        if "personal_id" in p.given and d.get("personal_id") and d["personal_id"] != child.personal_id:
            data["personal_id"] = d["personal_id"]
        if "schooling" in p.given and (d["schooling"], d["school_level"]) != (child.schooling, child.school_level):
            data["schooling"], data["school_level"] = d["schooling"], d["school_level"]
        for key in ("disability", "village", "note"):
            if key in p.given and d[key] != getattr(child, key):
                data[key] = d[key]
        ethnicity_changed = "ethnicity" in p.given and p.ethnicity_id != child.ethnicity_id
        existing_guardians = set(child.guardians.values_list("name_key", flat=True))
        new_guardians = [g for g in p.guardians if fold(g["full_name"]) not in existing_guardians]
        open_groups = set(child.special_episodes.filter(end__isnull=True).values_list("group_id", flat=True))
        new_groups = [g for g in p.groups if (g.parent_id or g.pk) not in open_groups]
        open_risks = set(child.risks.filter(end__isnull=True).values_list("factor_id", flat=True))
        new_risks = [r for r in p.risks if r.pk not in open_risks]
        household = child.household
        poverty_change = False
        if p.poverty in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR):
            current = (HouseholdPoverty.objects.filter(household=household, year=self.today.year)
                       .values_list("status", flat=True).first() if household else None)
            poverty_change = current != p.poverty
        changed = bool(data or ethnicity_changed or new_guardians or new_groups or new_risks or poverty_change)
        if not write or not changed:
            return changed
        if data or ethnicity_changed:
            # The import's ID rule, as at creation: a mismatching ID is flagged, not refused.
            if ethnicity_changed:
                reg.child_update(actor=self.actor, child=child, data=data, on=self.today, strict_id=False,
                                 ethnicity=self.codes_code(p.ethnicity_id) if p.ethnicity_id else None)
            else:
                reg.child_update(actor=self.actor, child=child, data=data, on=self.today, strict_id=False)
            child.refresh_from_db()
        for g in new_guardians:
            reg.guardian_add(actor=self.actor, child=child, full_name=g["full_name"], relationship=g["relationship"])
        for group in new_groups:
            reg.special_episode_open(actor=self.actor, child=child, group=group, start=self.today)
        if new_risks:
            keep = list(RiskFactor.objects.filter(pk__in=open_risks))
            reg.risk_assess(actor=self.actor, child=child, assessed_on=self.today, factors=keep + new_risks)
        if poverty_change:
            if household is None:
                audits: list[tuple] = []
                now = timezone.now()
                ref = self._households([p], audits, now).get(p.row)
                self._write_audits(audits, now)
                self.writer.wait()
                if ref is not None and ref.unit_id == child.unit_id:
                    reg.child_update(actor=self.actor, child=child, data={}, household=Household.objects.get(pk=ref.pk),
                                     on=self.today, strict_id=False)
            elif household is not None:
                reg.household_poverty_set(actor=self.actor, household=household, year=self.today.year,
                                          status=p.poverty)  # type: ignore[arg-type]
        return True

    def codes_code(self, ethnicity_id: int) -> str:
        from vitreem.registry.models import Ethnicity

        if ethnicity_id not in self._ethnicity_codes:
            self._ethnicity_codes[ethnicity_id] = Ethnicity.objects.only("code").get(pk=ethnicity_id).code
        return self._ethnicity_codes[ethnicity_id]
