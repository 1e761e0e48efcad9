"""Demo benefits: the province's monthly allowances for children, 07/2021 to now.

`vitreem stats --year 2022 --json` gives `allowance_recipients` = ctx.scaled(1865) (1,865 at the
default 200,000 children): that many demo children who were in special circumstances and eligible
on 31/12/2022 are enrolled by decisions signed between 07/2021 and 12/2022. Others are enrolled
after 2022 (new episodes, and a few eligible children of 2022 decided late), some eligible children
are left for the communes to act on, and recipients are stopped when they age out, die or leave.
Every month from 07/2021 to last month has a locked (paid) payroll in every commune, lines included;
this month stays open. Amounts come from the same rule code as the payroll screen.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from vitreem.core.audit import audit_changes_bulk
from vitreem.core.bulk import insert_rows, next_ids, reset_sequences
from vitreem.core.models import AuditEntry
from vitreem.places.models import REFORM_DATE, UnitSuccession
from vitreem.places.selectors import communes_under, province_code_of
from vitreem.registry.models import Child, Disability, Residence, SpecialEpisode
from vitreem.registry.rules import q_child_on, q_special_on

from .models import (
    Allowance,
    AllowancePeriod,
    AllowanceStatus,
    Decision,
    DecisionKind,
    DifficultArea,
    LineKind,
    PaidLine,
    Payroll,
    StopReason,
)
from .payroll import _Calc
from .rules import (
    DISABILITY_GROUPS,
    HIV_CODE,
    NO_NURTURE_CODES,
    PROGRAMME_START,
    Facts,
    RuleBook,
    age_on,
    best_group,
    check_group,
    deciding_authority,
    difficult_areas_on,
    facts_load,
    last_month_before_age,
    month_add,
    month_of,
    months_between,
)
from .selectors import AUTO_GROUPS

CENSUS_DAY = dt.date(2022, 12, 31)
LIST_FROM = dt.date(2021, 6, 4)
REFORM_EVE = dt.date(2025, 6, 30)
COMMUNE_LIST = "Quyết định 861/QĐ-TTg ngày 04/6/2021 (xã khu vực III)"
VILLAGE_LIST = "Quyết định 612/QĐ-UBDT ngày 16/9/2021 (thôn đặc biệt khó khăn)"
AFTER_REFORM = "Danh sách của tỉnh theo đơn vị hành chính cấp xã từ 01/7/2025 (dữ liệu mẫu)"
TARGET_2022 = 1_865  # "1,865 children in special circumstances receive the monthly social allowance"
UNDER3 = "under3_difficult_area"
# The 1,865 of 2022 are children in special circumstances: the Art. 5(7) group (under 3 in an extremely
# difficult commune or village) is enrolled in the demo from 2023 on, so that figure stays as it was.
SPECIAL_GROUPS_2022 = tuple(g for g in AUTO_GROUPS if g != UNDER3)
# Share of the legacy communes on the list of extremely difficult communes (region III, Decision
# 861/QĐ-TTg of 04/6/2021): about 3 in 10 communes, as in a Central Highlands province.
DIFFICULT_SHARE = 0.3
DIFFICULT_VILLAGES = ("Làng Plei Rơ Wăk", "Thôn Kon Klốc")  # villages on the list (Decision 612/QĐ-UBDT)


def _rand_day(rng, lo: dt.date, hi: dt.date) -> dt.date:
    return lo + dt.timedelta(days=rng.randint(0, max(0, (hi - lo).days)))


def seed(ctx) -> str:  # noqa: C901, PLR0915 — one story, read top to bottom
    rng = ctx.rng("benefits")
    rules = RuleBook.load()
    today = timezone.localdate()
    this_month = month_of(today)
    target = ctx.scaled(TARGET_2022)
    relevant = Q(Exists(SpecialEpisode.objects.filter(child=OuterRef("pk"),
                                                      group__code__in=[*NO_NURTURE_CODES, HIV_CODE]))) | Q(
        disability__in=[Disability.SEVERE, Disability.PARTICULARLY_SEVERE])

    # ---- who was eligible (and in special circumstances) on the census day
    census_kids = list(Child.objects.filter(relevant, q_child_on(CENSUS_DAY), q_special_on(CENSUS_DAY),
                                            source="demo").order_by("pk"))
    facts = facts_load(census_kids, day=CENSUS_DAY)
    eligible = []
    for c in census_kids:
        f = facts[c.pk]
        if best_group([check_group(g, f) for g in SPECIAL_GROUPS_2022], rules, f, month_of(CENSUS_DAY)):
            eligible.append(c)
    rng.shuffle(eligible)
    chosen, leftover = eligible[:target], eligible[target:]
    shortfall = max(0, target - len(chosen))

    plans: list[dict] = []  # child, decided_on, group code

    def plan(child: Child, f: Facts, lo: dt.date, hi: dt.date) -> None:
        day = _rand_day(rng, lo, hi)
        at = Facts(child=child, day=day, age=age_on(child.birth_date, day), episodes=f.episodes, poverty=f.poverty,
                   schooling=child.schooling, disability=child.disability)
        best = best_group([check_group(g, at) for g in SPECIAL_GROUPS_2022], rules, at, month_of(day))
        if best is None:  # not yet eligible that early: decide on the census day's month instead
            day = hi
            at.day, at.age = day, age_on(child.birth_date, day)
            best = best_group([check_group(g, at) for g in SPECIAL_GROUPS_2022], rules, at, month_of(day))
        if best is not None:
            plans.append({"child": child, "decided_on": day, "group": best.group})

    for c in chosen:
        f = facts[c.pk]
        starts = [e[2] for e in f.episodes if e[2] <= CENSUS_DAY and (e[3] is None or e[3] >= CENSUS_DAY)]
        lo = max([PROGRAMME_START, c.birth_date, *starts])
        # HIV in a poor household is checked against the poverty list of the decision's year.
        lo = max(lo, dt.date(2022, 1, 1)) if f.episode_on([HIV_CODE]) else lo
        plan(c, f, lo, CENSUS_DAY)
    counted = len(plans)
    # A few eligible children of 2022 decided late (2023), and new cases after 2022; some left undecided.
    for c in leftover[: len(leftover) // 2]:
        f = facts[c.pk]
        plan(c, f, dt.date(2023, 1, 3), dt.date(2023, 6, 30))
    later = list(Child.objects.filter(relevant, source="demo", ended_on__isnull=True)
                 .filter(Exists(SpecialEpisode.objects.filter(child=OuterRef("pk"), start__gt=CENSUS_DAY)))
                 .exclude(pk__in=[c.pk for c in census_kids]).order_by("pk"))
    later_facts = facts_load(later, day=today)
    for c in later:
        if rng.random() > 0.7:
            continue  # left on the commune's "eligible, not enrolled" list
        f = later_facts[c.pk]
        start = min((e[2] for e in f.episodes if e[2] > CENSUS_DAY), default=None)
        if start is None or start >= today - dt.timedelta(days=20):
            continue
        hi = min(today - dt.timedelta(days=1), start + dt.timedelta(days=200))
        plan(c, f, start, hi)

    plans.extend(_under3_plans(ctx, today, taken={p["child"].pk for p in plans}))

    # ---- rows: allowances, enrolment decisions, periods, stops
    def chairman(day: dt.date) -> str:  # who signs, by the decision's date (rules.deciding_authority)
        return "Chủ tịch UBND huyện" if deciding_authority(day) == "district" else "Chủ tịch UBND xã"

    allowances = Allowance.objects.bulk_create([
        Allowance(child=p["child"], unit_id=p["child"].unit_id, source="demo") for p in plans], batch_size=2000)
    # A disabled child's certificate, issued in the decision's month: paid from that month (Art. 8(1)).
    # Its own random stream, so the other draws (and the demo's figures) stay as they were.
    certificates = ctx.rng("benefits-certificates")

    def certified(p: dict) -> dt.date | None:
        return (_rand_day(certificates, p["decided_on"].replace(day=1), p["decided_on"])
                if p["group"] in DISABILITY_GROUPS else None)

    decisions = Decision.objects.bulk_create([
        Decision(allowance=a, kind=DecisionKind.ENROL, number=f"{i + 1}/QĐ-UBND", decided_on=p["decided_on"],
                 signed_by=chairman(p["decided_on"]), group=rules.groups_by_code[p["group"]], effective_month=month_of(p["decided_on"]),
                 unit_id=p["child"].unit_id, disability_certified_on=certified(p))
        for i, (a, p) in enumerate(zip(allowances, plans, strict=True))],
        batch_size=2000)
    periods = AllowancePeriod.objects.bulk_create([
        AllowancePeriod(allowance=a, group=d.group, start=d.effective_month, decision=d)
        for a, d in zip(allowances, decisions, strict=True)], batch_size=2000)

    stops: list[Decision] = []
    stopped: list[Allowance] = []
    ended_periods: list[AllowancePeriod] = []
    for a, period in zip(allowances, periods, strict=True):
        child = a.child
        group = period.group
        last, reason = None, ""
        if child.ended_on:
            last, reason = month_of(child.ended_on), (StopReason.DIED if child.end_reason == "died"
                                                      else StopReason.MOVED_OUT)
        age_limit = 22 if (group.continues_as_id or group.code == "no_nurture_student") and \
            child.schooling == "in_school" else 3 if group.code == UNDER3 else 16
        # A disabled child carries on at 16 at the adult coefficient (Art. 6(1)(e)): no stop for age.
        aged = None if group.code in DISABILITY_GROUPS else last_month_before_age(child.birth_date, age_limit)
        if aged is not None and (last is None or aged < last):
            last, reason = aged, {22: StopReason.AGED_22, 3: StopReason.AGED_3}.get(age_limit, StopReason.AGED_16)
        if last is None or last >= month_add(this_month, -1) or last < period.start:
            continue
        decided = min(today, month_add(last, 1) + dt.timedelta(days=rng.randint(2, 20)))
        stops.append(Decision(allowance=a, kind=DecisionKind.STOP, number=f"{len(decisions) + len(stops) + 1}/QĐ-UBND",
                              decided_on=decided, signed_by=chairman(decided), effective_month=month_add(last, 1),
                              reason=reason, unit_id=a.unit_id))
        a.status, a.stop_reason = AllowanceStatus.STOPPED, reason
        a.transfer_to = "Ngoài tỉnh" if reason == StopReason.MOVED_OUT else ""
        period.end = last
        stopped.append(a)
        ended_periods.append(period)
    Decision.objects.bulk_create(stops, batch_size=2000)
    Allowance.objects.bulk_update(stopped, ["status", "stop_reason", "transfer_to"], batch_size=2000)
    AllowancePeriod.objects.bulk_update(ended_periods, ["end"], batch_size=2000)
    actor = ctx.users.get("province")
    audit_changes_bulk([
        AuditEntry(actor=actor, kind=AuditEntry.Kind.CHANGE, action="benefits.enrol", object_type="benefits.allowance",
                   object_id=str(a.pk), unit_id=a.unit_id, source="demo",
                   changes={"child": a.child_id, "group": p["group"], "number": d.number, "decided_on": d.decided_on})
        for a, d, p in zip(allowances, decisions, plans, strict=True)])

    # ---- locked payrolls for every month up to last month, in every commune of the province
    last_locked = month_add(this_month, -1)
    months = months_between(PROGRAMME_START, last_locked)
    communes = {v: list(communes_under(unit)) for v, unit in (("legacy", ctx.province), ("2025", ctx.province_2025))}
    history: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for child_id, unit_id, start, end in Residence.objects.filter(
            child_id__in=[a.child_id for a in allowances]).values_list("child_id", "unit_id", "start", "end"):
        history[child_id].append((unit_id, start, end))
    province_of = {u.pk: u.province_code for units in communes.values() for u in units}
    calc = _Calc(rules, province_of)
    by_allowance: dict[int, list[AllowancePeriod]] = defaultdict(list)
    for p in periods:
        by_allowance[p.allowance_id].append(p)
    for a in allowances:
        a._periods = by_allowance[a.pk]  # type: ignore[attr-defined]
    keys = [(u.pk, m) for m in months for u in communes["2025" if m >= dt.date(2025, 7, 1) else "legacy"]]
    ids = dict(zip(keys, next_ids(Payroll, len(keys)), strict=True))
    totals: dict[tuple[int, dt.date], list[int]] = defaultdict(lambda: [0, 0])
    lines: list[tuple] = []
    for a in allowances:
        first = max(a._periods[0].start, PROGRAMME_START)  # type: ignore[attr-defined]
        for m in months_between(first, last_locked):
            where = next((u for u, s, e in history[a.child_id] if s <= m and (e is None or e >= m)), None)
            if where is None or (where, m) not in ids:
                continue
            due = calc.due(a, m, where)
            if due is None:
                continue
            lines.append((ids[(where, m)], a.pk, a.child_id, m, LineKind.REGULAR,
                          rules.groups[due.group_id].code, due.coefficient, due.base, due.amount, ""))
            t = totals[(where, m)]
            t[0] += 1
            t[1] += due.amount
    now = timezone.now()
    insert_rows(Payroll, ["id", "unit_id", "month", "status", "base_level", "recipients", "total", "arrears",
                          "adjustments", "locked_by_id", "locked_at"],
                ((ids[k], k[0], k[1], "locked", rules.base_for(k[1]) or 0, totals[k][0] if k in totals else 0,
                  totals[k][1] if k in totals else 0, 0, 0, getattr(actor, "pk", None), now) for k in keys))
    reset_sequences(Payroll)
    # The child's province code (places/fields.py): the demo province's children are all in 51.
    pc = province_code_of(ctx.province.pk)
    insert_rows(PaidLine, ["payroll_id", "allowance_id", "child_id", "for_month", "kind", "group_code", "coefficient",
                           "base_level", "amount", "note", "province_code"], ((*line, pc) for line in lines))
    note = f"; only {len(chosen)} eligible demo children for the 2022 target {target}" if shortfall else ""
    return (f"{len(allowances):,} allowances ({counted:,} active on {CENSUS_DAY:%d/%m/%Y}), {len(stops):,} stops, "
            f"{len(keys):,} locked payrolls {months[0]:%m/%Y}–{last_locked:%m/%Y} with {len(lines):,} lines{note}")


def _difficult_areas_seed(ctx, rng) -> None:
    """The province's list of extremely difficult communes and villages: whole legacy communes (region III)
    and two villages elsewhere until 30/6/2025; from 1/7/2025 the 2025 communes most of whose predecessors
    were on it (demo data: the list after the reorganisation is the province's to load)."""
    communes = sorted(communes_under(ctx.province), key=lambda u: u.code)
    marked = {u.pk for u in communes if rng.random() < DIFFICULT_SHARE}
    rows = [DifficultArea(unit=u, valid_from=LIST_FROM, valid_to=REFORM_EVE, legal_basis=COMMUNE_LIST)
            for u in communes if u.pk in marked]
    rows += [DifficultArea(unit=u, village=v, valid_from=LIST_FROM, valid_to=REFORM_EVE, legal_basis=VILLAGE_LIST)
             for u in communes if u.pk not in marked for v in DIFFICULT_VILLAGES if rng.random() < 0.5]
    predecessors: dict[int, list[int]] = defaultdict(list)
    for old, new in UnitSuccession.objects.filter(old_id__in=[u.pk for u in communes]).values_list("old_id", "new_id"):
        predecessors[new].append(old)
    rows += [DifficultArea(unit_id=new, valid_from=REFORM_DATE, legal_basis=AFTER_REFORM)
             for new, olds in sorted(predecessors.items()) if sum(o in marked for o in olds) * 2 > len(olds)]
    DifficultArea.objects.bulk_create(rows)


def _under3_plans(ctx, today: dt.date, *, taken: set[int]) -> list[dict]:
    """Children under 3 of poor and near-poor households in the listed communes and villages, enrolled
    by decisions from 2023 on (Art. 5(7)); a share is left for the communes to act on. Their own random
    streams, so the other draws (and the demo's figures of 2022) stay as they were."""
    rng = ctx.rng("benefits-under3")
    _difficult_areas_seed(ctx, ctx.rng("benefits-difficult-areas"))
    plans: list[dict] = []  # children already planned in another group (`taken`) are left out
    day = dt.date(2023, 1, 16)
    while day < today - dt.timedelta(days=20):
        whole, villages = difficult_areas_on(day)
        listed = Residence.objects.filter(child=OuterRef("pk"), unit_id__in=whole | {u for u, _v in villages},
                                          start__lte=day).filter(Q(end__isnull=True) | Q(end__gte=day))
        kids = [c for c in Child.objects.filter(q_child_on(day), Exists(listed), source="demo",
                                                birth_date__gt=day.replace(year=day.year - 3, day=1)).order_by("pk")
                if c.pk not in taken]
        facts = facts_load(kids, day=day)
        for c in kids:
            if check_group(UNDER3, facts[c.pk]).ok and rng.random() < 0.5:
                plans.append({"child": c, "decided_on": min(today, day + dt.timedelta(days=rng.randint(0, 40))),
                              "group": UNDER3})
                taken.add(c.pk)
        day = month_add(day, 6)
    return plans
