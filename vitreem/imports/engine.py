"""The import engine: each row read into the registry's terms, validated by the registry's own
`child_clean`, matched against the register, then created in bulk or updated through the services.

The engine runs inside the caller's transaction (services.import_execute); it never commits. With
`write=False` it only reads (dry run, preview). Rows are handled in chunks so a 200,000-row list
stays within memory and each chunk costs a handful of queries.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from vitreem.core.audit import snapshot
from vitreem.core.errors import DomainError
from vitreem.core.models import AuditEntry
from vitreem.core.scope import require_unit
from vitreem.core.text import detect_column_encoding, fold, nfc, to_unicode
from vitreem.places.models import AdminUnit
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
from vitreem.registry.services import CHILD_FIELDS
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

CHUNK = 2000
# Duplicate-detection scores (registry.duplicates): at or above MATCH the row is that child;
# between REVIEW and MATCH an officer decides in the duplicate review queue.
MATCH_SCORE = 0.9
REVIEW_SCORE = 0.6
TEXT_FIELDS = {"full_name", "family_middle", "given_name", "ethnicity", "village", "unit", "guardian", "father",
               "mother", "relationship", "poverty", "special", "risk", "schooling", "disability", "note", "sex"}
ENCODING_SAMPLE = 3000
MAX_ERRORS_KEPT = 50_000


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
        self._household_cache: dict[tuple[int, str, str], Household] = {}
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
        index = self.col.get(name)
        if index is None or index >= len(cells):
            return ""
        value = cells[index]
        if isinstance(value, str):
            encoding = self.encodings.get(index, "unicode")
            return to_unicode(value, encoding) if encoding in ("tcvn3", "vni") else nfc(value)
        return value

    # ------------------------------------------------------------ one row

    def prepare(self, rownum: int, cells: list[Any]) -> tuple[Prepared | None, list[RowIssue], list[RowIssue]]:
        errors: list[RowIssue] = []
        warnings: list[RowIssue] = []
        given: set[str] = set()

        def fail(name: str, exc: CellError, value: Any = None) -> None:
            shown = cell_text(self._cell(cells, name) if value is None else value)
            errors.append(RowIssue(rownum, self.header(name), shown[:200], exc.code, exc.message))

        raw: dict[str, Any] = {}
        name = self._cell(cells, "full_name")
        if not name and ("family_middle" in self.col or "given_name" in self.col):
            name = " ".join(p for p in (cell_text(self._cell(cells, "family_middle")),
                                        cell_text(self._cell(cells, "given_name"))) if p)
        raw["full_name"] = cell_text(name)
        if not any(cell_text(self._cell(cells, f)) for f in self.col):
            return None, [], []  # a row with only a sequence number
        birth = self._cell(cells, "birth_date")
        if birth not in ("", None):
            try:
                raw["birth_date"], raw["birth_precision"] = parse_date(birth, today=self.today)
                if raw["birth_precision"] == "year":
                    warnings.append(RowIssue(rownum, self.header("birth_date"), cell_text(birth), "year_only",
                                             _("Chỉ có năm sinh: ghi nhận ngày 01/01 và đánh dấu là chỉ có năm.")))
            except CellError as exc:
                fail("birth_date", exc)
        try:
            if "sex" in self.col:
                raw["sex"] = parse_sex(self._cell(cells, "sex"))
            elif "sex_male" in self.col or "sex_female" in self.col:
                raw["sex"] = parse_sex_marks(self._cell(cells, "sex_male"), self._cell(cells, "sex_female"))
        except CellError as exc:
            fail("sex" if "sex" in self.col else "sex_male", exc)
        pid_cell = self._cell(cells, "personal_id")
        if cell_text(pid_cell):
            raw["personal_id"], note = parse_personal_id(pid_cell)
            given.add("personal_id")
            if note:
                warnings.append(RowIssue(rownum, self.header("personal_id"), cell_text(pid_cell), "id_leading_zero",
                                         note))
        if cell_text(self._cell(cells, "schooling")):
            try:
                raw["schooling"], raw["school_level"] = parse_schooling(self._cell(cells, "schooling"))
                given.add("schooling")
            except CellError as exc:
                fail("schooling", exc)
        if cell_text(self._cell(cells, "disability")):
            try:
                raw["disability"] = parse_disability(self._cell(cells, "disability"))
                given.add("disability")
            except CellError as exc:
                fail("disability", exc)
        for key in ("village", "note"):
            text = cell_text(self._cell(cells, key))
            if text:
                raw[key] = text
                given.add(key)

        cleaned = child_clean(raw, on=self.today, strict_id=False)
        column_of = {"full_name": "full_name" if "full_name" in self.col else "family_middle",
                     "birth_date": "birth_date", "birth_precision": "birth_date",
                     "sex": "sex" if "sex" in self.col else "sex_male", "personal_id": "personal_id",
                     "schooling": "schooling", "school_level": "schooling", "dropout_date": "schooling",
                     "disability": "disability"}
        reported = {e.column for e in errors}
        for fname, message in cleaned.errors.items():
            col = column_of.get(fname, fname)
            if self.header(col) in reported:
                continue  # the cell parser already said what is wrong
            errors.append(RowIssue(rownum, self.header(col), cell_text(self._cell(cells, col))[:200],
                                   cleaned.codes.get(fname, "invalid"), message))
        for fname, message in cleaned.warnings.items():
            col = column_of.get(fname, fname)
            warnings.append(RowIssue(rownum, self.header(col), cell_text(self._cell(cells, col)), "id_mismatch",
                                     message))

        unit = None
        try:
            unit = self.units.resolve(cell_text(self._cell(cells, "unit")), cell_text(self._cell(cells, "unit_code")))
            if unit.pk not in self._allowed_units:
                try:
                    require_unit(self.actor, unit)
                except DomainError as exc:
                    raise CellError("out_of_scope", str(exc.message)) from None
                self._allowed_units.add(unit.pk)
        except CellError as exc:
            fail("unit_code" if "unit_code" in self.col and cell_text(self._cell(cells, "unit_code")) else "unit", exc)
            if exc.code == "unit_split":
                self.out.splits.setdefault(cell_text(self._cell(cells, "unit")), exc.candidates)

        prepared = Prepared(row=rownum, data=cleaned.data, unit=unit, given=given)  # type: ignore[arg-type]
        try:
            prepared.ethnicity_id = self.codes.parse_ethnicity(self._cell(cells, "ethnicity"))
            if prepared.ethnicity_id:
                given.add("ethnicity")
        except CellError as exc:
            fail("ethnicity", exc)
        for key, rel in (("guardian", None), ("father", "father"), ("mother", "mother")):
            text = cell_text(self._cell(cells, key))
            if not text:
                continue
            if any(ch.isdigit() for ch in text) or len(text) > 150:
                fail(key, CellError("invalid_name", _("Tên người nuôi dưỡng không hợp lệ: %(v)s.") % {"v": text[:60]}))
                continue
            relationship = rel or parse_relationship(self._cell(cells, "relationship"))
            prepared.guardians.append({"full_name": text, "relationship": relationship})
        try:
            if "poverty" in self.col:
                prepared.poverty = parse_poverty(self._cell(cells, "poverty"))
            elif is_mark(self._cell(cells, "near_poor")):
                prepared.poverty = PovertyStatus.NEAR_POOR
            elif is_mark(self._cell(cells, "poor")):
                prepared.poverty = PovertyStatus.POOR
        except CellError as exc:
            fail("poverty", exc)
        if prepared.poverty in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR) and not prepared.guardians:
            warnings.append(RowIssue(rownum, self.header("poverty"), cell_text(self._cell(cells, "poverty")),
                                     "poverty_no_head", _("Chưa ghi được hộ nghèo/cận nghèo: thiếu tên cha, mẹ hoặc "
                                                         "người nuôi dưỡng (chủ hộ).")))
            prepared.poverty = None
        try:
            prepared.groups = self.codes.parse_groups(self._cell(cells, "special"))
        except CellError as exc:
            fail("special", exc)
        try:
            prepared.risks, note = self.codes.parse_risks(self._cell(cells, "risk"))
            if note:
                warnings.append(RowIssue(rownum, self.header("risk"), cell_text(self._cell(cells, "risk")),
                                         "risk_unspecified", note))
        except CellError as exc:
            fail("risk", exc)
        if errors or unit is None:
            return None, errors, warnings
        return prepared, errors, warnings

    # ------------------------------------------------------------ the whole table

    def run(self, *, write: bool, valid_only: bool) -> Outcome:
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
            chunk.append(prepared)  # type: ignore[arg-type]
            if len(chunk) >= CHUNK:
                self._flush(chunk, write=write and (valid_only or not out.invalid))
                done = rownum - self.table.data_start
                chunk = []
                if self.progress:
                    self.progress(min(done, total), total)
        if chunk:
            self._flush(chunk, write=write and (valid_only or not out.invalid))
        return out

    # ------------------------------------------------------------ matching

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
        if ids:
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
        create, update, review = self._match(chunk)
        out = self.out
        if not write:
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
        out.created += len(children)
        if review:
            made = {p.row: child for p, child in zip([*create, *(p for p, _c in review)], children, strict=True)}
            rows = [DuplicateCandidate(child_a=made[p.row], child_b_id=int(c["id"]), score=float(c["score"]),
                                       reasons=c.get("reasons") or [], source=self.source,
                                       unit_id=made[p.row].unit_id)
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

    def _audit(self, action: str, obj_type: str, obj_id: Any, unit_id: int | None, changes: dict) -> AuditEntry:
        return AuditEntry(actor=self.actor if getattr(self.actor, "pk", None) else None, kind=AuditEntry.Kind.CHANGE,
                          action=action, object_type=obj_type, object_id=str(obj_id), unit_id=unit_id,
                          changes=changes, source=self.source)

    @staticmethod
    def _household_key(p: Prepared) -> tuple[int, str, str] | None:
        if p.poverty is None or not p.guardians:
            return None
        return (p.unit.pk, fold(p.data.get("village", "")), fold(p.guardians[0]["full_name"]))

    def _households(self, rows: list[Prepared], audits: list[AuditEntry]) -> dict[int, Household]:
        """Row number → household, for rows that state a poverty status (the first guardian is the
        head). Siblings in one file share it; an existing household of the same head and village is
        reused. A few queries per chunk, whatever its size."""
        wanted: dict[tuple[int, str, str], Prepared] = {}
        for p in rows:
            key = self._household_key(p)
            if key is not None:
                wanted.setdefault(key, p)
        missing = [k for k in wanted if k not in self._household_cache]
        if missing:
            for h in Household.objects.filter(unit_id__in={k[0] for k in missing},
                                              head_key__in={k[2] for k in missing}):
                key = (h.unit_id, fold(h.village), h.head_key)
                if key in wanted:
                    self._household_cache.setdefault(key, h)
            new = {k: Household(unit=wanted[k].unit, head_name=nfc(wanted[k].guardians[0]["full_name"]), head_key=k[2],
                                village=wanted[k].data.get("village", ""))
                   for k in missing if k not in self._household_cache}
            Household.objects.bulk_create(list(new.values()), batch_size=2000)
            audits.extend(self._audit("household.create", "registry.household", h.pk, h.unit_id, snapshot(h))
                          for h in new.values())
            self._household_cache.update(new)
        out = {}
        status: dict[int, str] = {}
        for p in rows:
            key = self._household_key(p)
            if key is not None:
                household = self._household_cache[key]
                out[p.row] = household
                status.setdefault(household.pk, p.poverty)  # type: ignore[arg-type]
        self._poverty_set(status, audits)
        return out

    def _poverty_set(self, status: dict[int, str], audits: list[AuditEntry]) -> None:
        """This year's classification of each household (Decree 07/2021 standard), as household_poverty_set
        records it, in bulk."""
        if not status:
            return
        year = self.today.year
        current = dict(HouseholdPoverty.objects.filter(household_id__in=list(status), year=year)
                       .values_list("household_id", "status"))
        HouseholdPoverty.objects.bulk_create([HouseholdPoverty(household_id=pk, year=year, status=s)
                                              for pk, s in status.items() if pk not in current], batch_size=2000)
        for pk, s in status.items():
            if pk in current and current[pk] != s:
                HouseholdPoverty.objects.filter(household_id=pk, year=year).update(status=s)
        units = dict(Household.objects.filter(pk__in=[pk for pk, s in status.items() if current.get(pk) != s])
                     .values_list("pk", "unit_id")) if any(current.get(pk) != s for pk, s in status.items()) else {}
        audits.extend(self._audit("household.poverty_set", "registry.household", pk, units.get(pk),
                                  {"status": [current.get(pk), s], "year": [None, year]})
                      for pk, s in status.items() if current.get(pk) != s)

    def _create(self, rows: list[Prepared]) -> list[Child]:
        """The same records child_register makes (child, residence from birth, guardians, audit row),
        in a few INSERTs per chunk; plus the episodes, risks and poverty the list states."""
        if not rows:
            return []
        audits: list[AuditEntry] = []
        actor = self.actor if getattr(self.actor, "pk", None) else None
        children = []
        households = self._households(rows, audits)
        for p in rows:
            household = households.get(p.row)
            child = Child(**p.data, unit=p.unit, household=household, ethnicity_id=p.ethnicity_id,
                          source=self.source, created_by=actor)
            if household is not None and not child.village:
                child.village = household.village
            children.append(child)
        Child.objects.bulk_create(children, batch_size=1000)
        Residence.objects.bulk_create([Residence(child=c, unit_id=c.unit_id, start=c.birth_date) for c in children],
                                      batch_size=2000)
        guardians: list[Guardian] = []
        episodes: list[SpecialEpisode] = []
        assessments: list[tuple[Child, RiskAssessment, list[RiskFactor]]] = []
        for p, child in zip(rows, children, strict=True):
            guardians.extend(Guardian(child=child, full_name=nfc(g["full_name"]), name_key=fold(g["full_name"]),
                                      relationship=g["relationship"], is_primary=i == 0)
                             for i, g in enumerate(p.guardians))
            audits.append(self._audit("child.register", "registry.child", child.pk, child.unit_id,
                                      {**snapshot(child, CHILD_FIELDS), "guardians": p.guardians}))
            for group in p.groups:
                top = group.parent or group
                episodes.append(SpecialEpisode(child=child, group=top, subgroup=group if group.parent_id else None,
                                               start=self.today, recorded_by=actor))
            if p.risks:
                assessments.append((child, RiskAssessment(child=child, assessed_on=self.today, assessed_by=actor),
                                    p.risks))
        Guardian.objects.bulk_create(guardians, batch_size=2000)
        SpecialEpisode.objects.bulk_create(episodes, batch_size=2000)
        audits.extend(self._audit("child.special_open", "registry.child", e.child.pk, e.child.unit_id,
                                  {"episode": e.pk, "group": (e.subgroup or e.group).code, "start": e.start, "end": None})
                      for e in episodes)
        RiskAssessment.objects.bulk_create([a for _c, a, _f in assessments], batch_size=2000)
        ChildRisk.objects.bulk_create([ChildRisk(child=c, factor=f, start=self.today, assessment=a)
                                       for c, a, factors in assessments for f in factors], batch_size=2000)
        for c, _a, factors in assessments:
            audits.append(self._audit("child.risk_assess", "registry.child", c.pk, c.unit_id,
                                      {"assessed_on": self.today, "factors": sorted(f.code for f in factors)}))
        from vitreem.core.audit import audit_changes_bulk

        audit_changes_bulk(audits)
        return children

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
            if ethnicity_changed:
                reg.child_update(actor=self.actor, child=child, data=data, on=self.today,
                                 ethnicity=self.codes_code(p.ethnicity_id) if p.ethnicity_id else None)
            else:
                reg.child_update(actor=self.actor, child=child, data=data, on=self.today)
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
                audits: list[AuditEntry] = []
                household = self._households([p], audits).get(p.row)
                from vitreem.core.audit import audit_changes_bulk

                audit_changes_bulk(audits)
                if household is not None and household.unit_id == child.unit_id:
                    reg.child_update(actor=self.actor, child=child, data={}, household=household, on=self.today)
            elif household is not None:
                reg.household_poverty_set(actor=self.actor, household=household, year=self.today.year,
                                          status=p.poverty)  # type: ignore[arg-type]
        return True

    def codes_code(self, ethnicity_id: int) -> str:
        from vitreem.registry.models import Ethnicity

        return Ethnicity.objects.only("code").get(pk=ethnicity_id).code
