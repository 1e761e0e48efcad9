"""The benefit rules in one place: months, ages, the rule tables, the groups' conditions.

Month rules (Decree 20/2021/NĐ-CP, Art. 8, used everywhere: payroll, eligibility for a month, stops):

- **A change of level** — a coefficient that depends on age (a child turning 4), a change of group —
  applies "từ tháng đối tượng đủ điều kiện điều chỉnh" (Art. 8(1), last paragraph): from the month in
  which the person qualifies. A child turning 4 on 15/03 is paid 1.5 for March already.
  (`coefficient_age`: the age reached by the end of the month.)
- **A stop** — an entitlement that ends with age (16; 22 for a student), death, no longer qualifying —
  applies "từ tháng ngay sau tháng" the person no longer qualifies (Art. 8(2)): the month of the
  16th birthday is still paid, the next is not. (`age_for_month`: the age on the last day of the
  previous month.)

Decree 147/2025/NĐ-CP (from 1 July 2025) moved the decision to the commune chairman; its text was not
found here, so whether it also changed these months is not known: the month rule is dated data
(`LEVEL_CHANGE_RULES`), and a row added there with its clause changes it from its date on.
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Q
from django.utils.translation import gettext as _

from vitreem.core.bounds import MAX_YEAR, MIN_YEAR
from vitreem.core.errors import DomainError
from vitreem.registry.codes import nurture_case_label

# Decree 20/2021 took effect on 1 July 2021: no month before it is computed.
PROGRAMME_START = dt.date(2021, 7, 1)

# Registry special-circumstance groups (Law on Children Art. 10) among which "no source of nurture" is
# found (Decree 20/2021, Art. 5(1)): orphaned of both parents, abandoned, no one to rely on. Only an
# episode with an Art. 5(1) point counts (SpecialEpisode.nurture_case; the mapping from Decree 56's
# sub-groups is registry.codes.NURTURE_BY_SUBGROUP): 3.7 "both parents unable to care", an adopted
# abandoned child, one parent in prison while the other is at home, are not Art. 5(1) cases.
NO_NURTURE_CODES = ("1", "2", "3")
HIV_CODE = "5"
# Decree 20/2021, Art. 5(6): people with a severe or particularly severe disability — children and
# adults alike. A child's allowance carries on at 16 at the adult coefficient (Art. 6(1)(e)): no stop.
DISABILITY_GROUPS = ("disability_particularly_severe", "disability_severe")


# ---------------------------------------------------------------- months

def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


def month_add(month: dt.date, n: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + n
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(month: dt.date) -> dt.date:
    return month_add(month, 1) - dt.timedelta(days=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    """Months from `first` to `last` inclusive."""
    out = []
    m = month_of(first)
    while m <= last:
        out.append(m)
        m = month_add(m, 1)
    return out


def month_parse(text: str, *, field_name: str = "month") -> dt.date:
    """"2024-07" (or "07/2024") → 2024-07-01; a clear error otherwise."""
    raw = (text or "").strip()
    try:
        if "/" in raw:
            mm, yyyy = raw.split("/")
        else:
            yyyy, mm = raw.split("-")[:2]
        month = dt.date(int(yyyy), int(mm), 1)
        if not MIN_YEAR <= month.year <= MAX_YEAR:  # 9999-12 has no next month: the payroll would fail
            raise ValueError(month)
    except (ValueError, TypeError):
        raise DomainError(_("Tháng không hợp lệ: “%(v)s” (viết dạng YYYY-MM, ví dụ 2024-07).") % {"v": raw},
                          field=field_name, code="bad_month") from None
    return month


def month_label(month: dt.date) -> str:
    return f"{month.month:02d}/{month.year}"


# ---------------------------------------------------------------- ages

def age_on(birth: dt.date, day: dt.date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def age_for_month(birth: dt.date, month: dt.date) -> int:
    """Age on the last day of the previous month: whether an entitlement that ends with age still runs
    in `month` (Decree 20/2021, Art. 8(2): it stops from the month after); 0 for a child born in it."""
    return max(0, age_on(birth, month - dt.timedelta(days=1)))


# When a change of level (an age band's coefficient, a change of group) takes effect, by the date the
# rule came into force: (from, rule, clause). "qualifying_month": from the month the person qualifies;
# "next_month": from the month after. Read from the text of Decree 20/2021, Art. 8(1); no later text
# found that changed it (see the module's docstring).
LEVEL_CHANGE_RULES: list[tuple[dt.date, str, str]] = [
    (dt.date(2021, 7, 1), "qualifying_month", "Nghị định 20/2021/NĐ-CP, Điều 8 khoản 1 (đoạn cuối)"),
]


# Who decides an allowance, by the decision's date (issue 14 item 6). Decree 20/2021, Art. 8(1)(đ): the
# district chairman ("Chủ tịch Ủy ban nhân dân cấp huyện xem xét, quyết định trợ cấp xã hội hàng tháng").
# From 1 July 2025 the district level is abolished (two-level local government) and the commune chairman
# decides — Decree 147/2025/NĐ-CP, whose text was not found here (docs/en/legal-basis.md).
DECIDING_AUTHORITIES: list[tuple[dt.date, str, str]] = [
    (dt.date(2021, 7, 1), "district", "Nghị định 20/2021/NĐ-CP, Điều 8 khoản 1 điểm đ"),
    (dt.date(2025, 7, 1), "commune", "Nghị định 147/2025/NĐ-CP; chính quyền địa phương hai cấp từ 01/7/2025"),
]


def deciding_authority(day: dt.date) -> str:
    """"district" or "commune": the chairman who decides an allowance on `day`."""
    level = DECIDING_AUTHORITIES[0][1]
    for start, name, _clause in DECIDING_AUTHORITIES:
        if start <= day:
            level = name
    return level


def deciding_authority_label(day: dt.date) -> str:
    return (_("Chủ tịch UBND cấp huyện") if deciding_authority(day) == "district" else _("Chủ tịch UBND cấp xã"))


def level_change_rule(month: dt.date) -> str:
    rule = LEVEL_CHANGE_RULES[0][1]
    for start, name, _clause in LEVEL_CHANGE_RULES:
        if start <= month:
            rule = name
    return rule


def coefficient_age(birth: dt.date, month: dt.date) -> int:
    """The age an age-banded coefficient is read at for `month`: the age reached by the month's last day
    when a change applies from the qualifying month (Art. 8(1)), else the age at the month's start."""
    if level_change_rule(month) == "qualifying_month":
        return max(0, age_on(birth, month_end(month)))
    return age_for_month(birth, month)


def birthday(birth: dt.date, years: int) -> dt.date:
    try:
        return birth.replace(year=birth.year + years)
    except ValueError:  # 29 February
        return dt.date(birth.year + years, 3, 1)


def last_month_before_age(birth: dt.date, years: int) -> dt.date:
    """The last month paid before an age limit: the month in which the person reaches `years`."""
    return month_of(birthday(birth, years))


# ---------------------------------------------------------------- the rule tables

def amount_of(coefficient: Decimal, base: int) -> int:
    """Coefficient × base level, in whole VND (half up)."""
    return int((Decimal(coefficient) * Decimal(base)).quantize(Decimal(1), rounding=ROUND_HALF_UP))


@dataclass
class RuleBook:
    """The rule tables loaded once (three queries), looked up in memory for every line."""

    bases: list[Any]
    coefficients: dict[int, list[Any]]
    groups: dict[int, Any]
    groups_by_code: dict[str, Any]
    _base_cache: dict[tuple[dt.date, int | None], int] = field(default_factory=dict)

    @classmethod
    def load(cls) -> RuleBook:
        from .models import BaseLevel, BeneficiaryGroup, Coefficient

        groups = {g.pk: g for g in BeneficiaryGroup.objects.all()}
        coefficients: dict[int, list[Any]] = {}
        for c in Coefficient.objects.order_by("age_from", "valid_from"):
            coefficients.setdefault(c.group_id, []).append(c)
        return cls(bases=list(BaseLevel.objects.select_related("unit").order_by("valid_from")), coefficients=coefficients, groups=groups,
                   groups_by_code={g.code: g for g in groups.values()})

    def base_for(self, month: dt.date, province_id: int | None = None, *, strict: bool = True) -> int | None:
        """The base level in force for `month`: the province's own (higher) level when it set one,
        else the national level. Strict: a month with no valid period is an error, never a guess."""
        key = (month, province_id)
        if key in self._base_cache:
            return self._base_cache[key]
        national = [b for b in self.bases if b.unit_id is None and _covers(b, month)]
        own = [b for b in self.bases if province_id is not None and b.unit_id == province_id and _covers(b, month)]
        amount = max([b.amount for b in national + own], default=None)
        if amount is None and strict:
            raise DomainError(_("Chưa có mức chuẩn trợ giúp xã hội có hiệu lực cho tháng %(m)s.")
                              % {"m": month_label(month)}, field="base_level", code="no_base_level")
        if amount is not None:
            self._base_cache[key] = amount
        return amount

    def coefficient_for(self, group_id: int, age: int, month: dt.date) -> Decimal | None:
        for c in self.coefficients.get(group_id, ()):
            if c.age_from <= age and (c.age_to is None or age < c.age_to) and _covers(c, month):
                return c.value
        return None

    def coefficient_in_month(self, group_id: int, birth: dt.date, month: dt.date, *,
                             rules_month: dt.date | None = None) -> Decimal | None:
        """The group's coefficient for a person born on `birth`, in `month` (the table in force in
        `rules_month`, default the same month): a new age band from the month it is reached (Art. 8(1));
        in the month an entitlement ends with age (16, 22), the band held until then (Art. 8(2))."""
        table_month = rules_month or month
        return (self.coefficient_for(group_id, coefficient_age(birth, month), table_month)
                or self.coefficient_for(group_id, age_for_month(birth, month), table_month))

    def group_has_period(self, group_id: int, month: dt.date) -> bool:
        return any(_covers(c, month) for c in self.coefficients.get(group_id, ()))


def _covers(row: Any, month: dt.date) -> bool:
    return row.valid_from <= month_end(month) and (row.valid_to is None or row.valid_to >= month)


# ---------------------------------------------------------------- conditions from registry facts

# A special-circumstance episode as the rules read it: (group code, subgroup code, start, end, Art. 5(1) point).
Episode = tuple[str, str, dt.date, dt.date | None, str]


@dataclass
class Facts:
    """Registry facts about one person on a day, as the eligibility rules see them."""

    child: Any
    day: dt.date
    age: int
    episodes: list[Episode]
    poverty: str | None
    schooling: str
    disability: str
    in_difficult_area: bool = False  # Art. 5(7): lives in an extremely difficult commune or village

    def episode_on(self, codes: Iterable[str], *, nurture: bool = False) -> Episode | None:
        """An episode of one of the groups `codes` covering the day (with an Art. 5(1) point: `nurture`)."""
        return self._covering(tuple(codes), self.day, nurture)

    def episode_before_16(self, codes: Iterable[str], *, nurture: bool = False) -> Episode | None:
        """An episode that still covered the eve of the 16th birthday (the group before turning 16)."""
        return self._covering(tuple(codes), birthday(self.child.birth_date, 16) - dt.timedelta(days=1), nurture)

    def _covering(self, codes: tuple[str, ...], day: dt.date, nurture: bool) -> Episode | None:
        for e in self.episodes:
            if e[0] in codes and e[2] <= day and (e[3] is None or e[3] >= day) and (e[4] or not nurture):
                return e
        return None


@dataclass
class Verdict:
    group: str
    ok: bool
    reasons: list[str]  # the facts that made it so
    failing: list[str]  # the conditions that fail


def _episode_text(e: Episode) -> str:
    code = e[1] or e[0]
    text = _("hoàn cảnh đặc biệt nhóm %(g)s từ %(d)s") % {"g": code, "d": e[2].strftime("%d/%m/%Y")}
    return f"{text} ({nurture_case_label(e[4])})" if e[4] else text


def check_group(code: str, f: Facts) -> Verdict:
    """Does the person meet the conditions of group `code` on `f.day`? (Decree 20/2021, Art. 5)"""
    from vitreem.registry.models import Disability, PovertyStatus, Schooling

    reasons: list[str] = [_("%(n)s tuổi") % {"n": f.age}]
    failing: list[str] = []
    if f.child.ended_on and f.child.ended_on <= f.day:
        failing.append(_("hồ sơ trẻ đã kết thúc ngày %(d)s") % {"d": f.child.ended_on.strftime("%d/%m/%Y")})
    under_16 = f.age < 16
    if code == "no_nurture":
        # Art. 5(1): a child under 16 with no source of nurture, in one of the cases of points a–l.
        e = f.episode_on(NO_NURTURE_CODES, nurture=True)
        if e:
            reasons.append(_episode_text(e))
        else:
            other = f.episode_on(NO_NURTURE_CODES)
            failing.append(_("hoàn cảnh ghi nhận (nhóm %(g)s) không thuộc trường hợp nào của khoản 1 Điều 5 "
                             "Nghị định 20/2021") % {"g": other[1] or other[0]} if other else
                           _("không có ghi nhận mồ côi cả cha mẹ, bị bỏ rơi hoặc không nơi nương tựa"))
        if not under_16:
            failing.append(_("đã đủ 16 tuổi"))
    elif code == "no_nurture_student":
        # Art. 5(2): 16 to under 22, of the Art. 5(1) group, still in school.
        e = (f.episode_on(NO_NURTURE_CODES, nurture=True)
             or f.episode_before_16(NO_NURTURE_CODES, nurture=True))
        if e:
            reasons.append(_episode_text(e))
        else:
            failing.append(_("không thuộc nhóm không có nguồn nuôi dưỡng trước khi đủ 16 tuổi"))
        if not 16 <= f.age < 22:
            failing.append(_("không ở độ tuổi từ đủ 16 đến dưới 22"))
        if f.schooling == Schooling.IN_SCHOOL:
            reasons.append(_("đang đi học"))
        else:
            failing.append(_("không đang đi học"))
    elif code == "hiv_poor":
        # Art. 5(3): a child with HIV in a poor household.
        e = f.episode_on([HIV_CODE])
        if e:
            reasons.append(_episode_text(e))
        else:
            failing.append(_("không có ghi nhận nhiễm HIV/AIDS"))
        if f.poverty == PovertyStatus.POOR:
            reasons.append(_("hộ nghèo năm %(y)s") % {"y": f.day.year})
        else:
            failing.append(_("không thuộc hộ nghèo năm %(y)s") % {"y": f.day.year})
        if not under_16:
            failing.append(_("đã đủ 16 tuổi"))
    elif code in DISABILITY_GROUPS:
        # Art. 5(6): a person with a particularly severe / severe disability, at any age — at 16 the
        # child carries on at the adult coefficient (Art. 6(1)(e)), never a stop for age.
        wanted = Disability.PARTICULARLY_SEVERE if code == "disability_particularly_severe" else Disability.SEVERE
        if f.disability == wanted:
            reasons.append(str(Disability(wanted).label).lower())
        else:
            failing.append(_("mức độ khuyết tật không phải “%(l)s”") % {"l": Disability(wanted).label})
    elif code == "under3_difficult_area":
        # Art. 5(7): a child under 3 of a poor or near-poor household living in an extremely difficult
        # commune or village of the ethnic-minority and mountainous areas, not of Art. 5(1), (3) or (6).
        if f.age < 3:
            reasons.append(_("dưới 3 tuổi"))
        else:
            failing.append(_("đã đủ 3 tuổi"))
        _poor_or_near_poor(f, reasons, failing)
        if f.in_difficult_area:
            reasons.append(_("sống tại xã, thôn đặc biệt khó khăn"))
        else:
            failing.append(_("không sống tại xã, thôn đặc biệt khó khăn trong danh sách có hiệu lực"))
        # (checked last, and only when the rest holds: it reads four other groups' conditions)
        if not failing and any(check_group(other, f).ok for other in ("no_nurture", "hiv_poor", *DISABILITY_GROUPS)):
            failing.append(_("thuộc đối tượng khoản 1, 3 hoặc 6 Điều 5 Nghị định 20/2021 (hưởng theo nhóm đó)"))
    elif code == "single_parent_poor":
        # Art. 5(4): the allowance is the single parent's own (services.single_parent_enrol), never a
        # child's: a child's allowance in this group (recorded before the parent's enrolment existed) is
        # listed "no longer eligible" here, so the commune moves it to the parent.
        _poor_or_near_poor(f, reasons, failing)
        failing.append(_("trợ cấp người đơn thân nuôi con là của cha/mẹ: ghi nhận tại “Người đơn thân nuôi con”"))
        if not (under_16 or (f.age < 22 and f.schooling == Schooling.IN_SCHOOL)):
            failing.append(_("con đã đủ 16 tuổi và không đi học"))
    else:
        failing.append(_("nhóm đối tượng không có điều kiện trong hệ thống"))
    return Verdict(group=code, ok=not failing, reasons=reasons, failing=failing)


def _poor_or_near_poor(f: Facts, reasons: list[str], failing: list[str]) -> None:
    from vitreem.registry.models import PovertyStatus

    if f.poverty in (PovertyStatus.POOR, PovertyStatus.NEAR_POOR):
        reasons.append(_("hộ nghèo năm %(y)s") % {"y": f.day.year} if f.poverty == PovertyStatus.POOR
                       else _("hộ cận nghèo năm %(y)s") % {"y": f.day.year})
    else:
        failing.append(_("không thuộc hộ nghèo, hộ cận nghèo năm %(y)s") % {"y": f.day.year})


def best_group(verdicts: list[Verdict], rules: RuleBook, f: Facts, month: dt.date) -> Verdict | None:
    """Of the groups a person meets, the one with the highest coefficient.

    Decree 20/2021, Art. 6: a person who fits several coefficients receives one only, the highest.
    """
    best: tuple[Decimal, Verdict] | None = None
    for v in verdicts:
        if not v.ok:
            continue
        group = rules.groups_by_code.get(v.group)
        if group is None:
            continue
        value = rules.coefficient_for(group.pk, f.age, month) or Decimal(0)
        if best is None or value > best[0]:
            best = (value, v)
    return best[1] if best else None


def facts_load(children: list[Any], *, day: dt.date) -> dict[int, Facts]:
    """Facts for many children in a few queries per 5,000 (episodes, poverty), whatever their number."""
    from vitreem.registry.models import SpecialEpisode
    from vitreem.registry.rules import poverty_status_of

    ids = [c.pk for c in children]
    episodes: dict[int, list[Episode]] = {}
    for chunk in _chunks(ids, 5000):
        for row in (SpecialEpisode.objects.filter(child_id__in=chunk)
                    .values_list("child_id", "group__code", "subgroup__code", "start", "end", "nurture_case")):
            episodes.setdefault(row[0], []).append((row[1], row[2] or "", row[3], row[4], row[5]))
    poverty = poverty_status_of({c.household_id for c in children if c.household_id}, day)
    difficult = in_difficult_area(children, day=day)
    return {c.pk: Facts(child=c, day=day, age=max(0, age_on(c.birth_date, day)), episodes=episodes.get(c.pk, []),
                        poverty=poverty.get(c.household_id) if c.household_id else None,
                        schooling=c.schooling, disability=c.disability, in_difficult_area=c.pk in difficult)
            for c in children}


def difficult_areas_on(day: dt.date) -> tuple[set[int], set[tuple[int, str]]]:
    """The extremely difficult communes (whole) and (commune, folded village) pairs in force on `day`."""
    from vitreem.core.text import fold

    from .models import DifficultArea

    whole: set[int] = set()
    villages: set[tuple[int, str]] = set()
    for unit_id, village in (DifficultArea.objects.filter(valid_from__lte=day)
                             .filter(Q(valid_to__isnull=True) | Q(valid_to__gte=day)).values_list("unit_id", "village")):
        if village:
            villages.add((unit_id, fold(village)))
        else:
            whole.add(unit_id)
    return whole, villages


def in_difficult_area(children: list[Any], *, day: dt.date) -> set[int]:
    """Which `children` lived on `day` in an extremely difficult commune or village (Art. 5(7)): the
    commune of their residence that day (the version in force then) and their household's village."""
    from vitreem.core.text import fold
    from vitreem.registry.models import Household, Residence

    whole, villages = difficult_areas_on(day)
    if not whole and not villages:
        return set()
    under_3 = [c for c in children if age_on(c.birth_date, day) < 3]  # the only ones the rule is for
    where: dict[int, int] = {}
    household_village: dict[int, str] = {}
    for chunk in _chunks([c.pk for c in under_3], 5000):
        where.update(Residence.objects.filter(child_id__in=chunk, start__lte=day)
                     .filter(Q(end__isnull=True) | Q(end__gte=day)).values_list("child_id", "unit_id"))
    if villages:
        for chunk in _chunks([c.household_id for c in under_3 if c.household_id and not c.village], 5000):
            household_village.update(Household.objects.filter(pk__in=chunk).values_list("pk", "village"))
    found = set()
    for c in under_3:
        unit_id = where.get(c.pk)
        village = c.village or household_village.get(c.household_id or 0, "")
        if unit_id in whole or (unit_id, fold(village)) in villages:
            found.add(c.pk)
    return found


def _chunks(items: list[Any], size: int):
    for i in range(0, len(items), size):
        yield items[i:i + size]
