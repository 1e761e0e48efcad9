"""The synthetic country for `make bench`: every province and commune of both versions, and children
generated the way the demo province's are (vitreem/registry/demo.py) — households, poverty per year,
special-circumstance episodes, risk assessments, guardians, residences across the 2025-07-01 reform.

`vitreem seed_demo --national [--children N]` (default 25,000,000 child records). PostgreSQL only:
rows are streamed commune by commune into COPY, a batch at a time (memory stays bounded whatever N),
with the secondary indexes and foreign keys of the registry tables dropped during the load and built
once at the end (core.bulk.pg_indexes_deferred). The administrative units come from the
`vietnamadminunits` package through places_load (63 legacy provinces, 10,035 legacy communes, 34
provinces and 3,321 communes of 2025, the crosswalk); what the package does not have — how many
children live where, who is poor — is generated here: commune sizes are drawn (urban wards and
townships larger, as in the demo), then scaled so that the country has exactly N child records.

The rates are the demo province's (Kon Tum 2022): about 1.3% of children in special circumstances
and 22% at risk at 31/12/2022; poor and near-poor households more frequent among ethnic minorities.
Not generated at this scale: cases, allowances, programme and activities (the demo province's other
parts), and planted duplicates beyond 0.5% of records. The last step writes one audit row
`demo.seed_national` with the counts: its presence marks a complete load (`national_complete`).
"""

from __future__ import annotations

import datetime as dt
import random
import time
from bisect import bisect
from collections import defaultdict
from dataclasses import dataclass, field
from itertools import accumulate

from django.db import connection, models, transaction

from vitreem.core.audit import audit_change
from vitreem.core.bulk import pg_indexes_deferred, reset_sequences
from vitreem.core.db import after_bulk_load
from vitreem.core.text import fold
from vitreem.places.models import REFORM_DATE, AdminUnit, Level, Population, UnitSuccession, Version
from vitreem.places.selectors import province_code_of
from vitreem.registry.codes import nurture_points
from vitreem.registry.demo import (
    DISABILITY_OF,
    ENDING_CODES,
    ETHNIC_MIX,
    GIVEN,
    KINH_FAMILY,
    MIDDLE,
    MINORITY_FAMILY,
    MINORITY_GIVEN,
    SPECIAL_MIX,
    VILLAGES,
    poverty_reviews_seed,
)
from vitreem.registry.models import (
    Child,
    ChildNameWord,
    ChildRisk,
    Ethnicity,
    Guardian,
    Household,
    HouseholdPoverty,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)

NATIONAL_CHILDREN = 25_000_000
FIRST_BIRTH = dt.date(2006, 1, 1)
HISTORY_END = dt.date(2025, 12, 31)  # same seed, same data on any day (as the demo province)
CENSUS_DAY = dt.date(2022, 12, 31)
YEARS = (2021, 2022, 2023, 2024, 2025)
BATCH_CHILDREN = 100_000  # rows are buffered this many children at a time, then COPYed
# Rates of the demo province at its census day (registry/demo.py: 2,580 and 44,350 of 200,000).
SPECIAL_RATE = 2_580 / 200_000
AT_RISK_RATE = 44_350 / 200_000
DUPLICATE_EVERY = 200  # one planted near-duplicate record per 200 (0.5%, as the demo province)
CHILD_SHARE = 0.3452
TABLES = (Household, HouseholdPoverty, Child, ChildNameWord, Residence, Guardian, SpecialEpisode, RiskAssessment,
          ChildRisk)
NULL = "\\N"

_DAY0 = FIRST_BIRTH.toordinal()
_LAST = dt.date(2026, 12, 31).toordinal() - _DAY0
_ISO = [dt.date.fromordinal(_DAY0 + i).isoformat() for i in range(_LAST + 1)]
REFORM = REFORM_DATE.toordinal() - _DAY0
END = HISTORY_END.toordinal() - _DAY0
CENSUS = CENSUS_DAY.toordinal() - _DAY0
SIXTEEN_AT_CENSUS = dt.date(2006, 12, 31).toordinal() - _DAY0  # born on or before: 16 or older on the census day


def _off(day: dt.date) -> int:
    return day.toordinal() - _DAY0


def _age_at_end(b: int) -> int:
    birth, end = dt.date.fromordinal(_DAY0 + b), HISTORY_END
    return end.year - birth.year - ((end.month, end.day) < (birth.month, birth.day))


_AGE_END = [_age_at_end(b) for b in range(END + 1)]
_YEAR = [int(iso[:4]) for iso in _ISO]
D2012, D2015, D2019, D2023, D2023_03, D2023_06 = (_off(dt.date(*ymd)) for ymd in (
    (2012, 1, 1), (2015, 1, 1), (2019, 1, 1), (2023, 1, 1), (2023, 3, 1), (2023, 6, 1)))
KIDS = {True: [1] * 38 + [2] * 36 + [3] * 16 + [4] * 7 + [5] * 3, False: [1] * 25 + [2] * 32 + [3] * 23 + [4] * 13 + [5] * 7}


@dataclass
class NationalReport:
    children: int = 0
    households: int = 0
    residences: int = 0
    poverty_rows: int = 0
    episodes: int = 0
    assessments: int = 0
    risks: int = 0
    duplicates: int = 0
    under16_2022: int = 0
    provinces: int = 0
    communes_legacy: int = 0
    communes_2025: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def lines(self) -> str:
        times = ", ".join(f"{k} {v:.0f} s" for k, v in self.seconds.items())
        return (f"{self.children:,} children ({self.under16_2022:,} under 16 on 31/12/2022, {self.duplicates:,} "
                f"planted duplicates) in {self.provinces} provinces and {self.communes_2025:,} communes of 2025 "
                f"({self.communes_legacy:,} legacy communes); {self.households:,} households, "
                f"{self.poverty_rows:,} poverty rows, {self.residences:,} residences, {self.episodes:,} "
                f"special-circumstance episodes, {self.assessments:,} risk assessments ({self.risks:,} factors); "
                f"{times}")


def national_complete() -> dict | None:
    """The counts of the last complete national load, or None (an interrupted load writes no marker)."""
    from vitreem.core.models import AuditEntry

    entry = AuditEntry.objects.filter(action="demo.seed_national").order_by("-id").first()
    return entry.changes if entry else None


class _Sink:
    """Buffers COPY text per table and sends it a batch at a time (one transaction per batch)."""

    COLUMNS: dict[type[models.Model], list[str]] = {
        Household: ["id", "unit_id", "village", "head_name", "head_key", "address", "created_at", "province_code"],
        HouseholdPoverty: ["household_id", "year", "status", "decision_number", "decision_date", "province_code"],
        Child: ["id", "family_name", "middle_name", "given_name", "full_name", "name_key", "given_key", "birth_date",
                "birth_precision", "sex", "ethnicity_id", "personal_id", "personal_id_mismatch", "birth_registered",
                "household_id", "unit_id", "village", "schooling", "school_level", "disability", "note", "ended_on",
                "end_reason", "source", "version", "created_at", "updated_at", "province_code"],
        Residence: ["child_id", "unit_id", "start", "end", "province_code"],
        Guardian: ["child_id", "full_name", "name_key", "relationship", "phone", "is_primary", "province_code"],
        SpecialEpisode: ["child_id", "group_id", "subgroup_id", "start", "end", "evidence", "nurture_case", "created_at",
                         "province_code"],
        RiskAssessment: ["id", "child_id", "assessed_on", "note", "created_at", "province_code"],
        ChildRisk: ["child_id", "factor_id", "start", "end", "assessment_id", "province_code"],
    }

    def __init__(self) -> None:
        self.buffers: dict[type[models.Model], list[str]] = {model: [] for model in TABLES}

    def flush(self) -> None:
        with transaction.atomic(), connection.cursor() as cur:
            for model, lines in self.buffers.items():
                if not lines:
                    continue
                cols = ", ".join(connection.ops.quote_name(c) for c in self.COLUMNS[model])
                with cur.cursor.copy(f"COPY {model._meta.db_table} ({cols}) FROM STDIN") as copy:
                    copy.write("".join(lines))
                lines.clear()


def _cumulative(pairs) -> tuple[list, list[float]]:
    values, weights = zip(*pairs, strict=True)
    return list(values), list(accumulate(weights))


class _Generator:  # noqa: PLR0902 — the generator's state, read in one place
    def __init__(self, rng: random.Random, report: NationalReport) -> None:
        self.rng = rng
        self.r = rng.random  # the hot path draws with random() only: choice/randint cost ten times more
        self.report = report
        self.sink = _Sink()
        self.now = dt.datetime.now(dt.UTC).isoformat()
        self.folds: dict[str, str] = {}
        self.kinh_family = _cumulative(KINH_FAMILY)
        self.ethnic = _cumulative(ETHNIC_MIX)
        self.ethnic_ids = dict(Ethnicity.objects.values_list("code", "pk"))
        groups = {g.code: g for g in SpecialGroup.objects.all()}
        self.special = [(groups[code].parent_id or groups[code].pk,
                         groups[code].pk if groups[code].parent_id else None, code) for code, _ in SPECIAL_MIX]
        self.nurture = {code: nurture_points(code)[0] for code, _ in SPECIAL_MIX}
        self.special_cum = list(accumulate(share for _, share in SPECIAL_MIX))
        self.factors = list(RiskFactor.objects.filter(active=True).values_list("pk", flat=True))
        self.next_hh = self.next_child = self.next_assessment = 1
        self.serials: dict[tuple[str, int, str], int] = defaultdict(int)
        self.originals = 0
        self.pc = ""
        # (legacy commune, 2025 commune) → children under 16 on the census day (for Population)
        self.under16: dict[tuple[int, int | None], int] = defaultdict(int)

    def fold(self, text: str) -> str:
        out = self.folds.get(text)
        if out is None:
            out = self.folds[text] = fold(text)
        return out

    def pick(self, cum) -> str:
        values, weights = cum
        return values[bisect(weights, self.r() * weights[-1])]

    def one(self, items):
        return items[int(self.r() * len(items))]

    def between(self, low: int, high: int) -> int:
        """A random integer in [low, high], as randint."""
        return low + int(self.r() * (high - low + 1))

    def name(self, family: str, sex: str, kinh: bool) -> tuple[str, str, str]:
        r, one = self.r, self.one
        if kinh:
            return family, one(MIDDLE[sex]), one(GIVEN[sex])
        if r() < 0.45:
            return ("A" if sex == "M" else "Y"), "", one(MINORITY_GIVEN[sex])
        middle = "" if r() < 0.4 else ("Văn" if sex == "M" else "Thị")
        return family, middle, one(MINORITY_GIVEN[sex])

    # ---- one commune
    def commune(self, legacy_id: int, successors: list[tuple[int, bool]], province: str, n: int, minority: float,
                poor_rate: float) -> None:
        r, one, between, made = self.r, self.one, self.between, 0
        self.pc = province_code_of(legacy_id)  # the 2025 province: every row of these children carries it
        default = next((new for new, is_default in successors if is_default), None)
        others = [new for new, is_default in successors if not is_default]
        while made < n:
            # A commune split in 2025: most households go to the default successor, the others to the rest.
            new_id = one(others) if others and r() < 0.4 else default
            kinh = r() >= minority
            family = self.pick(self.kinh_family) if kinh else one(MINORITY_FAMILY)
            head = " ".join(p for p in self.name(family, "M" if r() < 0.8 else "F", kinh) if p)
            eth = "01" if kinh else self.pick(self.ethnic)
            village = one(VILLAGES)
            # Siblings born a few years apart; minorities have larger families (the demo's weights).
            n_kids = one(KIDS[kinh])
            births = [between(0, END)]
            for _ in range(n_kids - 1):
                nxt = births[-1] + between(400, 1800)
                if nxt > END:
                    nxt = births[0] - between(400, 1800)
                    if nxt < 0:
                        break
                births.append(nxt)
            births = births[: n - made]
            made += len(births)
            hh = self.next_hh
            self.next_hh += 1
            self.household(hh, legacy_id, new_id, village, head, kinh, poor_rate)
            for b in births:
                self.child(hh, legacy_id, new_id, province, village, head, family, eth, kinh, b)

    def household(self, hh: int, legacy_id: int, new_id: int | None, village: str, head: str, kinh: bool,
                  poor_rate: float) -> None:
        r, between, rep = self.r, self.between, self.report
        self.sink.buffers[Household].append(
            f"{hh}\t{new_id or legacy_id}\t{village}\t{head}\t{self.fold(head)}\t\t{self.now}\t{self.pc}\n")
        rep.households += 1
        # The 2022 status, then the years around it as the demo province's: more poor before, fewer after.
        rate = poor_rate if not kinh else poor_rate / 3
        x = r()
        status = "poor" if x < rate else "near_poor" if x < rate * 2.6 else ""
        lines = self.sink.buffers[HouseholdPoverty]
        for year in YEARS:
            st = status
            if year < 2022 and not st and r() < rate * 0.08 * (2022 - year):
                st = "poor"
            elif year > 2022 and st == "poor" and r() < 0.08 * (year - 2022):
                st = "near_poor" if r() < 0.6 else ""
            if st:
                lines.append(f"{hh}\t{year}\t{st}\t{between(10, 999)}/QĐ-UBND\t{year - 1}-12-{between(10, 28)}\t{self.pc}\n")
                rep.poverty_rows += 1

    def child(self, hh: int | None, legacy_id: int, new_id: int | None, province: str, village: str, head: str,  # noqa: C901, PLR0912, PLR0913, PLR0915
              family: str, eth: str, kinh: bool, b: int, *, duplicate_of: int | None = None) -> None:
        r, between, rep, buf = self.r, self.between, self.report, self.sink.buffers
        cid = self.next_child
        self.next_child += 1
        rep.children += 1
        sex = "M" if r() < 0.512 else "F"
        precision = "day"
        x = r()
        if x < 0.05:
            day = dt.date.fromordinal(_DAY0 + b)
            precision = "month" if x < 0.03 else "year"
            b = _off(day.replace(day=1) if precision == "month" else day.replace(day=1, month=1))
        fam, mid, given = self.name(family, sex, kinh)
        if duplicate_of is not None and r() < 0.5:
            given = given[:-1] if len(given) > 2 else given + given[-1]
        full = " ".join(p for p in (fam, mid, given) if p)
        ended, reason = NULL, ""
        end_off = None
        x = r()
        if x < 0.0065 and duplicate_of is None:  # deaths and moves out: records end, never deleted
            end_off = between(b, END)
            ended, reason = _ISO[end_off], "died" if x < 0.0015 else "left"
        age = _AGE_END[b]
        schooling, level = "not_school_age", ""
        if age >= 3:
            schooling = "in_school"
            level = ("preschool" if age < 6 else "primary" if age < 11
                     else "lower_secondary" if age < 15 else "upper_secondary")
            if age >= 11 and r() < (0.06 if kinh else 0.12):
                schooling, level = "dropped_out", ""
        pid = ""
        if r() >= (0.12 if kinh else 0.28) + (0.08 if b < D2012 else 0):
            year = _YEAR[b]
            key = (province, year, sex)
            self.serials[key] += between(1, 7)
            pid = f"0{province}{2 if sex == 'M' else 3}{year % 100:02d}{self.serials[key] % 1_000_000:06d}"
        moved = end_off is None or end_off >= REFORM
        unit = new_id if new_id and moved else legacy_id
        source = f"demo-dup:{duplicate_of}" if duplicate_of is not None else "demo"
        buf[Child].append(
            f"{cid}\t{fam}\t{mid}\t{given}\t{full}\t{self.fold(full)}\t{self.fold(given)}\t{_ISO[b]}\t{precision}\t"
            f"{sex}\t{self.ethnic_ids.get(eth, NULL)}\t{pid}\tf\t{'t' if r() > 0.02 else 'f'}\t"
            f"{hh if hh is not None else NULL}\t{unit}\t{village}\t{schooling}\t{level}\tnone\t\t{ended}\t{reason}\t"
            f"{source}\t1\t{self.now}\t{self.now}\t{self.pc}\n")
        # Residences: the legacy commune until 2025-06-30, its successor (the default one, or another of a split) from 2025-07-01.
        res = buf[Residence]
        if new_id and moved and b < REFORM:
            res.append(f"{cid}\t{legacy_id}\t{_ISO[b]}\t{_ISO[REFORM - 1]}\t{self.pc}\n")
            res.append(f"{cid}\t{new_id}\t{_ISO[REFORM]}\t{ended}\t{self.pc}\n")
            rep.residences += 2
        else:
            res.append(f"{cid}\t{new_id if b >= REFORM and new_id else legacy_id}\t{_ISO[b]}\t{ended}\t{self.pc}\n")
            rep.residences += 1
        buf[Guardian].append(f"{cid}\t{head}\t{self.fold(head)}\t{'father' if hh is not None else 'mother'}\t\tt\t{self.pc}\n")
        if duplicate_of is not None:
            rep.duplicates += 1
            return
        counted = SIXTEEN_AT_CENSUS < b <= CENSUS and (end_off is None or end_off > CENSUS)
        if counted:
            self.under16[(legacy_id, new_id)] += 1
        # Special circumstances and risk, at the demo province's rates among children counted on the census day.
        x = r()
        if counted and x < SPECIAL_RATE:
            group, subgroup, code = self.special[bisect(self.special_cum, r() * self.special_cum[-1])]
            start = between(max(b, D2015), CENSUS)
            if code in ("4.1", "4.2", "4.3", "5", "1", "2"):
                start = max(b, start - between(0, 2000))
            end = NULL
            if code in ENDING_CODES and r() < 0.5:
                end = _ISO[between(D2023_03, END - 1)]
            buf[SpecialEpisode].append(f"{cid}\t{group}\t{subgroup or NULL}\t{_ISO[start]}\t{end}\t"
                                       f"Biên bản xác minh của UBND xã\t{self.nurture[code]}\t{self.now}\t{self.pc}\n")
            rep.episodes += 1
            if code in DISABILITY_OF:  # the record says so too (last column written above: rewrite it)
                buf[Child][-1] = buf[Child][-1].replace("\tnone\t", f"\t{DISABILITY_OF[code]}\t", 1)
        elif counted and x < SPECIAL_RATE + AT_RISK_RATE:
            when = between(max(b, D2019), CENSUS)
            end = _ISO[between(D2023_06, END)] if r() < 0.25 else NULL
            self.assessment(cid, when, self.rng.sample(self.factors, self.one((1, 1, 1, 2, 2, 3))), end)
        elif x > 0.975 and b < END:  # assessed after the census day (so years differ)
            self.assessment(cid, between(max(b, D2023), END), [self.one(self.factors)], NULL)
        self.originals += 1
        if self.originals % DUPLICATE_EVERY == 0:  # a near-duplicate record (no household), as the demo plants
            self.child(None, legacy_id, new_id, province, village, head, family, eth, kinh, b, duplicate_of=cid)

    def assessment(self, cid: int, when: int, factors: list[int], end: str) -> None:
        aid = self.next_assessment
        self.next_assessment += 1
        self.sink.buffers[RiskAssessment].append(f"{aid}\t{cid}\t{_ISO[when]}\t\t{self.now}\t{self.pc}\n")
        self.report.assessments += 1
        for f in factors:
            self.sink.buffers[ChildRisk].append(f"{cid}\t{f}\t{_ISO[when]}\t{end}\t{aid}\t{self.pc}\n")
            self.report.risks += 1


def _sizes(total: int, weights: dict[int, float]) -> dict[int, int]:
    """Largest remainder: commune sizes that add up to exactly `total`."""
    whole = sum(weights.values())
    raw = {k: total * w / whole for k, w in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[: total - sum(out.values())]:
        out[k] += 1
    return out


def national_seed(*, children: int = NATIONAL_CHILDREN, seed: int = 2022, log=print) -> NationalReport:
    """Generate the country (see the module's docstring). Refuses a database that already has children."""
    if connection.vendor != "postgresql":
        raise ValueError("seed_demo --national cần PostgreSQL (COPY); SQLite không dùng cho quốc gia tổng hợp.")
    if Child.objects.exists():
        raise ValueError("Cơ sở dữ liệu đã có trẻ em: seed_demo --national chỉ chạy trên cơ sở dữ liệu trống.")
    if children < 1:
        raise ValueError("--children phải lớn hơn 0.")
    report = NationalReport()
    started = time.perf_counter()
    rng = random.Random(f"{seed}:national")
    communes = list(AdminUnit.objects.filter(version=Version.LEGACY, level=Level.COMMUNE)
                    .only("id", "unit_type", "province_code").order_by("province_code", "code"))
    successors: dict[int, list[tuple[int, bool]]] = defaultdict(list)
    for old_id, new_id, is_default in UnitSuccession.objects.filter(
            old__version=Version.LEGACY, old__level=Level.COMMUNE).values_list("old_id", "new_id", "is_default"):
        successors[old_id].append((new_id, is_default))
    report.provinces = AdminUnit.objects.filter(version=Version.V2025, level=Level.PROVINCE).count()
    report.communes_2025 = AdminUnit.objects.filter(version=Version.V2025, level=Level.COMMUNE).count()
    report.communes_legacy = len(communes)
    # Sizes: urban wards and townships bigger, as in the demo province; minorities and poverty vary by province.
    weights = {c.pk: rng.uniform(2.0, 3.5) if c.unit_type in ("Phường", "Thị trấn") else rng.uniform(0.6, 1.6)
               for c in communes}
    originals = children - children // (DUPLICATE_EVERY + 1)
    while originals + originals // DUPLICATE_EVERY > children:  # exactly `children` records with the duplicates
        originals -= 1
    while originals + originals // DUPLICATE_EVERY < children:
        originals += 1
    sizes = _sizes(originals, weights)
    provinces = sorted({c.province_code for c in communes})
    minority_of = {p: rng.choice((0.02, 0.05, 0.1, 0.2, 0.4, 0.6)) for p in provinces}
    poor_of = {p: rng.uniform(0.1, 0.35) for p in provinces}

    gen = _Generator(rng, report)
    with pg_indexes_deferred(*TABLES):
        pending = 0
        for c in communes:
            urban = c.unit_type in ("Phường", "Thị trấn")
            minority = minority_of[c.province_code] * (0.5 if urban else 1.2)
            before = report.children
            gen.commune(c.pk, successors.get(c.pk, []), c.province_code, sizes[c.pk], min(minority, 0.95),
                        poor_of[c.province_code])
            pending += report.children - before
            if pending >= BATCH_CHILDREN:
                gen.sink.flush()
                pending = 0
                rate = report.children / (time.perf_counter() - started)
                log(f"  {report.children:,} children ({rate:,.0f}/s)")
        gen.sink.flush()
        report.seconds["copy"] = time.perf_counter() - started
        mark = time.perf_counter()
    report.seconds["indexes"] = time.perf_counter() - mark
    report.under16_2022 = sum(gen.under16.values())
    with transaction.atomic():
        reset_sequences(*TABLES)
        poverty_reviews_seed(YEARS, rng)
        _population(gen.under16)
        audit_change(actor=None, action="demo.seed_national", object_type="registry.child", source="demo",
                     changes={"children": report.children, "requested": children, "seed": seed,
                              "households": report.households, "residences": report.residences,
                              "under16_2022": report.under16_2022, "provinces": report.provinces,
                              "communes_2025": report.communes_2025})
    mark = time.perf_counter()
    after_bulk_load()
    report.seconds["analyze"] = time.perf_counter() - mark
    report.seconds["total"] = time.perf_counter() - started
    return report


def _population(under16: dict[tuple[int, int | None], int]) -> None:
    """Population per commune and year: children under 16 are CHILD_SHARE of it in 2022 (+1.4% a year);
    legacy communes before 2025, the 2025 communes their households went to from 2025."""
    rows = []
    for year in (*YEARS, 2026):
        by_unit: dict[int, int] = defaultdict(int)
        for (legacy_id, new_id), n in under16.items():
            target = (new_id or legacy_id) if year >= REFORM_DATE.year else legacy_id
            by_unit[target] += round(n / CHILD_SHARE * 1.014 ** (year - 2022))
        rows += [Population(unit_id=u, year=year, total=n) for u, n in by_unit.items()]
    Population.objects.filter(year__in={r.year for r in rows}).delete()
    Population.objects.bulk_create(rows, batch_size=5000)
