"""Duplicate detection: the same child registered twice. Scoring and the scan live here; the
candidates for a new record and the review queue's reads are in `selectors.py`, marking a pair
distinct and merging in `services_duplicates.py`.

Scoring (one function, `pair_score`, used by the province-wide scan, by registration and by import):
- the same personal ID is almost certain (score ≥ 0.9 whatever else differs);
- otherwise the score weighs the folded name (given name first: siblings share family and middle
  names, twins share everything but the given name), the birth date (exact; day/month swapped;
  year ±1 with the same day and month; year-only or month-only precision matches the year/month),
  and the context (same household, a guardian of the same name, the same commune); a different
  sex and two different personal IDs lower it.

Speed: pairs are compared only inside blocks (records that share a personal ID, a given name and
an unordered day/month of birth, a commune and a day/month, a family name and a birth date, a full
name and a birth year), never all against all — see `_blocks`. DESIGN.md measured rapidfuzz at
~100 million comparisons/s, but the Python loop around it is what costs: blocking keeps it to a
few hundred thousand pairs for 200,000 children.

Decided pairs (DuplicateDecision merged/distinct) are never proposed again.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models, transaction
from django.utils.translation import gettext as _
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from vitreem.core.audit import audit_change
from vitreem.core.errors import DomainError
from vitreem.core.text import fold
from vitreem.places.models import AdminUnit, Version

from .models import (
    BirthPrecision,
    Child,
    DuplicateCandidate,
    DuplicateDecision,
    Guardian,
)

log = logging.getLogger(__name__)

# A pair at or above this is written to the review queue by the scan.
SCAN_THRESHOLD = 0.85
# Registration warns from a slightly lower score: a false warning costs one click, a missed
# duplicate costs a double-counted child.
NEW_THRESHOLD = 0.75
# A score at or above this means "almost certainly the same child".
CERTAIN = 0.9
# Blocks larger than this are skipped (a placeholder ID such as 000000000000 typed for hundreds of
# children would otherwise explode into a quadratic number of pairs).
MAX_BLOCK = 400
# Above this many namesakes born the same year, a year-only birth date is compared within the commune.
COMMON_BLOCK = 30

# Weights of the three parts of the score (they sum to 1).
W_NAME, W_BIRTH, W_CONTEXT = 0.5, 0.35, 0.15
SEX_PENALTY = 0.25
OTHER_ID_FACTOR = 0.6


# ---------------------------------------------------------------- reasons

def reason_text(code: str) -> str:
    """The Vietnamese text of a stored reason code ("name_similar:92" → "Tên gần giống (92%)")."""
    key, _sep, arg = code.partition(":")
    texts = {
        "same_id": _("Cùng số định danh"),
        "id_differs": _("Số định danh khác nhau"),
        "name_same": _("Trùng họ tên"),
        "name_folded": _("Trùng họ tên khi bỏ dấu"),
        "name_similar": _("Tên gần giống (%(p)s%%)"),
        "given_differs": _("Tên gọi khác nhau"),
        "only_given_same": _("Chỉ trùng tên gọi: họ và tên đệm khác nhau"),
        "birth_same": _("Trùng ngày sinh"),
        "birth_swapped": _("Ngày/tháng sinh đảo"),
        "birth_year_off": _("Năm sinh lệch 1 năm, cùng ngày tháng"),
        "birth_swapped_year_off": _("Ngày/tháng sinh đảo và năm lệch 1"),
        "birth_year": _("Cùng năm sinh (chỉ biết năm)"),
        "birth_year_near": _("Năm sinh lệch 1 (chỉ biết năm)"),
        "birth_month": _("Cùng tháng, năm sinh"),
        "birth_day_differs": _("Cùng tháng, năm sinh; khác ngày"),
        "birth_differs": _("Ngày sinh khác nhau"),
        "sex_differs": _("Khác giới tính"),
        "same_household": _("Cùng hộ gia đình"),
        "guardian_similar": _("Người nuôi dưỡng trùng tên"),
        "same_unit": _("Cùng xã/phường"),
        "other_unit": _("Khác xã/phường"),
        "other_household": _("Thuộc hai hộ gia đình khác nhau"),
        "name_common": _("Họ tên phổ biến, dễ trùng ngẫu nhiên"),
    }
    text = texts.get(key, key)
    return text % {"p": arg} if "%(p)s" in text else text


def reasons_text(codes: Iterable[str]) -> list[str]:
    return [reason_text(c) for c in codes]


# ---------------------------------------------------------------- scoring

@dataclass(slots=True)
class Rec:
    """What the scorer needs of a child (a record in the database or one about to be registered)."""

    id: int
    full_name: str
    name_key: str
    given_key: str
    birth_date: dt.date
    precision: str
    sex: str
    personal_id: str
    household_id: int | None
    unit_id: int | None
    guardians: tuple[str, ...] = ()


def _birth(a: Rec, b: Rec) -> tuple[float, str]:
    da, db = a.birth_date, b.birth_date
    if BirthPrecision.YEAR in (a.precision, b.precision):
        gap = abs(da.year - db.year)
        return (0.8, "birth_year") if gap == 0 else (0.45, "birth_year_near") if gap == 1 else (0.0, "birth_differs")
    if BirthPrecision.MONTH in (a.precision, b.precision):
        if (da.year, da.month) == (db.year, db.month):
            return 0.9, "birth_month"
        if da.month == db.month and abs(da.year - db.year) == 1:
            return 0.7, "birth_year_off"
        return (0.4, "birth_year") if da.year == db.year else (0.0, "birth_differs")
    if da == db:
        return 1.0, "birth_same"
    swapped = da.day == db.month and da.month == db.day
    year_gap = abs(da.year - db.year)
    if swapped and year_gap == 0:
        return 0.9, "birth_swapped"
    if (da.month, da.day) == (db.month, db.day) and year_gap == 1:
        return 0.85, "birth_year_off"
    if swapped and year_gap == 1:
        return 0.6, "birth_swapped_year_off"
    if (da.year, da.month) == (db.year, db.month):
        # One mistyped day ("12" for "13"/"21") is likelier than a random day of the same month.
        close = abs(da.day - db.day) <= 1 or sorted(str(da.day)) == sorted(str(db.day))
        return (0.7 if close else 0.5), "birth_day_differs"
    if da.year == db.year and da.day == db.day:
        return 0.5, "birth_day_differs"
    return 0.0, "birth_differs"


def _guardians_match(a: Rec, b: Rec) -> bool:
    return any(fuzz.token_sort_ratio(ga, gb) >= 90 for ga in a.guardians for gb in b.guardians)


# How likely two different children agree on the birth date this way by chance: a pattern's share
# of the ~5,840 birth dates of 16 years of children (a year-only date: one of 16 years).
_CHANCE = {
    "birth_same": 1 / 5840, "birth_swapped": 1 / 5840, "birth_year_off": 2 / 5840,
    "birth_swapped_year_off": 4 / 5840, "birth_day_differs": 30 / 5840, "birth_month": 1 / 192,
    "birth_year": 1 / 16, "birth_year_near": 2 / 16, "birth_differs": 1.0,
}
# Expected chance matches at which the commonness penalty is full.
COMMON_REF = 0.1
COMMON_PENALTY = 0.25
RARE_NAME = 3


@dataclass
class Freq:
    """How many records carry each folded name (in the province, in each commune) and each given
    name. A match on "A Tin" (one child in 150 in the demo province) is weak evidence; a match on a
    rare name is strong — the frequency-based weighting of record linkage (Fellegi–Sunter)."""

    names: dict[str, int]
    names_in_unit: dict[tuple[str, int | None], int]
    given: dict[str, int]

    @classmethod
    def of(cls, recs: Iterable[Rec]) -> Freq:
        names: dict[str, int] = defaultdict(int)
        in_unit: dict[tuple[str, int | None], int] = defaultdict(int)
        given: dict[str, int] = defaultdict(int)
        for r in recs:
            names[r.name_key] += 1
            in_unit[(r.name_key, r.unit_id)] += 1
            given[r.given_key] += 1
        return cls(dict(names), dict(in_unit), dict(given))


def _typo_of(x: str, y: str, freq: Freq | None) -> bool:
    """One letter dropped, added or two letters swapped ("Hân"/"Hn", "Sêm"/"Smê") — and, when the
    frequencies are known, one of the two spellings is rare (An/Anh are two real names, not a typo)."""
    if not x or not y or OSA.distance(x, y) != 1 or (len(x) == len(y) and sorted(x) != sorted(y)):
        return False
    return freq is None or _rare_spelling(x, y, freq)


def _rare_spelling(x: str, y: str, freq: Freq) -> bool:
    """One of two given names is rare, absolutely or next to the other (a repeated typo stays rare)."""
    low, high = sorted((freq.given.get(x, 0), freq.given.get(y, 0)))
    return low <= RARE_NAME or low <= 0.01 * high


def _only_given_shared(x: str, y: str) -> bool:
    """Two folded full names whose family names differ (not a typo) and whose middle names differ."""
    xs, ys = x.split(" "), y.split(" ")
    if len(xs) < 2 or len(ys) < 2:  # noqa: PLR2004 — a family name and a given name at least
        return False
    family_differs = JaroWinkler.normalized_similarity(xs[0], ys[0]) < 0.85  # noqa: PLR2004
    return family_differs and xs[1:-1] != ys[1:-1]


def pair_score(a: Rec, b: Rec, freq: Freq | None = None) -> tuple[float, list[str]]:
    """Score 0–1 that `a` and `b` are the same child, and the reason codes (see `reason_text`).
    With `freq`, agreement on a common name (or a loose date) counts for less."""
    reasons: list[str] = []
    given = JaroWinkler.normalized_similarity(a.given_key, b.given_key)
    typo = given < 0.9 and _typo_of(a.given_key, b.given_key, freq)
    if typo:
        given = 0.9
    # Two given names both in common use ("Thịnh", "Thiện") are two names, however alike.
    two_names = (freq is not None and a.given_key != b.given_key and not typo
                 and not _rare_spelling(a.given_key, b.given_key, freq))
    full = fuzz.token_sort_ratio(a.name_key, b.name_key) / 100
    name = 0.6 * given + 0.4 * full
    if a.name_key == b.name_key:
        reasons.append("name_same" if a.full_name == b.full_name else "name_folded")
    else:
        reasons.append(f"name_similar:{round(100 * name)}")
    if given < 0.85 or two_names:
        # Siblings and twins differ by the given name only: a different given name is strong evidence.
        name *= 0.6
        reasons.append("given_differs")
    elif _only_given_shared(a.name_key, b.name_key):
        # "Đặng Văn Sơn" / "Phan Hữu Sơn": a common given name is all they share (issue 21 item 9; they
        # scored 80%). A family name alone may change (a child given the other parent's name), so
        # only the family name *and* the middle name both differing count against.
        name *= 0.6
        reasons.append("only_given_same")

    birth, birth_reason = _birth(a, b)
    reasons.append(birth_reason)

    same_unit = a.unit_id is not None and a.unit_id == b.unit_id
    guardians = bool(a.guardians and b.guardians and _guardians_match(a, b))
    if a.household_id is not None and a.household_id == b.household_id:
        context = 1.0
        reasons.append("same_household")
    elif same_unit:
        if guardians:
            context = 1.0
            reasons.append("guardian_similar")
        elif a.household_id is not None and b.household_id is not None:
            context = 0.1  # two households of the commune: more likely two children
            reasons.append("same_unit")
            reasons.append("other_household")
        else:
            context = 0.7
            reasons.append("same_unit")
    elif guardians:
        context = 0.6
        reasons.append("guardian_similar")
    else:
        context = 0.0
        reasons.append("other_unit")

    score = W_NAME * name + W_BIRTH * birth + W_CONTEXT * context
    if freq is not None:
        # Expected number of other children who would agree this well by chance.
        if same_unit:
            namesakes = max(freq.names_in_unit.get((a.name_key, a.unit_id), 1),
                            freq.names_in_unit.get((b.name_key, b.unit_id), 1))
        else:
            namesakes = max(freq.names.get(a.name_key, 1), freq.names.get(b.name_key, 1))
        expected = namesakes * _CHANCE[birth_reason]
        if expected > COMMON_REF / 4:
            reasons.append("name_common")
        score -= COMMON_PENALTY * min(1.0, expected / COMMON_REF)
    if a.sex and b.sex and a.sex != b.sex:
        score -= SEX_PENALTY
        reasons.append("sex_differs")
    if a.personal_id and a.personal_id == b.personal_id:
        score = CERTAIN + (1 - CERTAIN) * max(score, 0.0)
        reasons.insert(0, "same_id")
    elif a.personal_id and b.personal_id:
        score *= OTHER_ID_FACTOR
        reasons.append("id_differs")
    return round(min(max(score, 0.0), 1.0), 4), reasons


# ---------------------------------------------------------------- loading and blocking

_REC_FIELDS = ("id", "full_name", "name_key", "given_key", "birth_date", "birth_precision", "sex", "personal_id",
               "household_id", "unit_id")


def _recs(qs: models.QuerySet[Child]) -> list[Rec]:
    return [Rec(*row) for row in qs.values_list(*_REC_FIELDS).iterator(chunk_size=5000)]


def _attach_guardians(recs: dict[int, Rec], child_ids: Iterable[int]) -> None:
    ids = sorted(set(child_ids))
    found: dict[int, list[str]] = defaultdict(list)
    for start in range(0, len(ids), 900):  # SQLite's limit on query parameters
        rows = Guardian.objects.filter(child_id__in=ids[start:start + 900]).values_list("child_id", "name_key")
        for child_id, key in rows:
            found[child_id].append(key)
    for child_id, keys in found.items():
        recs[child_id].guardians = tuple(keys)


def _family(rec: Rec) -> str:
    return rec.name_key.split(" ", 1)[0]


def _blocks(recs: list[Rec]) -> Iterator[list[int]]:
    """Groups of record ids to compare all-against-all. A pair may be in several blocks.

    Measured on the demo province (250,000 records): blocking by given name and day/month, or by
    commune and day/month, gives 1–4 million pairs because given names (and whole minority names
    such as "A Tin") are shared by hundreds; these keys give well under a million."""
    by_id: dict[str, list[int]] = defaultdict(list)
    by_name_dm: dict[tuple, list[int]] = defaultdict(list)
    by_family_date: dict[tuple, list[int]] = defaultdict(list)
    by_name_month: dict[tuple, list[int]] = defaultdict(list)
    by_name_year: dict[tuple, list[int]] = defaultdict(list)
    partial: list[Rec] = []
    for r in recs:
        if r.personal_id:
            by_id[r.personal_id].append(r.id)
        born = r.birth_date
        by_name_year[(r.name_key, born.year)].append(r.id)
        # A mistyped given name: the family name, the birth date and the given name's first letter
        # agree (any commune). Without the letter this block alone gives 400,000 pairs, nearly all
        # siblings-in-name only.
        by_family_date[(_family(r), born, r.given_key[:1])].append(r.id)
        by_name_month[(r.name_key, born.year, born.month)].append(r.id)  # a mistyped day
        if r.precision != BirthPrecision.DAY:
            partial.append(r)
            continue
        dm = (min(born.day, born.month), max(born.day, born.month))  # unordered: a swap lands in the same block
        by_name_dm[(r.name_key, dm)].append(r.id)  # year ±1 and swapped day/month
    for index in (by_id, by_name_dm, by_family_date, by_name_month):
        for ids in index.values():
            if 1 < len(ids) <= MAX_BLOCK:
                yield ids
    # A year- or month-only birth date has no day/month: compare with the same name born within a
    # year of it, in the same commune when the name is common (a year of "A Tin" births is a hundred
    # children: without a date, another commune's namesake is no evidence at all).
    by_name_year_unit: dict[tuple, list[int]] = defaultdict(list)
    partial_names = {r.name_key for r in partial}
    for r in recs:
        if r.name_key in partial_names:
            by_name_year_unit[(r.name_key, r.birth_date.year, r.unit_id)].append(r.id)
    for r in partial:
        for year in (r.birth_date.year - 1, r.birth_date.year, r.birth_date.year + 1):
            ids = by_name_year.get((r.name_key, year), [])
            if len(ids) > COMMON_BLOCK:
                ids = by_name_year_unit.get((r.name_key, year, r.unit_id), [])
            if ids and len(ids) <= MAX_BLOCK:
                yield [r.id, *ids]


def _pairs(recs: list[Rec]) -> set[tuple[int, int]]:
    pairs: set[int] = set()
    update = pairs.update
    for block in _blocks(recs):
        ids = sorted(set(block))  # a partial-date block holds its own record too
        for i in range(len(ids) - 1):
            high = ids[i] << 32  # one int per pair: half the memory and time of tuples
            update([high | b for b in ids[i + 1:]])
    mask = (1 << 32) - 1
    return {(key >> 32, key & mask) for key in pairs}


def _decided_pairs() -> set[tuple[int, int]]:
    return {(min(a, b), max(a, b)) for a, b in DuplicateDecision.objects.values_list("child_a_id", "child_b_id")}


@dataclass
class ScanResult:
    pairs_compared: int
    found: list[tuple[int, int, float, list[str]]]  # (child_a, child_b, score, reasons), a < b
    seconds: float


def _may_reach(a: Rec, b: Rec, freq: Freq | None, threshold: float) -> bool:
    """A cheap upper bound of pair_score: most blocked pairs (same family name and birth date,
    different given names) cannot reach the threshold and skip the full scoring."""
    if a.personal_id and a.personal_id == b.personal_id:
        return True
    birth = _birth(a, b)[0]
    best_name = 1.0
    if a.given_key != b.given_key:
        jw = JaroWinkler.normalized_similarity(a.given_key, b.given_key)
        typo = jw < 0.9 and _typo_of(a.given_key, b.given_key, freq)
        if not typo and (jw < 0.85 or (freq is not None and not _rare_spelling(a.given_key, b.given_key, freq))):
            best_name = 0.6
    return W_NAME * best_name + W_BIRTH * birth + W_CONTEXT >= threshold


def pairs_among(recs: list[Rec], *, threshold: float, skip: set[tuple[int, int]] | None = None,
                guardians: Callable[[dict[int, Rec], set[int]], None] | None = None
                ) -> tuple[int, list[tuple[int, int, float, list[str]]]]:
    """Pairs of `recs` scoring at least `threshold`: (pairs compared, [(a, b, score, reasons)], a < b).
    The one scan, for the register (ids are children) and for the rows of an imported file (ids are
    row numbers). `guardians` fills in the guardians of the hopeful pairs' records when they are not
    on the records yet (a query for the register's)."""
    by_id = {r.id: r for r in recs}
    pairs = _pairs(recs)
    freq = Freq.of(recs)
    if skip:
        pairs -= skip
    hopeful = [(a, b) for a, b in pairs if _may_reach(by_id[a], by_id[b], freq, threshold)]
    if guardians is not None:
        guardians(by_id, {c for pair in hopeful for c in pair})
    found = []
    for a, b in hopeful:
        score, reasons = pair_score(by_id[a], by_id[b], freq)
        if score >= threshold:
            found.append((a, b, score, reasons))
    found.sort(key=lambda row: (-row[2], row[0], row[1]))
    return len(pairs), found


def duplicates_find(qs: models.QuerySet[Child] | None = None, *, threshold: float = SCAN_THRESHOLD,
                    skip_decided: bool = True) -> ScanResult:
    """Compare the children of `qs` (active children by default) within blocks; no writes."""
    started = time.perf_counter()
    qs = Child.objects.filter(ended_on__isnull=True) if qs is None else qs
    compared, found = pairs_among(_recs(qs), threshold=threshold,
                                  skip=_decided_pairs() if skip_decided else None, guardians=_attach_guardians)
    return ScanResult(pairs_compared=compared, found=found, seconds=time.perf_counter() - started)


def _scan_queryset(unit: AdminUnit | None) -> models.QuerySet[Child]:
    qs = Child.objects.filter(ended_on__isnull=True)
    if unit is None:
        return qs
    from vitreem.places.selectors import descendant_ids, unit_current

    units = [unit]
    if unit.version == Version.LEGACY:
        # After 2025-07-01 the children of a legacy unit live in its successors.
        units += unit_current(unit)
    return qs.filter(unit_id__in=descendant_ids(units))


@transaction.atomic
def duplicates_scan(*, unit: AdminUnit | None = None, threshold: float = SCAN_THRESHOLD, actor=None) -> int:
    """Write the candidate pairs found among active children (of `unit`, or everywhere) to the review
    queue (source "scan"). Pairs already in the queue or already decided are left alone. Returns the
    number of new candidates."""
    if not 0 < threshold <= 1:
        raise DomainError(_("Ngưỡng phải nằm trong khoảng (0; 1]."), field="threshold")
    result = duplicates_find(_scan_queryset(unit), threshold=threshold)
    existing = {(min(a, b), max(a, b)) for a, b in DuplicateCandidate.objects.values_list("child_a_id", "child_b_id")}
    new = [(a, b, s, r) for a, b, s, r in result.found if (a, b) not in existing]
    unit_of = dict(Child.objects.filter(pk__in={a for a, _b, _s, _r in new}).values_list("pk", "unit_id")) if len(
        new) < 50_000 else dict(Child.objects.values_list("pk", "unit_id"))
    DuplicateCandidate.objects.bulk_create(
        [DuplicateCandidate(child_a_id=a, child_b_id=b, score=s, reasons=r, source="scan", unit_id=unit_of[a])
         for a, b, s, r in new], batch_size=2000)
    audit_change(actor=actor, action="duplicates.scan", object_type="registry.duplicatecandidate",
                 unit=unit, changes={"threshold": threshold, "pairs_compared": result.pairs_compared,
                                     "found": len(result.found), "new": len(new),
                                     "seconds": round(result.seconds, 2)})
    return len(new)


# ---------------------------------------------------------------- at registration (selectors.candidates_for_new)

def rec_from_data(data: dict[str, Any], unit: Any, *, rec_id: int = 0) -> Rec:
    """A record about to be written (a form's or a file row's cleaned data) in the scorer's terms."""
    full_name = data.get("full_name") or " ".join(
        p for p in (data.get("family_name"), data.get("middle_name"), data.get("given_name")) if p)
    name_key = data.get("name_key") or fold(full_name)
    given_key = data.get("given_key") or (name_key.rsplit(" ", 1)[-1] if name_key else "")
    birth = data["birth_date"]
    if isinstance(birth, str):
        birth = dt.date.fromisoformat(birth)
    household_obj: Any = data.get("household")
    household = data.get("household_id") or getattr(household_obj, "pk", household_obj)
    guardians = tuple(fold(g.get("full_name", "")) for g in data.get("guardians") or () if g.get("full_name"))
    return Rec(id=rec_id, full_name=full_name, name_key=name_key, given_key=given_key, birth_date=birth,
               precision=data.get("birth_precision") or BirthPrecision.DAY, sex=data.get("sex") or "",
               personal_id=data.get("personal_id") or "", household_id=household,
               unit_id=getattr(unit, "pk", unit), guardians=guardians)
