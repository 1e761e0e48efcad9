"""Duplicate detection and merge: the same child registered twice.

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

import contextlib
import datetime as dt
import logging
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rapidfuzz import fuzz
from rapidfuzz.distance import OSA, JaroWinkler

from vitreem.core.audit import audit_change
from vitreem.core.errors import Conflict, DomainError, NotFound
from vitreem.core.scope import require_unit, scope_filter
from vitreem.core.text import fold
from vitreem.places.models import AdminUnit, Version

from .models import (
    BirthPrecision,
    Child,
    DuplicateCandidate,
    DuplicateDecision,
    EndReason,
    Guardian,
    Residence,
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


# ---------------------------------------------------------------- at registration

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


def _freq_around(pool: models.QuerySet[Child], new: Rec, recs: list[Rec]) -> Freq:
    """The name frequencies the scan would use, for the names in play only (two grouped queries)."""
    names = {new.name_key, *(r.name_key for r in recs)}
    given = {new.given_key, *(r.given_key for r in recs)}
    in_unit: dict[tuple[str, int | None], int] = {}
    totals: dict[str, int] = defaultdict(int)
    rows = pool.filter(name_key__in=names).values_list("name_key", "unit_id").annotate(n=models.Count("pk"))
    for name_key, unit_id, n in rows:
        in_unit[(name_key, unit_id)] = n
        totals[name_key] += n
    given_counts = dict(pool.filter(given_key__in=given).values_list("given_key").annotate(n=models.Count("pk")))
    return Freq(dict(totals), in_unit, given_counts)


def candidates_for_new(data: dict[str, Any], *, unit, user=None, limit: int = 5,
                       threshold: float = NEW_THRESHOLD) -> list[dict[str, Any]]:
    """Existing active children that may be the one described by `data` (cleaned registration data:
    full_name/name_key/given_key, birth_date, birth_precision, sex, personal_id; optionally
    household_id and guardians), within the user's scope (everything when `user` is None, for
    system jobs). Each: id, full_name, birth_date, unit, score (0–1), reasons (texts), best first."""
    if not data.get("birth_date") and not data.get("personal_id"):
        return []
    pool = Child.objects.filter(ended_on__isnull=True)
    if user is not None:
        pool = scope_filter(pool, user)
    q = Q()
    if data.get("personal_id"):
        q |= Q(personal_id=data["personal_id"])
    new: Rec | None = None
    if data.get("birth_date"):
        new = rec_from_data(data, unit)
        born, year = new.birth_date, new.birth_date.year
        years = (year - 1, year + 1)
        q |= Q(given_key=new.given_key, birth_date__year__gte=years[0], birth_date__year__lte=years[1])
        q |= Q(name_key=new.name_key)
        if new.unit_id is not None:
            dates = {born}
            for y in (year - 1, year, year + 1):
                for day, month in ((born.day, born.month), (born.month, born.day)):
                    with contextlib.suppress(ValueError):  # 30 February and the like
                        dates.add(dt.date(y, month, day))
            q |= Q(unit_id=new.unit_id, birth_date__in=sorted(dates))
    recs = _recs(pool.filter(q)[:500])
    if not recs:
        return []
    if new is None:  # an ID alone: the same ID is enough
        new = Rec(0, "", "", "", recs[0].birth_date, BirthPrecision.YEAR, "", data["personal_id"], None, None)
    by_id = {r.id: r for r in recs}
    _attach_guardians(by_id, by_id)
    freq = _freq_around(pool, new, recs)
    scored = []
    for rec in recs:
        score, reasons = pair_score(new, rec, freq)
        if score >= threshold:
            scored.append((score, rec.id, reasons))
    scored.sort(key=lambda row: (-row[0], row[1]))
    scored = scored[:limit]
    children = Child.objects.select_related("unit").in_bulk([pk for _s, pk, _r in scored])
    return [{"id": pk, "full_name": children[pk].full_name, "birth_date": children[pk].birth_date.isoformat(),
             "unit": children[pk].unit.name, "score": round(score, 2), "reasons": reasons_text(reasons)}
            for score, pk, reasons in scored]


# ---------------------------------------------------------------- decisions: merge, distinct

def _today() -> dt.date:
    return timezone.localdate()


def _ordered(a: Child, b: Child) -> tuple[Child, Child]:
    return (a, b) if a.pk < b.pk else (b, a)


def _current_provinces(unit: AdminUnit) -> set[str]:
    """The province code(s) a unit belongs to today: a legacy unit's through its 2025 successors."""
    if unit.version == Version.V2025:
        return {unit.province_code}
    from vitreem.places.selectors import unit_current

    return {u.province_code for u in unit_current(unit)} or {unit.province_code}


def _check_pair(actor, a: Child, b: Child) -> None:
    if a.pk == b.pk:
        raise DomainError(_("Không thể gộp hoặc so sánh một hồ sơ với chính nó."), field="survivor", code="same_record")
    for child in (a, b):
        # Out of scope looks like "not found": we do not reveal that the record exists.
        try:
            require_unit(actor, child.unit)
        except DomainError as exc:
            if exc.code == "out_of_scope":
                raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None
            raise
    for child in (a, b):
        if child.ended_on is not None or child.merged_into_id is not None:
            raise Conflict(_("Hồ sơ %(name)s (mã %(id)s) đã kết thúc (%(reason)s), không xử lý được nữa.")
                           % {"name": child.full_name, "id": child.pk,
                              "reason": child.get_end_reason_display() or "—"}, field="survivor",
                           code="record_ended")


def _decided(a: Child, b: Child) -> DuplicateDecision | None:
    lo, hi = _ordered(a, b)
    return DuplicateDecision.objects.filter(Q(child_a=lo, child_b=hi) | Q(child_a=hi, child_b=lo)).first()


def _candidate(a: Child, b: Child) -> DuplicateCandidate | None:
    lo, hi = _ordered(a, b)
    return DuplicateCandidate.objects.filter(Q(child_a=lo, child_b=hi) | Q(child_a=hi, child_b=lo)).first()


def _lock(*children: Child) -> list[Child]:
    locked = Child.objects.select_for_update().select_related("unit").in_bulk([c.pk for c in children])
    missing = [c.pk for c in children if c.pk not in locked]
    if missing:
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem."))
    return [locked[c.pk] for c in children]


@transaction.atomic
def duplicate_mark_distinct(*, actor, child_a: Child, child_b: Child, reason: str = "") -> DuplicateDecision:
    """The two records are different children: the pair is never proposed again."""
    a, b = _lock(*_ordered(child_a, child_b))
    _check_pair(actor, a, b)
    if _decided(a, b) is not None:
        raise Conflict(_("Cặp hồ sơ này đã được xử lý."), code="already_decided")
    decision = DuplicateDecision.objects.create(child_a=a, child_b=b, verdict=DuplicateDecision.Verdict.DISTINCT,
                                                decided_by=actor, reason=reason[:255])
    DuplicateCandidate.objects.filter(Q(child_a=a, child_b=b) | Q(child_a=b, child_b=a)).update(
        status=DuplicateCandidate.Status.DISTINCT)
    for child, other in ((a, b), (b, a)):
        audit_change(actor=actor, action="child.duplicate_distinct", obj=child, unit=child.unit,
                     changes={"other": other.pk, "reason": reason})
    return decision


def _related_fields() -> list[models.ForeignObjectRel]:
    """Every relation of another model to Child, except the duplicate bookkeeping and merged_into."""
    skip = {DuplicateCandidate, DuplicateDecision, Child}
    return [rel for rel in Child._meta.related_objects if rel.related_model not in skip]


def _overlaps(start: dt.date, end: dt.date | None, others: list[tuple[dt.date, dt.date | None]]) -> bool:
    far = dt.date.max
    return any(start <= (o_end or far) and o_start <= (end or far) for o_start, o_end in others)


@transaction.atomic
def child_merge(*, actor, survivor: Child, merged: Child, reason: str = "") -> Child:
    """Merge the record `merged` into `survivor`: everything that points at `merged` (guardians,
    episodes, risk assessments, residences, rows of other apps) moves to the survivor; `merged`
    ends (end_reason "merged") and keeps a pointer to the survivor. Audited on both records.

    Kept on the merged record, so nothing is lost or doubled: guardians whose name and relationship
    the survivor already has, and residences overlapping the survivor's own (two places at once)."""
    survivor, merged = _lock(survivor, merged)
    _check_pair(actor, survivor, merged)
    if _current_provinces(survivor.unit).isdisjoint(_current_provinces(merged.unit)):
        raise DomainError(_("Không thể gộp hai hồ sơ thuộc hai tỉnh khác nhau (%(a)s và %(b)s).")
                          % {"a": survivor.unit.name, "b": merged.unit.name}, field="survivor",
                          code="other_province")
    decision = _decided(survivor, merged)
    if decision is not None:
        raise Conflict(_("Cặp hồ sơ này đã được đánh dấu là %(v)s.") % {"v": decision.get_verdict_display()},
                       code="already_decided")
    moved: dict[str, int] = {}

    have = set(survivor.guardians.values_list("name_key", "relationship"))
    dup_guardians = [g.pk for g in merged.guardians.all() if (g.name_key, g.relationship) in have]
    moved["registry.guardian"] = merged.guardians.exclude(pk__in=dup_guardians).update(child=survivor)

    spans = list(survivor.residences.values_list("start", "end"))
    movable = [r.pk for r in merged.residences.all() if not _overlaps(r.start, r.end, spans)]
    moved["registry.residence"] = Residence.objects.filter(pk__in=movable).update(child=survivor)
    merged.residences.filter(end__isnull=True).update(end=_today())

    for rel in _related_fields():
        model: Any = rel.related_model
        field = rel.field
        label = model._meta.label_lower
        if model in (Guardian, Residence):
            continue
        try:
            with transaction.atomic():
                if rel.many_to_many:
                    owners = list(model.objects.filter(**{field.name: merged}))
                    for obj in owners:
                        manager = getattr(obj, field.name)
                        manager.remove(merged)
                        manager.add(survivor)
                    count = len(owners)
                elif rel.one_to_one and model.objects.filter(**{field.name: survivor}).exists():
                    continue  # the survivor has its own; the merged record keeps its one
                else:
                    count = model.objects.filter(**{field.name: merged}).update(**{field.name: survivor})
        except IntegrityError:
            raise Conflict(_("Không gộp được: dữ liệu \"%(what)s\" của hai hồ sơ trùng nhau; hãy xử lý phần đó trước.")
                           % {"what": model._meta.verbose_name}, code="merge_conflict") from None
        if count:
            moved[label] = moved.get(label, 0) + count

    today = _today()
    merged.ended_on, merged.end_reason, merged.merged_into = today, EndReason.MERGED, survivor
    merged.version += 1
    merged.save(update_fields=["ended_on", "end_reason", "merged_into", "version", "updated_at"])
    survivor.version += 1
    survivor.save(update_fields=["version", "updated_at"])

    lo, hi = _ordered(survivor, merged)
    DuplicateDecision.objects.create(child_a=lo, child_b=hi, verdict=DuplicateDecision.Verdict.MERGED,
                                     decided_by=actor, reason=reason[:255])
    candidate = _candidate(survivor, merged)
    if candidate is not None:
        candidate.status = DuplicateCandidate.Status.MERGED
        candidate.save(update_fields=["status"])
    _repoint_open_candidates(merged, survivor)

    moved = {k: v for k, v in moved.items() if v}
    audit_change(actor=actor, action="child.merge", obj=survivor, unit=survivor.unit,
                 changes={"merged": merged.pk, "moved": moved, "reason": reason})
    audit_change(actor=actor, action="child.merged_into", obj=merged, unit=merged.unit,
                 changes={"merged_into": survivor.pk, "ended_on": today, "end_reason": EndReason.MERGED,
                          "moved": moved, "reason": reason})
    return survivor


def _repoint_open_candidates(merged: Child, survivor: Child) -> None:
    """Open candidates of the merged record become candidates of the survivor (a triplicate stays
    in the queue), unless that pair is already queued or decided."""
    stale = list(DuplicateCandidate.objects.filter(Q(child_a=merged) | Q(child_b=merged),
                                                   status=DuplicateCandidate.Status.OPEN))
    if not stale:
        return
    queued = {(min(a, b), max(a, b)) for a, b in DuplicateCandidate.objects.filter(
        Q(child_a=survivor) | Q(child_b=survivor)).values_list("child_a_id", "child_b_id")}
    decided = _decided_pairs()
    for cand in stale:
        other = cand.child_b_id if cand.child_a_id == merged.pk else cand.child_a_id
        pair = (min(other, survivor.pk), max(other, survivor.pk))
        cand.delete()
        if other != survivor.pk and pair not in queued and pair not in decided:
            queued.add(pair)
            unit_id = survivor.unit_id if pair[0] == survivor.pk else Child.objects.values_list(
                "unit_id", flat=True).get(pk=other)
            DuplicateCandidate.objects.create(child_a_id=pair[0], child_b_id=pair[1], score=cand.score,
                                              reasons=cand.reasons, source=cand.source or "merge",
                                              unit_id=unit_id)


# ---------------------------------------------------------------- reads for the review queue

def duplicate_candidates_for_user(*, user, status: str = DuplicateCandidate.Status.OPEN) -> models.QuerySet:
    """Candidates whose two records the user may both see (a commune worker never sees a child of
    another commune through the queue); open ones only list pairs of two active records."""
    qs = DuplicateCandidate.objects.filter(status=status)
    qs = scope_filter(scope_filter(qs, user, unit_field="child_a__unit"), user, unit_field="child_b__unit")
    if status == DuplicateCandidate.Status.OPEN:
        qs = qs.filter(child_a__ended_on__isnull=True, child_b__ended_on__isnull=True)
    return qs.select_related("child_a__unit", "child_b__unit", "child_a__household", "child_b__household",
                             "child_a__ethnicity", "child_b__ethnicity").order_by("-score", "pk")


def duplicate_candidate_get_for_user(*, user, candidate_id: int) -> DuplicateCandidate:
    try:
        return duplicate_candidates_for_user(user=user, status=DuplicateCandidate.Status.OPEN).get(pk=candidate_id)
    except (DuplicateCandidate.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy hoặc bạn không có quyền xem.")) from None
