"""Every read of the benefit programme, through core.scope.

Recipients and decisions are scoped by the child's current commune; payrolls by the commune of
residence in the month (so a child who moved within the province, or whose commune changed in
the 2025 reform, is paid by the new place from the following month).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from vitreem.accounts.models import User
from vitreem.core.audit import audit_access
from vitreem.core.scope import get_in_scope, scope_filter, scope_for
from vitreem.places.models import AdminUnit
from vitreem.registry.models import Child, Disability, Residence, SpecialEpisode

from .models import (
    Allowance,
    AllowanceStatus,
    BaseLevel,
    BeneficiaryGroup,
    Coefficient,
    Decision,
    DecisionKind,
)
from .payroll import PayrollResult, _Calc, payroll_compute
from .rules import (
    HIV_CODE,
    NO_NURTURE_CODES,
    RuleBook,
    Verdict,
    best_group,
    check_group,
    difficult_areas_on,
    facts_load,
    month_of,
    months_between,
)

AUTO_GROUPS = ("no_nurture", "no_nurture_student", "hiv_poor", "disability_particularly_severe", "disability_severe",
               "under3_difficult_area")


def _today() -> dt.date:
    return timezone.localdate()


# ---------------------------------------------------------------- rules

def rules_current() -> dict[str, Any]:
    return {
        "base_levels": list(BaseLevel.objects.select_related("unit").order_by("-valid_from", "pk")),
        "groups": list(BeneficiaryGroup.objects.select_related("continues_as").order_by("order")),
        "coefficients": list(Coefficient.objects.select_related("group").order_by("group__order", "age_from",
                                                                                    "-valid_from")),
    }


# ---------------------------------------------------------------- recipients and decisions

def recipients_for_user(*, user: User, status: str = "", q: str = "", unit: AdminUnit | None = None,
                        health_card: str = "") -> QuerySet[Allowance]:
    """`health_card="missing"`: recipients still paid (active or suspended) who have no health insurance
    card recorded (Decree 20/2021, Art. 9(1))."""
    qs = scope_filter(Allowance.objects.select_related("child", "child__unit"), user, unit_field="child__unit")
    if status:
        qs = qs.filter(status=status)
    if health_card == "missing":
        qs = qs.exclude(status=AllowanceStatus.STOPPED).filter(health_card_issued_on__isnull=True)
    if unit is not None:
        from vitreem.places.selectors import descendant_ids

        qs = qs.filter(child__unit_id__in=descendant_ids([unit]))
    if q.strip():
        from vitreem.core.text import fold

        qs = qs.filter(child__name_key__contains=fold(q))
    return qs.order_by("child__given_key", "child__name_key", "pk")


# The stored count of allowances in active status per unit (stats.rollups.stored_values), not an indicator:
# it is today's status of each allowance, which has no value as of another date.
ACTIVE_KEY = "_benefits_active"


def recipients_active_count(*, user: User) -> int:
    """`recipients_for_user(user=user, status=AllowanceStatus.ACTIVE).count()`, as the sum of a count per
    unit of the user's scope — the allowances in active status of the children whose commune of record
    (`Child.unit`, what the scope filters on) is that unit — kept as of today (`stats.rollups.stored_values`).

    Counted on each visit it was the slowest query of the allowances' home and of the home page: for the
    province the join read all 254,000 children of the scope to find the 5,204 active allowances' (51 ms,
    EXPLAIN ANALYZE); driven from the allowances it looks up every active allowance's child whoever asks
    (11 ms warm, 44 ms when the children's pages were not in PostgreSQL's buffers), a commune's worker
    included. Stored, a visit reads the stamps and the rows (2 queries, ~2 ms for the province).

    Unlike the stored indicators (`rollups.figures` with `updating`), the units a change stamped are
    recounted by the visit itself, in one grouped query on the children's unit index: no worker turn
    refreshes a stored value that is not an indicator, and a commune's recount is a few milliseconds
    (11 ms for Xã Đăk Hà's 9,225 children), not the indicators' recomputation. The first visit of a day
    counts every unit of its scope once (~50 ms for the province)."""
    from django.db.models import Count

    from vitreem.stats.rollups import stored_values

    scope = scope_for(user)
    if not scope.read_children:
        return 0

    def count(unit_ids: frozenset[int]) -> dict[int, int]:
        # The units asked are the scope's (stored_values is given no other), which this intersection
        # restates: scope_filter's list of the ~400 units beside these, on the same column, made the
        # planner scan every child to recount the units one change had stamped (44 ms, 11 without).
        ids = unit_ids & scope.unit_ids
        found = dict(Allowance.objects.filter(status=AllowanceStatus.ACTIVE, child__unit_id__in=ids)
                     .values_list("child__unit_id").annotate(n=Count("pk")).order_by())
        return {pk: found.get(pk, 0) for pk in unit_ids}

    return sum(stored_values(key=ACTIVE_KEY, unit_ids=scope.unit_ids, day=_today(), compute_fn=count).values())


def allowance_get_for_user(*, user: User, allowance_id: int, audit: bool = True) -> Allowance:
    allowance = get_in_scope(Allowance.objects.select_related("child", "child__unit", "unit"), user,
                             unit_field="child__unit", pk=allowance_id)
    if audit:
        audit_access(actor=user, obj=allowance, unit=allowance.child.unit_id)
    return allowance


def decisions_for_user(*, user: User, kind: str = "") -> QuerySet[Decision]:
    qs = scope_filter(Decision.objects.select_related("allowance__child", "group", "unit"), user,
                      unit_field="allowance__child__unit")
    if kind:
        qs = qs.filter(kind=kind)
    return qs.order_by("-decided_on", "-pk")


def current_group(allowance: Allowance) -> BeneficiaryGroup | None:
    period = allowance.periods.select_related("group").order_by("-start").first()
    return period.group if period else None


def single_parent_family(*, user: User, child: Child) -> tuple[list[Any], list[Child]]:
    """For a single parent's enrolment (Art. 5(4)): the child's father and mother on record, and the
    children of the child's household the user may see (not ended), eldest first."""
    from vitreem.registry.models import Guardian

    guardians = list(Guardian.objects.filter(child=child, relationship__in=[Guardian.Relationship.FATHER,
                                                                          Guardian.Relationship.MOTHER]))
    if not child.household_id:
        return guardians, [child]
    family = scope_filter(Child.objects.filter(household_id=child.household_id, ended_on__isnull=True), user)
    return guardians, list(family.order_by("birth_date", "pk"))


# ---------------------------------------------------------------- eligibility

@dataclass
class EligibilityLine:
    child: Child
    group: str  # the group to enrol in / the current group
    group_name: str
    reasons: list[str]
    failing: list[str] = field(default_factory=list)
    allowance: Allowance | None = None
    better_group: str = ""
    stop_reason: str = ""


@dataclass
class Eligibility:
    on: dt.date
    enrolled: list[EligibilityLine]
    eligible: list[EligibilityLine]  # eligible but not enrolled: the commune must act
    to_stop: list[EligibilityLine]  # enrolled but no longer eligible


def eligibility_for_user(*, user: User, on: dt.date | None = None, unit: AdminUnit | None = None) -> Eligibility:
    """Who meets a group's conditions on `on`, from registry facts, in three lists. Queries do not
    grow with the number of children (candidates, episodes, poverty, allowances, rules)."""
    on = on or _today()
    rules = RuleBook.load()
    candidates = scope_filter(Child.objects.all(), user).filter(
        Q(ended_on__isnull=True) | Q(ended_on__gt=on), birth_date__lte=on,
        birth_date__gt=_years_before(on, 22))
    if unit is not None:
        from vitreem.places.selectors import descendant_ids

        candidates = candidates.filter(unit_id__in=descendant_ids([unit]))
    # The children's own allowances: a single parent's (parent_name set) is the parent's, not the child's.
    open_allowance = Allowance.objects.filter(child=OuterRef("pk"), parent_name="").exclude(status=AllowanceStatus.STOPPED)
    whole, villages = difficult_areas_on(on)
    candidates = candidates.filter(
        Exists(SpecialEpisode.objects.filter(child=OuterRef("pk"),
                                             group__code__in=[*NO_NURTURE_CODES, HIV_CODE]))
        | Q(disability__in=[Disability.SEVERE, Disability.PARTICULARLY_SEVERE])
        # Art. 5(7): under-3s of the extremely difficult communes (facts_load checks the village and the day)
        | Q(Exists(Residence.objects.filter(child=OuterRef("pk"), unit_id__in=whole | {u for u, _v in villages},
                                            start__lte=on).filter(Q(end__isnull=True) | Q(end__gte=on))),
            birth_date__gt=_years_before(on, 3))
        | Exists(open_allowance)).select_related("unit").order_by("unit__code", "given_key", "name_key", "pk")
    children = list(candidates)
    facts = facts_load(children, day=on)
    allowances: dict[int, Allowance] = {}
    for a in (Allowance.objects.filter(child_id__in=[c.pk for c in children], parent_name="")
              .exclude(status=AllowanceStatus.STOPPED).prefetch_related("periods")):
        allowances[a.child_id] = a
    month = month_of(on)
    result = Eligibility(on=on, enrolled=[], eligible=[], to_stop=[])
    for child in children:
        f = facts[child.pk]
        verdicts = {code: check_group(code, f) for code in AUTO_GROUPS}
        best = best_group(list(verdicts.values()), rules, f, month)
        allowance = allowances.get(child.pk)
        if allowance is None:
            if best is not None:
                result.eligible.append(_line(child, best, rules))
            continue
        periods = sorted(allowance.periods.all(), key=lambda p: p.start)
        group = rules.groups[periods[-1].group_id] if periods else None
        if group is None:
            continue
        verdict = verdicts.get(group.code) or check_group(group.code, f)
        if not verdict.ok and group.continues_as_id:
            nxt = rules.groups[group.continues_as_id]
            carried = verdicts.get(nxt.code) or check_group(nxt.code, f)
            if carried.ok:
                verdict = carried
        line = _line(child, verdict, rules, allowance=allowance, group=group)
        if verdict.ok or allowance.exception_reason:
            if best is not None and best.group != verdict.group and _coef(rules, best, f, month) > _coef(
                    rules, verdict, f, month):
                line.better_group = best.group
            result.enrolled.append(line)
        else:
            line.stop_reason = _stop_reason(child, f.age, verdict)
            result.to_stop.append(line)
    return result


def _coef(rules: RuleBook, verdict: Verdict, f, month: dt.date):
    from decimal import Decimal

    group = rules.groups_by_code[verdict.group]
    return rules.coefficient_for(group.pk, f.age, month) or Decimal(0)


def _line(child: Child, verdict: Verdict, rules: RuleBook, *, allowance: Allowance | None = None,
          group: BeneficiaryGroup | None = None) -> EligibilityLine:
    g = group or rules.groups_by_code[verdict.group]
    return EligibilityLine(child=child, group=g.code, group_name=g.local_name, reasons=verdict.reasons,
                           failing=verdict.failing, allowance=allowance)


def _stop_reason(child: Child, age: int, verdict: Verdict) -> str:
    from .models import StopReason

    if age >= 22:
        return StopReason.AGED_22
    if age >= 16:
        return StopReason.AGED_16
    return StopReason.NOT_ELIGIBLE


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


# ---------------------------------------------------------------- payroll

def payroll_communes(*, user: User, month: dt.date, unit: AdminUnit | None = None) -> frozenset[int] | None:
    """Communes of the payroll: `unit` (any version; mapped across the 2025 reform) within the
    user's scope; None for the whole installation (a system run without a user)."""
    from vitreem.stats.engine import params_for

    return params_for(as_of=month, unit=unit, user=user).commune_ids(month)


def payroll_for_user(*, user: User, month: dt.date, unit: AdminUnit | None = None,
                     rules: RuleBook | None = None) -> PayrollResult:
    return payroll_compute(month=month, commune_ids=payroll_communes(user=user, month=month_of(month), unit=unit),
                           rules=rules)


def payroll_summary_for_user(*, user: User, updating: set | None = None) -> dict[str, Any]:
    """This month's payroll for the user's communes — its total and number of lines — from the stored
    figures (rollups: each commune's value as of today, recomputed only for the communes a change
    touched), not from a payroll computed on every visit. `updating` as in `stats.rollups.figures`.

    A commune of the other version of the units counts only while some child still lives there on the
    1st of the month (the 2025 reform not applied to its residences): its lines are then computed."""
    from vitreem.places.models import Level, version_on
    from vitreem.stats.rollups import figures

    today = _today()
    month = month_of(today)
    ids = payroll_communes(user=user, month=month)
    communes = AdminUnit.objects.filter(level=Level.COMMUNE)
    if ids is not None:
        communes = communes.filter(pk__in_ids=ids)  # a province's ~400 communes: one array parameter
    current = list(communes.filter(version=version_on(today)))
    codes = ["allowance_monthly_cost", "allowance_payroll_lines"]
    rows = figures(units=current, days=[today], codes=codes, updating=updating) if current else {}
    total = sum(v["allowance_monthly_cost"] for v in rows.values())
    lines = sum(v["allowance_payroll_lines"] for v in rows.values())
    other = set(communes.exclude(version=version_on(today)).values_list("pk", flat=True))
    if other and _anyone_lives_in(other, month):
        rest = payroll_compute(month=month, commune_ids=frozenset(other))
        total, lines = total + rest.total, lines + rest.recipients
    return {"total": total, "recipients": lines}


def _anyone_lives_in(unit_ids: set[int], day: dt.date) -> bool:
    """Whether a residence in one of `unit_ids` covers `day` (`registry.rules.covers`).

    Asked commune by commune, an open residence or one ending on or after `day`: two seeks per commune,
    in the open residences' index (registry/0015) and the residences' (unit, end) index, 1.1–1.3 ms for
    the province's 272 legacy communes where nobody lives since the reform (EXPLAIN ANALYZE, 500,000
    residences; 10 ms when PostgreSQL answered the open branch from the (unit, start, end) index). One query over all the communes let
    the planner, which expects a match (it assumes a commune's residences end like anyone's), stop at
    "the first row" of a scan: with the OR of the two it read the 247,000 residences the communes ever
    had (48–64 ms); without the OR, for one commune's three legacy units, every residence (31 ms).
    A correlated EXISTS per commune has no such scan to choose."""
    lived = Residence.objects.filter(unit=OuterRef("pk"), start__lte=day)
    return AdminUnit.objects.filter(pk__in_ids=unit_ids).filter(
        Exists(lived.filter(end__isnull=True)) | Exists(lived.filter(end__gte=day))).exists()


def payroll_months(*, user: User, unit: AdminUnit | None = None) -> list[dict[str, Any]]:
    """Months with their lock state for the payroll index (from 07/2021 to this month)."""
    from .models import Payroll
    from .rules import PROGRAMME_START

    ids = payroll_communes(user=user, month=month_of(_today()), unit=unit)
    qs = Payroll.objects.all() if ids is None else scope_filter(Payroll.objects.all(), user)
    locked = {row["month"]: row for row in qs.values("month").annotate(
        n=_count("pk"), total=_sum("total"), recipients=_sum("recipients"))}
    return [{"month": m, "locked_units": locked.get(m, {}).get("n", 0), "total": locked.get(m, {}).get("total"),
             "recipients": locked.get(m, {}).get("recipients")}
            for m in reversed(months_between(PROGRAMME_START, month_of(_today())))]


def _count(name: str):
    from django.db.models import Count

    return Count(name)


def _sum(name: str):
    from django.db.models import Sum

    return Sum(name)


# ---------------------------------------------------------------- budget forecast

@dataclass
class BudgetRow:
    unit: AdminUnit
    district: str
    recipients: int = 0
    ageing_out: int = 0
    current_cost: int = 0
    new_expected: float = 0.0
    new_cost: int = 0

    @property
    def total(self) -> int:
        return self.current_cost + self.new_cost


def budget_forecast(*, user: User, year: int, unit: AdminUnit | None = None) -> dict[str, Any]:
    """Next year's cost per commune (and district): today's recipients month by month (ageing out
    by the month rule, coefficients by age), plus new recipients at the rate of the last 12 months'
    enrolments, paid on average for half the year; the base level is the one in force in each month,
    or the latest known one for months no level has been set for yet."""
    from django.db.models import Count

    rules = RuleBook.load()
    today = _today()
    recipients = list(recipients_for_user(user=user, status=AllowanceStatus.ACTIVE, unit=unit)
                      .select_related("child__unit__parent").prefetch_related("periods", "children"))
    for a in recipients:
        a._periods = list(a.periods.all())  # type: ignore[attr-defined]
        a._children = list(a.children.all())  # type: ignore[attr-defined]
    since = today - dt.timedelta(days=365)
    new_by_unit = dict(decisions_for_user(user=user, kind=DecisionKind.ENROL).filter(decided_on__gt=since)
                       .values_list("allowance__child__unit").annotate(n=Count("pk")))
    units = {a.child.unit_id: a.child.unit for a in recipients}
    for u in AdminUnit.objects.filter(pk__in=new_by_unit).select_related("parent"):
        units.setdefault(u.pk, u)
    calc = _Calc(rules, {pk: u.province_code for pk, u in units.items()})
    latest = max((b.amount for b in rules.bases if b.unit_id is None), default=0)
    months = months_between(dt.date(year, 1, 1), dt.date(year, 12, 1))
    rows: dict[int, BudgetRow] = {}

    def row_for(u: AdminUnit) -> BudgetRow:
        district = u.parent.name if u.parent and u.parent.level == "district" else ""
        return rows.setdefault(u.pk, BudgetRow(unit=u, district=district))

    for a in recipients:
        r = row_for(a.child.unit)
        r.recipients += 1
        paid_months = 0
        for m in months:
            if rules.base_for(m, strict=False) is not None:
                due = calc.due(a, m, a.child.unit_id)
                amount = due.amount if due else None
            else:
                amount = _due_latest(calc, a, m, latest)
            if amount is not None:
                r.current_cost += amount
                paid_months += 1
        if paid_months < 12:
            r.ageing_out += 1
    for unit_id, n in new_by_unit.items():
        if unit_id not in units:
            continue
        r = row_for(units[unit_id])
        monthly = r.current_cost // max(1, r.recipients * 12) if r.recipients else int(latest * 1.5)
        rate = n / 12
        r.new_expected = round(rate * 12, 1)
        # New recipients arrive through the year: the k-th month's arrivals are paid 12 - k + 1 months.
        r.new_cost = int(rate * 78 * monthly)
    ordered = sorted(rows.values(), key=lambda r: (r.district, r.unit.code))
    districts: dict[str, dict[str, int]] = {}
    for r in ordered:
        d = districts.setdefault(r.district or "—", {"recipients": 0, "current_cost": 0, "new_cost": 0, "total": 0})
        d["recipients"] += r.recipients
        d["current_cost"] += r.current_cost
        d["new_cost"] += r.new_cost
        d["total"] += r.total
    return {"year": year, "rows": ordered, "districts": districts, "base_level": latest,
            "total": sum(r.total for r in ordered)}


def _latest_month(rules: RuleBook) -> dt.date:
    return max(b.valid_from for b in rules.bases)


def _due_latest(calc: _Calc, allowance: Allowance, month: dt.date, latest: int) -> int | None:
    """Due in a future month with no base level set yet: the coefficient then × the latest base."""
    from .rules import amount_of

    child = allowance.child
    periods = allowance._periods  # type: ignore[attr-defined]
    if not periods:
        return None
    group = calc.rules.groups[periods[-1].group_id]
    latest_month = _latest_month(calc.rules)
    value = calc.rules.coefficient_in_month(group.pk, child.birth_date, month, rules_month=latest_month)
    if value is None and group.continues_as_id and child.schooling == "in_school":
        value = calc.rules.coefficient_in_month(group.continues_as_id, child.birth_date, month,
                                                rules_month=latest_month)
    return amount_of(value, latest) if value is not None else None

