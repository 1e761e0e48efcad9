"""Drawing up a month's payroll: the amounts due, the arrears and the adjustments.

A payroll is computed, not stored, until it is locked (paid). Locking keeps a snapshot of its lines
(`PaidLine`); from then on that month is shown from the snapshot and never recomputed. A later
decision that changes what a paid month should have been (a late enrolment with arrears, a change
of group, a stop back-dated to a death) shows up as a line of the next open month:

- *arrears* (truy lĩnh): a paid month in which the person was due something but got nothing;
- *adjustment* (điều chỉnh): a paid month in which the person got a different amount than due
  (negative = to recover), and manual corrections recorded with `payroll_adjust`.

Only months already locked are reconciled: an open earlier month is paid by its own payroll.
The number of queries does not depend on the number of recipients (about a dozen).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils.translation import gettext as _

from vitreem.core.errors import DomainError
from vitreem.places.models import AdminUnit
from vitreem.registry.models import Child, Residence, Schooling
from vitreem.registry.rules import covers

from .models import (
    Adjustment,
    Allowance,
    AllowanceChild,
    AllowancePeriod,
    Decision,
    LineKind,
    PaidLine,
    Payroll,
    RuleChange,
)
from .rules import (
    PROGRAMME_START,
    RuleBook,
    age_for_month,
    amount_of,
    month_label,
    month_of,
)

# Kept on a paid line reconciled because the rules' reading was corrected (a record, in Vietnamese).
RULE_CHANGE_NOTE = "Điều chỉnh do sửa cách áp dụng quy định"


@dataclass
class Due:
    group_id: int
    coefficient: Decimal
    base: int
    amount: int


@dataclass
class Line:
    allowance_id: int
    child_id: int
    name: str
    birth_date: dt.date
    unit_id: int
    group_code: str = ""
    group_name: str = ""
    coefficient: Decimal | None = None
    base: int | None = None
    amount: int = 0
    arrears: int = 0
    adjustment: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.amount + self.arrears + self.adjustment


@dataclass
class UnitTotal:
    unit: AdminUnit
    recipients: int = 0
    amount: int = 0
    arrears: int = 0
    adjustment: int = 0
    locked: bool = False

    @property
    def total(self) -> int:
        return self.amount + self.arrears + self.adjustment


@dataclass
class PayrollResult:
    month: dt.date
    base_level: int
    lines: list[Line]
    by_unit: list[UnitTotal]

    @property
    def recipients(self) -> int:
        return len(self.lines)

    @property
    def amount(self) -> int:
        return sum(line.amount for line in self.lines)

    @property
    def arrears(self) -> int:
        return sum(line.arrears for line in self.lines)

    @property
    def adjustment(self) -> int:
        return sum(line.adjustment for line in self.lines)

    @property
    def total(self) -> int:
        return sum(line.total for line in self.lines)

    @property
    def locked(self) -> bool:
        return bool(self.by_unit) and all(u.locked for u in self.by_unit)

    def as_json(self) -> dict[str, Any]:
        """The shape `vitreem payroll --json` prints (integer VND)."""
        return {
            "month": f"{self.month:%Y-%m}",
            "base_level": self.base_level,
            "recipients": self.recipients,
            "amount": self.amount,
            "arrears": self.arrears,
            "adjustments": self.adjustment,
            "total": self.total,
            "locked": self.locked,
            "by_unit": [{"unit": u.unit.ref, "name": u.unit.name, "recipients": u.recipients, "total": u.total,
                         "arrears": u.arrears, "locked": u.locked} for u in self.by_unit if u.recipients or u.locked],
        }


class _Calc:
    """Due amounts for one allowance in any month, from its periods and the rule tables."""

    def __init__(self, rules: RuleBook, province_of: dict[int, str]):
        self.rules = rules
        self.province_of = province_of  # commune id -> province code (for a province's own base level)
        self.province_ids: dict[str, int] = {}

    def due(self, allowance: Allowance, month: dt.date, unit_id: int | None) -> Due | None:
        child = allowance.child
        if child.ended_on and month_of(child.ended_on) < month and not allowance.parent_name:
            return None  # paid through the month of death or leaving (Decree 20/2021: stops the month after)
        periods = allowance._periods  # type: ignore[attr-defined]
        period = next((p for p in periods if p.start <= month and (p.end is None or p.end >= month)), None)
        if period is None:
            return None
        group_id = period.group_id
        if allowance.parent_name:
            return self._parent_due(allowance, group_id, month, unit_id)
        value = self.rules.coefficient_in_month(group_id, child.birth_date, month)
        if value is None:
            group = self.rules.groups.get(group_id)
            nxt = group.continues_as_id if group else None
            # Decree 20/2021, Art. 5(2): a young person of the no-nurture group carries on from 16
            # to under 22 while in school.
            if nxt and child.schooling == Schooling.IN_SCHOOL:
                value = self.rules.coefficient_in_month(nxt, child.birth_date, month)
                group_id = nxt
        if value is None:
            return None
        base = self.rules.base_for(month, self._province_id(unit_id))
        assert base is not None
        return Due(group_id=group_id, coefficient=value, base=base, amount=amount_of(value, base))

    def _parent_due(self, allowance: Allowance, group_id: int, month: dt.date, unit_id: int | None) -> Due | None:
        """A single parent's allowance (Art. 5(4), 6(1)(d)): the coefficient for each child still raised
        in `month` — under 16, or 16 to under 22 in school; a child who ends (age, death, leaving) counts
        through that month (Art. 8(2))."""
        raised = len([c for c in allowance._children  # type: ignore[attr-defined]
                     if not (c.ended_on and month_of(c.ended_on) < month)
                     and (age_for_month(c.birth_date, month) < 16
                          or (age_for_month(c.birth_date, month) < 22 and c.schooling == Schooling.IN_SCHOOL))])
        each = self.rules.coefficient_for(group_id, 0, month)
        if not raised or each is None:
            return None
        base = self.rules.base_for(month, self._province_id(unit_id))
        assert base is not None
        value = each * raised
        return Due(group_id=group_id, coefficient=value, base=base, amount=amount_of(value, base))

    def _province_id(self, unit_id: int | None) -> int | None:
        code = self.province_of.get(unit_id or 0)
        if code is None:
            return None
        if not self.province_ids:
            for b in self.rules.bases:
                if b.unit_id is not None:
                    self.province_ids[b.unit.province_code] = b.unit_id
        return self.province_ids.get(code)


def _residence_unit(history: list[tuple[int, dt.date, dt.date | None]], day: dt.date) -> int | None:
    for unit_id, start, end in history:
        if start <= day and (end is None or end >= day):
            return unit_id
    return None


def payroll_compute(*, month: dt.date, commune_ids: frozenset[int] | set[int] | None,
                    rules: RuleBook | None = None, use_snapshots: bool = True,
                    include_units: bool = True, snapshot_lines: bool = True,
                    assumed_changes: Sequence[tuple[dt.date, dt.datetime]] = ()) -> PayrollResult:
    """The payroll of `month` for the communes `commune_ids` (None = every commune), in three phases:
    who is paid and by which commune (`_recipients`), which paid months to reconcile (`_reconciliation`),
    then each line's amount, arrears and adjustments (`_line`) and the communes' totals.

    Locked communes are read from their snapshot; the others are computed. Raises a DomainError when
    no base level is in force for the month (a payroll is never computed on a guess).
    `assumed_changes` — (first month affected, when) of rule changes not recorded yet: the dry run of
    what a change would create (`vitreem payroll_adjustments --rules-from`).
    `snapshot_lines=False`: the locked communes' lines are left out (`payroll_totals` sums what was
    paid in the database instead of rebuilding every paid line)."""
    month = month_of(month)
    if month < PROGRAMME_START:
        raise DomainError(_("Tháng %(m)s trước ngày Nghị định 20/2021 có hiệu lực (01/7/2021).")
                          % {"m": month_label(month)}, field="month", code="bad_month")
    rules = rules or RuleBook.load()
    unit_filter = Q() if commune_ids is None else Q(unit_id__in=list(commune_ids))
    locked = {p.unit_id: p for p in Payroll.objects.filter(unit_filter, month=month)} if use_snapshots else {}
    if commune_ids is not None and locked and set(commune_ids) <= set(locked):
        who = _Who(history={}, here={}, allowances=[])  # every commune paid: the snapshots are the payroll
        changes: list[tuple[dt.date, dt.datetime]] = []  # nothing to reconcile
    else:
        # The corrections of the rules (recorded, then assumed), read once for both phases that need them.
        changes = [*RuleChange.objects.values_list("affects_from", "recorded_at"), *assumed_changes]
        who = _recipients(month, commune_ids, changes, paid_from=frozenset(locked))
    todo = [a for a in who.allowances if who.here[a.child_id] not in locked]
    rec = _reconciliation(todo, month, who, changes)
    units = {u.pk: u for u in AdminUnit.objects.filter(pk__in=set(who.here.values()) | set(locked))} \
        if include_units else {}
    calc = _Calc(rules, {pk: u.province_code for pk, u in units.items()})
    lines = [line for a in todo if (line := _line(a, month, who.here[a.child_id], calc, rec)).amount
             or line.arrears or line.adjustment]
    if locked and snapshot_lines:
        lines.extend(_snapshot_lines(list(locked.values()), rules))
    lines.sort(key=lambda ln: (units[ln.unit_id].code if ln.unit_id in units else "", ln.name, ln.allowance_id))
    return PayrollResult(month=month, base_level=rules.base_for(month) or 0, lines=lines,
                         by_unit=_totals(lines, locked, units))


@dataclass
class _Who:
    history: dict[int, list[tuple[int, dt.date, dt.date | None]]]  # child -> (commune, start, end)
    here: dict[int, int]  # child -> the commune that pays this month
    allowances: list[Allowance]


def payroll_totals(*, month: dt.date, commune_ids: frozenset[int] | set[int] | None) -> dict[int, tuple[int, int]]:
    """{commune: (total VND, number of lines)} of the payroll of `month`, equal to what the lines of
    `payroll_compute` add up to: the open communes computed, the locked ones summed in the database from
    what was paid (a line per allowance of a payroll). Rebuilding every paid line of every locked
    payroll, to add them up, was half of the statistics' fill on the demo province."""
    out: dict[int, tuple[int, int]] = {}
    for line in payroll_compute(month=month, commune_ids=commune_ids, snapshot_lines=False).lines:
        total, lines = out.get(line.unit_id, (0, 0))
        out[line.unit_id] = (total + line.total, lines + 1)
    paid = PaidLine.objects.filter(payroll__month=month_of(month))
    if commune_ids is not None:
        paid = paid.filter(payroll__unit_id__in=list(commune_ids))
    for unit_id, total, lines in (paid.values("payroll__unit_id").annotate(t=Sum("amount"),
                                                                           n=Count("allowance_id", distinct=True))
                                  .values_list("payroll__unit_id", "t", "n")):
        out[unit_id] = (total, lines)
    return out


def _recipients(month: dt.date, commune_ids: frozenset[int] | set[int] | None,
                changes: Sequence[tuple[dt.date, dt.datetime]], *, paid_from: frozenset[int] = frozenset()
                ) -> _Who:
    """People with an allowance begun by this month, paid by the commune they lived in on the 1st of the
    month (moves and the 2025 reform follow). Driven from the (few) allowances, not the (many) residences.

    Only the allowances this payroll can owe something to are read: those paid this month, and those a
    paid month may need reconciling for (`_reconciliation`: changed since the earliest lock, an unsettled
    manual correction, or running in a month a pending rule correction affects). The others — stopped
    long ago and unchanged, most of them once under-3s age out — cost nothing."""
    payable = Allowance.objects.filter(periods__start__lte=month).filter(_may_owe(month, changes))
    few = commune_ids is not None and len(commune_ids) <= 200  # a commune's figures, its payroll page
    if few:
        payable = payable.filter(child__residences__unit_id__in_ids=commune_ids)
    if paid_from:
        # Who lives on the 1st in a commune whose payroll is locked is paid from its snapshot: not read.
        payable = payable.exclude(Exists(Residence.objects.filter(
            covers(month), child=OuterRef("child"), unit_id__in=list(paid_from))))
    if few:
        # The allowances read once and their ids passed on (one array parameter each), rather than the
        # same join of the communes' residences run twice as subqueries.
        pairs = set(payable.values_list("pk", "child_id"))
        residences = Residence.objects.filter(child_id__in_ids={child for _pk, child in pairs})
    else:
        residences = Residence.objects.filter(child_id__in=Subquery(payable.values("child_id")))
    history: dict[int, list[tuple[int, dt.date, dt.date | None]]] = defaultdict(list)
    for child_id, unit_id, start, end in residences.values_list("child_id", "unit_id", "start", "end"):
        history[child_id].append((unit_id, start, end))
    here: dict[int, int] = {}
    for child_id, rows in history.items():
        where = _residence_unit(rows, month)
        if where is not None and (commune_ids is None or where in commune_ids):
            here[child_id] = where
    chosen = (Allowance.objects.filter(pk__in_ids={pk for pk, child in pairs if child in here}) if few
              else Allowance.objects.filter(pk__in=Subquery(payable.values("pk"))))
    allowances = [a for a in chosen.select_related("child").prefetch_related("periods") if a.child_id in here]
    # The children a single parent raises (Art. 5(4)): read for those allowances only.
    raised: dict[int, list[Any]] = defaultdict(list)
    parents = [a.pk for a in allowances if a.parent_name]
    if parents:
        for link in AllowanceChild.objects.filter(allowance_id__in=parents).select_related("child"):
            raised[link.allowance_id].append(link.child)
    for a in allowances:
        a._periods = list(a.periods.all())  # type: ignore[attr-defined]
        a._children = raised.get(a.pk, [])  # type: ignore[attr-defined]
    return _Who(history=history, here=here, allowances=allowances)


def _may_owe(month: dt.date, changes: Sequence[tuple[dt.date, dt.datetime]]) -> Q:
    """Allowances the payroll of `month` can owe something to (see `_recipients`); `changes`: the
    corrections of the rules, (first month affected, when recorded)."""
    open_end = Q(end__isnull=True)
    may = Q(Exists(AllowancePeriod.objects.filter(allowance=OuterRef("pk"), start__lte=month)
                   .filter(open_end | Q(end__gte=month))))
    earliest_lock = Payroll.objects.filter(month__lt=month).aggregate(t=Min("locked_at"))["t"]
    if earliest_lock is None:
        return may  # nothing paid yet: nothing to reconcile
    # The child's change as an EXISTS, not a join: joined, PostgreSQL hashed the whole register of
    # children for it (254,000 rows, 190 ms of a locked month's 250 ms on the demo province).
    may |= (Q(created_at__gt=earliest_lock)
            | Q(Exists(Child.objects.filter(pk=OuterRef("child_id"), updated_at__gt=earliest_lock)))
            | Q(Exists(Decision.objects.filter(allowance=OuterRef("pk"), created_at__gt=earliest_lock)))
            | Q(Exists(Adjustment.objects.filter(allowance=OuterRef("pk"), settled_in__isnull=True,
                                                 for_month__lt=month))))
    pending = [affects for affects, at in changes if at > earliest_lock]
    if pending:
        may |= Q(Exists(AllowancePeriod.objects.filter(allowance=OuterRef("pk")).filter(
            open_end | Q(end__gte=min(pending)))))
    return may


@dataclass
class _Reconcile:
    recheck: dict[int, list[tuple[dt.date, int, str]]] = field(default_factory=dict)  # (month, commune, cause)
    paid: dict[tuple[int, dt.date], int] = field(default_factory=dict)  # what each locked month paid
    manual: dict[int, list[Adjustment]] = field(default_factory=lambda: defaultdict(list))


def _reconciliation(todo: list[Allowance], month: dt.date, who: _Who,
                    changes: Sequence[tuple[dt.date, dt.datetime]]) -> _Reconcile:
    """Which paid months of each allowance to recompute. A paid month needs reconciling only if something
    about the person changed after it was locked (a decision, the child's record) — cause "person" — or a
    correction of the rules was recorded after it was locked (RuleChange) and the commune has not locked a
    payroll since, which would have paid the difference — cause "rule". The rule tables themselves cannot
    change for paid months (services refuse). Unsettled manual corrections are carried too."""
    rec = _Reconcile()
    if not todo:
        return rec
    ids = [a.pk for a in todo]
    # The locks of the communes these people lived in, not the country's: a refresh of a few communes
    # read every locked payroll of every commune (6,500 rows on the demo, 215,000 on a country) for each
    # computation. Only those communes' locks enter the loop below; the earliest of them is a bound as
    # safe as the earliest anywhere (a person changed before all of their own communes' locks has no
    # paid month to recheck).
    units = {u for a in todo for u, _start, _end in who.history.get(a.child_id, ())}
    locks = Payroll.objects.filter(month__lt=month)
    if len(units) <= 200:
        locks = locks.filter(unit_id__in=sorted(units))
    locked_at = {(u, m): t for u, m, t in locks.values_list("unit_id", "month", "locked_at")}
    stamps = dict(Decision.objects.filter(allowance_id__in=ids).values("allowance_id")
                  .annotate(t=Max("created_at")).values_list("allowance_id", "t"))
    for adj in Adjustment.objects.filter(allowance_id__in=ids, settled_in__isnull=True, for_month__lt=month):
        rec.manual[adj.allowance_id].append(adj)
    earliest_lock = min(locked_at.values(), default=None)
    if earliest_lock is None:
        return rec
    last_lock: dict[int, dt.datetime] = {}
    for (unit_locked, _m), when_locked in locked_at.items():
        last_lock[unit_locked] = max(when_locked, last_lock.get(unit_locked, when_locked))
    for a in todo:
        stamp = max(t for t in (stamps.get(a.pk), a.created_at, a.child.updated_at) if t is not None)
        since = last_lock.get(who.here[a.child_id])
        pending = [(affects, at) for affects, at in changes if since is None or since < at]
        if stamp <= earliest_lock and not pending:
            continue
        periods = a._periods  # type: ignore[attr-defined]
        m = max(min(p.start for p in periods), PROGRAMME_START) if periods else month
        first_affected = min((affects for affects, _at in pending), default=month)
        while m < month:
            past_unit = _residence_unit(who.history[a.child_id], m)
            when = locked_at.get((past_unit, m)) if past_unit is not None else None
            if when is not None:
                if stamp > when:
                    rec.recheck.setdefault(a.pk, []).append((m, past_unit, "person"))  # type: ignore[arg-type]
                # A rule correction changes only months the allowance ran in (no period: nothing due either way).
                elif (m >= first_affected and any(affects <= m and at > when for affects, at in pending)
                      and any(p.start <= m and (p.end is None or p.end >= m) for p in periods)):
                    rec.recheck.setdefault(a.pk, []).append((m, past_unit, "rule"))  # type: ignore[arg-type]
            m = _next(m)
    if rec.recheck:
        # Manual corrections are outside the rule: they do not count as "paid" for reconciliation.
        rec.paid = {(row["allowance_id"], row["for_month"]): int(row["s"])
                    for row in PaidLine.objects.filter(allowance_id__in=list(rec.recheck), for_month__lt=month)
                    .exclude(kind=LineKind.MANUAL).values("allowance_id", "for_month").annotate(s=Sum("amount"))}
    return rec


def _line(a: Allowance, month: dt.date, unit_id: int, calc: _Calc, rec: _Reconcile) -> Line:
    """One recipient's line: the month's amount, then arrears and adjustments of the paid months."""
    groups = calc.rules.groups
    line = Line(allowance_id=a.pk, child_id=a.child_id, name=a.recipient_name, birth_date=a.child.birth_date,
                unit_id=unit_id)
    due = calc.due(a, month, unit_id)
    if due is not None:
        group = groups[due.group_id]
        line.group_code, line.group_name = group.code, group.name
        line.coefficient, line.base, line.amount = due.coefficient, due.base, due.amount
    for m, past_unit, cause in rec.recheck.get(a.pk, ()):
        past = calc.due(a, m, past_unit)
        owed = (past.amount if past else 0) - rec.paid.get((a.pk, m), 0)
        if not owed:
            continue
        kind = LineKind.ARREARS if (a.pk, m) not in rec.paid and owed > 0 else LineKind.ADJUSTMENT
        if kind == LineKind.ARREARS:
            line.arrears += owed
        else:
            line.adjustment += owed
        line.details.append({"for_month": m, "kind": kind, "amount": owed, "cause": cause,
                             "note": RULE_CHANGE_NOTE if cause == "rule" else "",
                             "coefficient": past.coefficient if past else None,
                             "base": past.base if past else None,
                             "group_code": groups[past.group_id].code if past else ""})
    for adj in rec.manual.get(a.pk, ()):
        line.adjustment += adj.amount
        line.details.append({"for_month": adj.for_month, "kind": LineKind.MANUAL, "amount": adj.amount,
                             "adjustment_id": adj.pk, "note": adj.reason, "cause": "manual"})
    return line


def _totals(lines: list[Line], locked: dict[int, Payroll], units: dict[int, AdminUnit]) -> list[UnitTotal]:
    totals: dict[int, UnitTotal] = {pk: UnitTotal(unit=units[pk], locked=True) for pk in locked if pk in units}
    for ln in lines:
        if ln.unit_id not in units:
            continue
        t = totals.setdefault(ln.unit_id, UnitTotal(unit=units[ln.unit_id]))
        t.recipients += 1
        t.amount += ln.amount
        t.arrears += ln.arrears
        t.adjustment += ln.adjustment
    return sorted(totals.values(), key=lambda t: t.unit.code)


def _next(month: dt.date) -> dt.date:
    return dt.date(month.year + month.month // 12, month.month % 12 + 1, 1)


def _snapshot_lines(payrolls: list[Payroll], rules: RuleBook) -> list[Line]:
    """Lines of locked payrolls, rebuilt from what was paid (never recomputed)."""
    by_allowance: dict[tuple[int, int], Line] = {}
    unit_of = {p.pk: p.unit_id for p in payrolls}
    for pl in (PaidLine.objects.filter(payroll__in=[p.pk for p in payrolls])
               .select_related("child", "allowance").order_by("pk")):
        key = (pl.payroll_id, pl.allowance_id)
        line = by_allowance.get(key)
        if line is None:
            line = by_allowance[key] = Line(allowance_id=pl.allowance_id, child_id=pl.child_id,
                                            name=pl.allowance.parent_name or pl.child.full_name,
                                            birth_date=pl.child.birth_date, unit_id=unit_of[pl.payroll_id])
        if pl.kind == LineKind.REGULAR:
            group = rules.groups_by_code.get(pl.group_code)
            line.group_code, line.group_name = pl.group_code, group.name if group else pl.group_code
            line.coefficient, line.base, line.amount = pl.coefficient, pl.base_level, pl.amount
        else:
            if pl.kind == LineKind.ARREARS:
                line.arrears += pl.amount
            else:
                line.adjustment += pl.amount
            line.details.append({"for_month": pl.for_month, "kind": pl.kind, "amount": pl.amount,
                                 "coefficient": pl.coefficient, "base": pl.base_level, "group_code": pl.group_code,
                                 "note": pl.note})
    return list(by_allowance.values())
