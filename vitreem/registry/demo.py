"""The demo province's register: a synthetic Kon Tum (legacy code 62) whose 2022 figures, as of
31/12/2022, are those the provincial committee stated in February 2023:

- more than 200,000 children under 16, nearly 35% of the population (34.0–34.9%);
- exactly 27,678 children in poor and 46,177 in near-poor households;
- more than 2,500 children in special circumstances and more than 44,000 at risk.

Every figure scales with --children (the default 200,000 is the number of children under 16 on
31/12/2022, before a small margin that keeps "more than"). Children are born 2006–2025 so every
year 2021–2025 has its under-16 population; on 2025-07-01 residences move to the 2025 unit (the
default successor of the crosswalk), as residences_apply_reform does. Planted near-duplicate records
carry source="demo-dup:<original id>" so duplicate detection can be measured against the truth.

Rows are written with core.bulk (COPY / executemany): one summary audit row records the seeding.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

from django.db import connection
from django.utils import timezone

from vitreem.core.audit import audit_change
from vitreem.core.bulk import indexes_deferred, insert_rows, next_ids, reset_sequences
from vitreem.core.text import fold
from vitreem.places.models import REFORM_DATE, AdminUnit, Level, Population, UnitSuccession
from vitreem.places.selectors import province_code_of
from vitreem.registry.codes import nurture_points

from .models import (
    Child,
    ChildRisk,
    Ethnicity,
    Guardian,
    Household,
    HouseholdPoverty,
    PovertyReview,
    Residence,
    RiskAssessment,
    RiskFactor,
    SpecialEpisode,
    SpecialGroup,
)
from .selectors import residences_overlapping

CENSUS_DAY = dt.date(2022, 12, 31)
# The synthetic history ends here, so the same seed gives the same data on any day.
HISTORY_END = dt.date(2025, 12, 31)
FIRST_BIRTH = dt.date(2006, 1, 1)
# Exact 2022 figures of the committee's report (Kon Tum, February 2023).
POOR_CHILDREN = 27_678
NEAR_POOR_CHILDREN = 46_177
SPECIAL_TARGET = 2_580  # "over 2,500"
AT_RISK_TARGET = 44_350  # "over 44,000"
CHILDREN_MARGIN = 1.0065  # "over 200,000"
CHILD_SHARE = 0.3452  # "nearly 35%"
DUPLICATE_SHARE = 0.005

# Surnames of the Kinh majority, roughly by frequency.
KINH_FAMILY = [("Nguyễn", 38), ("Trần", 11), ("Lê", 9), ("Phạm", 7), ("Hoàng", 4), ("Huỳnh", 2), ("Phan", 4),
               ("Vũ", 3), ("Võ", 3), ("Đặng", 2), ("Bùi", 2), ("Đỗ", 2), ("Hồ", 1), ("Ngô", 1), ("Dương", 1),
               ("Lý", 1), ("Đinh", 1), ("Trương", 1)]
MIDDLE = {"M": ["Văn", "Đức", "Minh", "Quang", "Hữu", "Công", "Thành", "Gia", "Anh", "Hoàng", "Xuân", "Trọng"],
          "F": ["Thị", "Ngọc", "Thu", "Thanh", "Kim", "Hồng", "Mai", "Phương", "Bảo", "Khánh", "Thùy", "Diệu"]}
GIVEN = {
    "M": ["An", "Bình", "Cường", "Dũng", "Đức", "Hải", "Hiếu", "Hoàng", "Hùng", "Huy", "Khang", "Khánh", "Kiên",
          "Lâm", "Long", "Minh", "Nam", "Nghĩa", "Phong", "Phúc", "Quân", "Quang", "Sơn", "Tài", "Thắng", "Thành",
          "Thiện", "Tiến", "Toàn", "Trung", "Tuấn", "Tùng", "Việt", "Vinh", "Vũ", "Bảo", "Đạt", "Duy", "Lộc", "Thịnh"],
    "F": ["An", "Anh", "Chi", "Diệp", "Dung", "Giang", "Hà", "Hân", "Hằng", "Hạnh", "Hiền", "Hoa", "Hương", "Huyền",
          "Lan", "Linh", "Loan", "Mai", "My", "Ngân", "Ngọc", "Nhi", "Nhung", "Oanh", "Phương", "Quỳnh", "Thảo",
          "Thu", "Thủy", "Trang", "Trâm", "Uyên", "Vân", "Vy", "Yến", "Xuân", "Tâm", "Duyên"],
}
# Central Highlands minorities: "A" (boys) / "Y" (girls) before the given name, or a clan name.
MINORITY_FAMILY = ["Đinh", "Rơ Châm", "Ksor", "Siu", "Rơ Lan", "Nay", "Kpă", "A Lăng", "Y Kông", "Thao"]
MINORITY_GIVEN = {"M": ["Thuận", "Nhơn", "Blưu", "Hyêng", "Rin", "Krông", "Hrin", "Đoan", "Khôi", "Thiên", "Tơ",
                        "Lương", "Bơ", "Nhông", "Chiu", "Hmưn", "Jơ", "Kim", "Sương", "Tin"],
                  "F": ["Hiền", "Blin", "H'Nơ", "Nhung", "Lim", "Rin", "Hương", "Kơ", "Bích", "Hoan", "Xuyên",
                        "Loan", "Plui", "Mai", "Nga", "Sêm", "Thươi", "Trinh", "Bup", "Khuyên"]}
# Kon Tum's ethnic mix (rough shares); minorities are larger away from the provincial city.
ETHNIC_MIX = [("14", 25), ("13", 12), ("27", 8), ("10", 5), ("52", 0.4), ("54", 0.3), ("06", 1), ("02", 0.5),
              ("03", 0.5), ("07", 0.3)]
VILLAGES = ["Thôn 1", "Thôn 2", "Thôn 3", "Thôn 4", "Thôn 5", "Thôn Kon Gung", "Làng Kon Mơ Nay", "Thôn Đăk Lấp",
            "Làng Plei Rơ Wăk", "Thôn Kon Klốc", "Tổ dân phố 1", "Tổ dân phố 2", "Tổ dân phố 3", "Thôn Kon Trang"]

# Special-circumstance groups at the census day: (group code, share of SPECIAL_TARGET).
# Sub-groups are Decree 56/2017's (registry/codes.py); the demo's group-3 children are in sub-groups that
# are Decree 20/2021 Art. 5(1) cases (3.1 point c, 3.9 point h, 3.4 point e). Group 9 has no sub-groups:
# its two rows keep their separate shares so the random draws (and the demo's figures) stay as they were.
SPECIAL_MIX = [("1", 0.135), ("2", 0.035), ("3.1", 0.075), ("3.9", 0.05), ("3.4", 0.05), ("4.1", 0.17),
               ("4.2", 0.23), ("4.3", 0.10), ("5", 0.01), ("6", 0.025), ("7", 0.004), ("8", 0.05), ("9", 0.02),
               ("9", 0.01), ("10.1", 0.01), ("11", 0.012), ("12", 0.003), ("13", 0.01), ("14", 0.001)]
# Groups whose episodes may end (the others last): the same in the national demo.
ENDING_CODES = ("6", "7", "8", "9", "10.1", "11", "12", "14")
DISABILITY_OF = {"4.1": "particularly_severe", "4.2": "severe", "4.3": "disabled"}


def _weighted(rng: random.Random, pairs):
    values, weights = zip(*pairs, strict=True)
    return rng.choices(values, weights=weights)[0]


def _random_date(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + dt.timedelta(days=rng.randrange((end - start).days + 1))


def _age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def _counts_on(birth: dt.date, ended: dt.date | None, day: dt.date) -> bool:
    return birth <= day and _age_on(birth, day) < 16 and (ended is None or ended > day)


class _Names:
    def __init__(self, rng: random.Random):
        self.rng = rng

    def family(self, kinh: bool) -> str:
        return _weighted(self.rng, KINH_FAMILY) if kinh else self.rng.choice(MINORITY_FAMILY)

    def child(self, family: str, sex: str, kinh: bool) -> tuple[str, str, str]:
        rng = self.rng
        if kinh:
            return family, rng.choice(MIDDLE[sex]), rng.choice(GIVEN[sex])
        if rng.random() < 0.45:
            return ("A" if sex == "M" else "Y"), "", rng.choice(MINORITY_GIVEN[sex])
        middle = "" if rng.random() < 0.4 else ("Văn" if sex == "M" else "Thị")
        return family, middle, rng.choice(MINORITY_GIVEN[sex])

    def adult(self, family: str, sex: str, kinh: bool) -> str:
        fam, mid, given = self.child(family, sex, kinh)
        return " ".join(p for p in (fam, mid, given) if p)


def _typo(rng: random.Random, text: str) -> str:
    if len(text) < 3:
        return text + text[-1]
    i = rng.randrange(1, len(text) - 1)
    return text[:i] + text[i + 1] + text[i] + text[i + 2:] if rng.random() < 0.5 else text[:i] + text[i + 1:]


def seed(ctx) -> str:  # noqa: C901, PLR0915 — a generator reads best as one story
    rng = ctx.rng("registry")
    names = _Names(rng)
    actor = ctx.users.get("admin")
    communes = list(AdminUnit.objects.filter(version="legacy", level=Level.COMMUNE, province_code="62")
                    .select_related("parent").order_by("code"))
    successor = dict(UnitSuccession.objects.filter(is_default=True, old__in=communes).values_list("old_id", "new_id"))
    ethnic_ids = dict(Ethnicity.objects.values_list("code", "pk"))
    groups = {g.code: g for g in SpecialGroup.objects.select_related("parent")}  # no lazy query inside COPY
    factors = list(RiskFactor.objects.filter(active=True).values_list("pk", flat=True))

    # Commune sizes: the provincial city and district towns are bigger; minority shares grow with distance.
    weights, minority = {}, {}
    for commune in communes:
        urban = commune.unit_type in ("Phường", "Thị trấn")
        weights[commune.pk] = rng.uniform(2.0, 3.5) if urban else rng.uniform(0.6, 1.6)
        city = commune.parent is not None and commune.parent.code == "608"  # Thành phố Kon Tum
        minority[commune.pk] = rng.uniform(0.15, 0.35) if city else rng.uniform(0.45, 0.9) if not urban else rng.uniform(0.3, 0.5)
    commune_ids = [commune.pk for commune in communes]
    commune_weights = [weights[pk] for pk in commune_ids]

    target_2022 = round(ctx.children * CHILDREN_MARGIN)
    per_day = target_2022 / 365.25 / 16
    today = HISTORY_END
    total_days = (today - FIRST_BIRTH).days
    n_children = round(per_day * total_days)

    # ---- households and children
    households: list[dict] = []
    children: list[dict] = []
    hh_of_commune: dict[int, list[int]] = defaultdict(list)
    while len(children) < n_children:
        unit_id = rng.choices(commune_ids, weights=commune_weights)[0]
        kinh = rng.random() >= minority[unit_id]
        family = names.family(kinh)
        hh = {"idx": len(households), "unit": unit_id, "village": rng.choice(VILLAGES),
              "head": names.adult(family, "M" if rng.random() < 0.8 else "F", kinh), "family": family,
              "kinh": kinh, "eth": "01" if kinh else _weighted(rng, ETHNIC_MIX), "members": []}
        households.append(hh)
        hh_of_commune[unit_id].append(hh["idx"])
        # Siblings born a few years apart; minorities have larger families.
        n_kids = rng.choices([1, 2, 3, 4, 5], weights=[38, 36, 16, 7, 3] if kinh else [25, 32, 23, 13, 7])[0]
        first = _random_date(rng, FIRST_BIRTH, today)
        births = [first]
        for _ in range(n_kids - 1):
            nxt = births[-1] + dt.timedelta(days=rng.randint(400, 1800))
            if nxt > today:
                nxt = births[0] - dt.timedelta(days=rng.randint(400, 1800))
                if nxt < FIRST_BIRTH:
                    break
            births.append(nxt)
        for birth in births:
            if len(children) >= n_children:
                break
            sex = "M" if rng.random() < 0.512 else "F"
            # Some lists only know the month or the year of birth: stored as its first day, flagged.
            precision = rng.choices(["day", "month", "year"], weights=[95, 3, 2])[0]
            if precision != "day":
                birth = birth.replace(day=1) if precision == "month" else birth.replace(day=1, month=1)
            fam, mid, given = names.child(family, sex, kinh)
            child = {"idx": len(children), "hh": hh["idx"], "unit": unit_id, "birth": birth, "sex": sex,
                     "family": fam, "middle": mid, "given": given, "eth": hh["eth"], "ended": None, "reason": "",
                     "disability": "none", "source": "demo", "kinh": kinh,
                     "precision": precision}
            children.append(child)
            hh["members"].append(child["idx"])

    # Deaths and moves out of the province (records end, they are never deleted).
    for child in children:
        r = rng.random()
        if r < 0.0015:
            child["ended"], child["reason"] = _random_date(rng, child["birth"], today), "died"
        elif r < 0.0065:
            child["ended"], child["reason"] = _random_date(rng, child["birth"], today), "left"

    # Births are random: top up single-child households born in the census window until the
    # 2022 count is reached, so "more than 200,000" holds for every seed.
    counted = [c for c in children if _counts_on(c["birth"], c["ended"], CENSUS_DAY)]
    while len(counted) < target_2022:
        unit_id = rng.choices(commune_ids, weights=commune_weights)[0]
        kinh = rng.random() >= minority[unit_id]
        family, sex = names.family(kinh), "M" if rng.random() < 0.512 else "F"
        hh = {"idx": len(households), "unit": unit_id, "village": rng.choice(VILLAGES),
              "head": names.adult(family, "M", kinh), "family": family, "kinh": kinh,
              "eth": "01" if kinh else _weighted(rng, ETHNIC_MIX), "members": []}
        households.append(hh)
        fam, mid, given = names.child(family, sex, kinh)
        child = {"idx": len(children), "hh": hh["idx"], "unit": unit_id, "sex": sex, "family": fam, "middle": mid,
                 "birth": _random_date(rng, dt.date(2007, 1, 1), CENSUS_DAY), "given": given, "eth": hh["eth"],
                 "ended": None, "reason": "", "disability": "none", "source": "demo", "kinh": kinh, "precision": "day"}
        children.append(child)
        hh["members"].append(child["idx"])
        counted.append(child)

    # ---- special circumstances at the census day (exact mix), and some before/after it
    special_n = ctx.scaled(SPECIAL_TARGET)
    pool = [c for c in counted if c["ended"] is None]
    rng.shuffle(pool)
    episodes: list[tuple] = []  # (child idx, group code, start, end)
    special_idx = set()
    cursor = 0
    for code, share in SPECIAL_MIX:
        for _ in range(max(1, round(special_n * share))):
            child = pool[cursor]
            cursor += 1
            start = _random_date(rng, max(child["birth"], dt.date(2015, 1, 1)), CENSUS_DAY)
            if code in ("4.1", "4.2", "4.3", "5", "1", "2"):
                start = max(child["birth"], start - dt.timedelta(days=rng.randint(0, 2000)))
            end = None
            if code in ENDING_CODES and rng.random() < 0.5:
                end = _random_date(rng, dt.date(2023, 3, 1), today - dt.timedelta(days=1))
            episodes.append((child["idx"], code, start, end))
            special_idx.add(child["idx"])
            if code in DISABILITY_OF:
                child["disability"] = DISABILITY_OF[code]
    # Episodes that ended before the census day, and new ones after it (so years differ).
    for _ in range(ctx.scaled(400)):
        child = pool[cursor]
        cursor += 1
        if child["birth"] > dt.date(2022, 6, 1):
            continue
        start = _random_date(rng, max(child["birth"], dt.date(2019, 1, 1)), dt.date(2022, 6, 30))
        episodes.append((child["idx"], rng.choice(["8", "9", "6", "10.1", "11"]), start,
                         _random_date(rng, start, dt.date(2022, 12, 30))))
    for _ in range(ctx.scaled(700)):
        child = pool[cursor]
        cursor += 1
        start = _random_date(rng, dt.date(2023, 1, 1), today - dt.timedelta(days=1))
        if start < child["birth"]:
            continue
        episodes.append((child["idx"], rng.choice(["1", "3.1", "4.2", "8", "9", "11"]), start, None))
        if episodes[-1][1] == "4.2":
            child["disability"] = "severe"

    # ---- risk factors: exactly-chosen at-risk children at the census day (not in special circumstances)
    risk_n = ctx.scaled(AT_RISK_TARGET)
    risk_pool = [c for c in pool[cursor:] if c["idx"] not in special_idx]
    assessments: list[tuple] = []  # (child idx, date, [factor ids], end or None)
    for child in risk_pool[:risk_n]:
        when = _random_date(rng, max(child["birth"], dt.date(2019, 1, 1)), CENSUS_DAY)
        end = _random_date(rng, dt.date(2023, 6, 1), today) if rng.random() < 0.25 else None
        assessments.append((child["idx"], when, rng.sample(factors, rng.choice([1, 1, 1, 2, 2, 3])), end))
    for child in risk_pool[risk_n: risk_n + ctx.scaled(5000)]:
        when = _random_date(rng, dt.date(2023, 1, 1), today)
        if when >= child["birth"]:
            assessments.append((child["idx"], when, rng.sample(factors, 1), None))

    # ---- planted near-duplicates (no household, no episodes: they leave the exact figures alone)
    originals = rng.sample([c for c in children if c["ended"] is None and c["idx"] not in special_idx],
                           ctx.scaled(round(200_000 * DUPLICATE_SHARE)))
    duplicates: list[dict] = []
    for orig in originals:
        dup = dict(orig, idx=len(children) + len(duplicates), hh=None, orig=orig["idx"], disability=orig["disability"])
        kind = rng.choice(["typo", "nodiacritics", "swap", "year", "noid"])
        dup["kind"] = kind
        b = orig["birth"]
        if kind == "typo":
            dup["given"] = _typo(rng, orig["given"])
        elif kind == "nodiacritics":
            for key in ("family", "middle", "given"):
                dup[key] = fold(orig[key]).title() if orig[key] else ""
        elif kind == "swap" and b.day <= 12 and b.day != b.month and orig["precision"] == "day":
            dup["birth"] = dt.date(b.year, b.day, b.month)
        elif kind in ("year", "swap"):
            year = b.year + rng.choice([-1, 1])
            try:
                dup["birth"] = b.replace(year=year)
            except ValueError:
                dup["birth"] = b.replace(year=year, day=28)
            if dup["birth"] > today or dup["birth"] < FIRST_BIRTH:
                dup["birth"] = b
                dup["given"] = _typo(rng, orig["given"])
        duplicates.append(dup)
    all_children = children + duplicates

    # ---- personal IDs (province of registration 062; digit 4: century and sex); some missing
    serial = rng.randrange(100_000, 400_000)
    for child in children:
        missing = 0.12 if child["kinh"] else 0.28
        if child["birth"].year < 2012:
            missing += 0.08
        if rng.random() < missing:
            child["pid"] = ""
            continue
        serial += rng.randint(1, 7)
        digit = 2 if child["sex"] == "M" else 3
        child["pid"] = f"062{digit}{child['birth'].year % 100:02d}{serial % 1_000_000:06d}"
    for dup in duplicates:
        orig = children[dup["orig"]]
        dup["pid"] = "" if dup["kind"] in ("noid",) or rng.random() < 0.7 else orig["pid"]

    # ---- poverty: choose households so that counted children match the exact figures
    counted_of_hh: dict[int, int] = defaultdict(int)
    for c in counted:
        counted_of_hh[c["hh"]] += 1
    order = sorted(households, key=lambda h: (h["kinh"], rng.random()))  # minority households first, shuffled
    remaining_poor, remaining_near = ctx.scaled(POOR_CHILDREN), ctx.scaled(NEAR_POOR_CHILDREN)
    poor, near = set(), set()
    for hh in order:
        n = counted_of_hh.get(hh["idx"], 0)
        if n and n <= remaining_poor and rng.random() < 0.75:
            poor.add(hh["idx"])
            remaining_poor -= n
    for hh in order:
        n = counted_of_hh.get(hh["idx"], 0)
        if hh["idx"] in poor or not n:
            continue
        if n <= remaining_poor:
            poor.add(hh["idx"])
            remaining_poor -= n
        elif n <= remaining_near:
            near.add(hh["idx"])
            remaining_near -= n
        if not remaining_poor and not remaining_near:
            break
    if remaining_poor or remaining_near:
        raise RuntimeError(f"demo: could not place poverty exactly ({remaining_poor}, {remaining_near} left)")
    poverty_rows = []
    others = [h["idx"] for h in households if h["idx"] not in poor and h["idx"] not in near]
    for year in ctx.years:
        # Poverty falls year after year: more poor households before 2022, fewer after.
        if year <= 2022:
            poor_y = poor | set(rng.sample(others, int(len(poor) * 0.08 * (2022 - year))))
            near_y = near
        else:
            poor_y = {h for h in poor if rng.random() > 0.08 * (year - 2022)}
            near_y = near | {h for h in poor - poor_y if rng.random() < 0.6}
        poverty_rows += [(idx, year, "poor") for idx in sorted(poor_y)]
        poverty_rows += [(idx, year, "near_poor") for idx in sorted(near_y)]

    # ---- write
    with indexes_deferred(Household, HouseholdPoverty, Child, Residence, Guardian, SpecialEpisode, RiskAssessment,
                          ChildRisk):
        _write(ctx, rng, names, households, all_children, children, poverty_rows, episodes, assessments, successor,
               ethnic_ids, groups, today)
    overlapping = residences_overlapping()  # the load ran without the check (indexes_deferred)
    if overlapping:
        raise RuntimeError(f"demo: residences overlap for children {overlapping}")
    reset_sequences(Household, HouseholdPoverty, Child, Residence, Guardian, SpecialEpisode, RiskAssessment, ChildRisk)
    poverty_reviews_seed(ctx.years, rng)
    _population(ctx, counted, successor, today)
    if connection.vendor == "postgresql":
        # The other parts query these tables right away (the allowances' plans read the children under 3
        # of listed communes): without statistics after the COPY, PostgreSQL plans them as if empty —
        # measured 64 s for one such query on the 200,000-child demo, instead of well under a second.
        with connection.cursor() as analyze:
            analyze.execute("ANALYZE")

    audit_change(actor=actor, action="demo.seed_registry", object_type="registry.child",
                 changes={"children": len(all_children), "households": len(households), "seed": ctx.seed},
                 source="demo")
    ctx.data["registry"] = {"children": len(all_children), "duplicates": len(duplicates)}
    return (f"{len(all_children):,} children ({len(counted):,} under 16 on 31/12/2022), {len(households):,} households, "
            f"{len(episodes):,} special-circumstance episodes, {len(assessments):,} risk assessments, "
            f"{len(duplicates):,} planted duplicates")


def _write(ctx, rng, names, households, all_children, children, poverty_rows, episodes, assessments, successor,
           ethnic_ids, groups, today) -> None:
    hh_ids = next_ids(Household, len(households))
    child_ids = next_ids(Child, len(all_children))
    res_ids = next_ids(Residence, 2 * len(all_children))
    now = dt.datetime.now(dt.UTC)
    pc = province_code_of(ctx.province.pk)  # every row of the demo province's children: 51 (places/fields.py)
    insert_rows(Household, ["id", "unit_id", "village", "head_name", "head_key", "address", "created_at",
                            "province_code"], (
        (hh_ids[h["idx"]], successor.get(h["unit"], h["unit"]) if today >= REFORM_DATE else h["unit"],
         h["village"], h["head"], fold(h["head"]), "", now, pc) for h in households))
    insert_rows(HouseholdPoverty, ["household_id", "year", "status", "decision_number", "decision_date",
                                   "province_code"], (
        (hh_ids[idx], year, status, f"{rng.randint(10, 999)}/QĐ-UBND", dt.date(year - 1, 12, rng.randint(10, 28)), pc)
        for idx, year, status in poverty_rows))

    def child_row(c):
        full = " ".join(p for p in (c["family"], c["middle"], c["given"]) if p)
        age_today = _age_on(c["birth"], today)
        schooling, level = "not_school_age", ""
        if age_today >= 3:
            schooling = "in_school"
            level = ("preschool" if age_today < 6 else "primary" if age_today < 11
                     else "lower_secondary" if age_today < 15 else "upper_secondary")
            if age_today >= 11 and rng.random() < (0.06 if c["kinh"] else 0.12):
                schooling, level = "dropped_out", ""
        birth, precision = c["birth"], c["precision"]
        moved = c["ended"] is None or c["ended"] >= REFORM_DATE
        unit = successor.get(c["unit"], c["unit"]) if moved and today >= REFORM_DATE else c["unit"]
        return (child_ids[c["idx"]], c["family"], c["middle"], c["given"], full, fold(full), fold(c["given"]),
                birth, precision, c["sex"], ethnic_ids.get(c["eth"]), c["pid"], False, rng.random() > 0.02,
                hh_ids[c["hh"]] if c["hh"] is not None else None, unit,
                households[c["hh"]]["village"] if c["hh"] is not None else rng.choice(VILLAGES),
                schooling, level, None, c["disability"], "", c["ended"], c["reason"], None,
                f"demo-dup:{child_ids[c['orig']]}" if "orig" in c else "demo", 1, now, now,
                None, pc)

    insert_rows(Child, ["id", "family_name", "middle_name", "given_name", "full_name", "name_key", "given_key",
                        "birth_date", "birth_precision", "sex", "ethnicity_id", "personal_id", "personal_id_mismatch",
                        "birth_registered", "household_id", "unit_id", "village", "schooling", "school_level",
                        "dropout_date", "disability", "note", "ended_on", "end_reason", "merged_into_id", "source",
                        "version", "created_at", "updated_at", "created_by_id", "province_code"],
                (child_row(c) for c in all_children))

    residences = []
    reform_end = REFORM_DATE - dt.timedelta(days=1)
    for c in all_children:
        cid, start, ended = child_ids[c["idx"]], c["birth"], c["ended"]
        new_unit = successor.get(c["unit"])
        if new_unit and (ended is None or ended >= REFORM_DATE) and today >= REFORM_DATE and start < REFORM_DATE:
            residences.append((cid, c["unit"], start, reform_end))
            residences.append((cid, new_unit, REFORM_DATE, ended))
        else:
            residences.append((cid, new_unit if start >= REFORM_DATE and new_unit else c["unit"], start, ended))
    insert_rows(Residence, ["id", "child_id", "unit_id", "start", "end", "province_code"],
                ((res_ids[i], *row, pc) for i, row in enumerate(residences)))

    insert_rows(Guardian, ["child_id", "full_name", "name_key", "relationship", "phone", "is_primary", "province_code"], (
        (child_ids[c["idx"]], g, fold(g), rel, "", True, pc)
        for c in all_children
        for g, rel in [(households[c["hh"]]["head"] if c["hh"] is not None
                        else names.adult(c["family"], "F", c["kinh"]), "father" if c["hh"] is not None else "mother")]))

    insert_rows(SpecialEpisode, ["child_id", "group_id", "subgroup_id", "start", "end", "evidence", "nurture_case",
                                 "recorded_by_id", "created_at", "province_code"], (
        (child_ids[idx], (groups[code].parent or groups[code]).pk, groups[code].pk if groups[code].parent_id else None,
         max(start, children[idx]["birth"]), end, "Biên bản xác minh của UBND xã", nurture_points(code)[0], None, now, pc)
        for idx, code, start, end in episodes))

    ra_ids = next_ids(RiskAssessment, len(assessments))
    insert_rows(RiskAssessment, ["id", "child_id", "assessed_on", "note", "assessed_by_id", "created_at",
                                 "province_code"], (
        (ra_ids[i], child_ids[idx], max(when, children[idx]["birth"]), "", None, now, pc)
        for i, (idx, when, _f, _e) in enumerate(assessments)))
    insert_rows(ChildRisk, ["child_id", "factor_id", "start", "end", "assessment_id", "province_code"], (
        (child_ids[idx], f, max(when, children[idx]["birth"]), end, ra_ids[i], pc)
        for i, (idx, when, fs, end) in enumerate(assessments) for f in fs))


def _population(ctx, counted, successor, today) -> None:
    """Population per commune and year: children are CHILD_SHARE of it in 2022; it grows 1.4% a year."""
    counted_by_commune: dict[int, int] = defaultdict(int)
    for c in counted:
        counted_by_commune[c["unit"]] += 1
    total_2022 = round(len(counted) / CHILD_SHARE)
    pop_rows = []
    for year in sorted({*ctx.years, timezone.localdate().year}):
        total = round(total_2022 * 1.014 ** (year - 2022))
        shares = _largest_remainder(total, counted_by_commune)
        if year >= REFORM_DATE.year:
            merged: dict[int, int] = defaultdict(int)
            for unit_id, n in shares.items():
                merged[successor.get(unit_id, unit_id)] += n
            shares = merged
        pop_rows += [Population(unit_id=u, year=year, total=n) for u, n in shares.items()]
    Population.objects.filter(unit__province_code__in=["62", "51"], year__in=[r.year for r in pop_rows]).delete()
    Population.objects.bulk_create(pop_rows)


def _largest_remainder(total: int, weights: dict[int, int]) -> dict[int, int]:
    whole = sum(weights.values()) or 1
    raw = {k: total * v / whole for k, v in weights.items()}
    out = {k: int(v) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[: total - sum(out.values())]:
        out[k] += 1
    return out


def poverty_reviews_seed(years, rng: random.Random) -> int:
    """One decided review per commune with households and per year: a commune's list for year Y is
    decided on 10–14 December of Y-1, as the annual review ends (Decision 24/2021/QĐ-TTg). Without
    them no year would be in force (registry.rules.poverty_years_on)."""
    units = sorted(set(Household.objects.values_list("unit_id", flat=True).distinct()))
    rows = [PovertyReview(unit_id=unit, year=year, decided_on=dt.date(year - 1, 12, rng.randint(10, 14)),
                          decision_number=f"{rng.randint(10, 999)}/QĐ-UBND") for unit in units for year in years]
    PovertyReview.objects.bulk_create(rows, batch_size=5000)
    return len(rows)

