"""Every read of the programme: indicator values, the evaluation of a year, completeness of reporting,
member-unit evaluations, the submission inbox. Access goes through `permissions` / `core.scope`.

Values of computed indicators come from the statistics engine (`vitreem.stats.engine.compute`), never
from stored numbers; values of reported indicators from *accepted* reports only.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from vitreem.accounts.models import MemberUnit, User
from vitreem.accounts.selectors import member_units_during
from vitreem.core.errors import NotFound
from vitreem.core.scope import scope_for
from vitreem.places.models import AdminUnit, Level

from .models import (
    MEASURE_SCALE,
    DataValue,
    Direction,
    Explanation,
    Indicator,
    Measure,
    MemberUnitEvaluation,
    Plan,
    Rating,
    ReportForm,
    Source,
    Submission,
    SubmissionStatus,
    Target,
    Task,
    TaskStatus,
    YearEvaluation,
)
from .periods import Period, periods_of_year
from .permissions import is_reporter, reads_all

FIRST_YEAR = 2021
CENT = Decimal("0.01")


class Status:
    ACHIEVED = "achieved"
    NOT_ACHIEVED = "not_achieved"
    NO_DATA = "no_data"


STATUS_LABELS = {Status.ACHIEVED: gettext_lazy("Đạt"), Status.NOT_ACHIEVED: gettext_lazy("Không đạt"),
                 Status.NO_DATA: gettext_lazy("Chưa có số liệu")}


def _q(value: Decimal | float | int | None) -> Decimal | None:
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def target_status(value: Decimal | None, target: Decimal | None, direction: str) -> str:
    """Direction-aware: with 'up' a value at or above the target is achieved, with 'down' at or below."""
    if value is None or target is None or direction not in Direction.values:
        return Status.NO_DATA
    if direction == Direction.UP:
        return Status.ACHIEVED if value >= target else Status.NOT_ACHIEVED
    return Status.ACHIEVED if value <= target else Status.NOT_ACHIEVED


def rate(numerator: Decimal | float | int | None, denominator: Decimal | float | int | None,
         measure: str) -> Decimal | None:
    """numerator / denominator × the measure's scale (100, 1.000, 100.000); without a denominator, the
    numerator itself. A zero or missing denominator gives no value (not zero)."""
    if numerator is None:
        return None
    if denominator is None:
        return _q(numerator)
    if not denominator:
        return None
    scale = MEASURE_SCALE.get(Measure(measure), Decimal(1)) if measure in Measure.values else Decimal(1)
    return _q(Decimal(str(numerator)) * scale / Decimal(str(denominator)))


# ---------------------------------------------------------------- indicator values


def _computed_values(indicators: list[Indicator], years: Iterable[int], unit: AdminUnit | None,
                     ) -> dict[str, dict[int, Decimal | None]]:
    from vitreem.stats.engine import indicators as registered
    from vitreem.stats.rollups import figures_by_year

    registry = registered()
    codes = sorted({c for i in indicators for c in (i.numerator_code, i.denominator_code) if c and c in registry})
    out: dict[str, dict[int, Decimal | None]] = defaultdict(dict)
    years = list(years)
    # Aggregates of the installation (or of `unit`, from the rollups): no child record leaves the engine.
    by_year = figures_by_year(unit=unit, years=years, codes=codes) if codes else {}
    for year in years:
        figures = by_year.get(year, {})
        for ind in indicators:
            num = figures.get(ind.numerator_code) if ind.numerator_code in registry else None
            if isinstance(num, dict):
                num = None
            if ind.denominator_code:
                den = figures.get(ind.denominator_code) if ind.denominator_code in registry else None
                out[ind.code][year] = rate(num, den, ind.measure) if num is not None and den is not None else None
            else:
                if num is not None and registry[ind.numerator_code].measure == "percent" \
                        and ind.measure == Measure.PERCENT:
                    num = Decimal(str(num)) * 100  # the engine's percent is a fraction
                out[ind.code][year] = _q(num)
    return out


def _submissions_in(unit: AdminUnit | None) -> Q:
    """Reports that count for `unit`: all of them for the installation or a province; for a district or
    commune only the communes' own reports."""
    if unit is None:
        return Q()
    from vitreem.places.selectors import descendant_ids

    ids = descendant_ids([unit])
    q = Q(submission__unit_id__in=ids)
    if unit.level == Level.PROVINCE:
        q |= Q(submission__member_unit__isnull=False)
    return q


def _reported_values(indicators: list[Indicator], years: Iterable[int], unit: AdminUnit | None,
                     ) -> dict[str, dict[int, Decimal | None]]:
    years = list(years)
    element_ids = {e for i in indicators for e in (i.numerator_element_id, i.denominator_element_id) if e}
    sums: dict[tuple[int, int], tuple[Decimal, int]] = {}
    if element_ids and years:
        rows = (DataValue.objects.filter(_submissions_in(unit), element_id__in=element_ids, category="",
                                         submission__status=SubmissionStatus.ACCEPTED,
                                         submission__period_start__year__gte=min(years),
                                         submission__period_start__year__lte=max(years))
                .values("element_id", "submission__period_start__year")
                .annotate(total=Sum("value"), n=Count("id")))
        for row in rows:
            sums[(row["element_id"], row["submission__period_start__year"])] = (row["total"], row["n"])
    out: dict[str, dict[int, Decimal | None]] = defaultdict(dict)
    computed_den = _engine_values({i.denominator_code for i in indicators
                                   if not i.denominator_element_id and i.denominator_code}, years, unit)
    for ind in indicators:
        element = ind.numerator_element
        for year in years:
            num = sums.get((ind.numerator_element_id, year)) if ind.numerator_element_id else None
            if num is None:
                out[ind.code][year] = None
                continue
            if not ind.denominator_element_id and ind.denominator_code:
                # A reported count over vitreem's own denominator (one figure, one source).
                den_value = computed_den.get(year, {}).get(ind.denominator_code)
                out[ind.code][year] = rate(num[0], den_value, ind.measure) if den_value else None
            elif ind.denominator_element_id:
                den = sums.get((ind.denominator_element_id, year))
                out[ind.code][year] = rate(num[0], den[0], ind.measure) if den else None
            elif element is not None and element.measure == Measure.PERCENT:
                # a rate reported as such (a survey result): the mean of the periods, never their sum
                out[ind.code][year] = _q(Decimal(num[0]) / num[1])
            else:
                out[ind.code][year] = _q(num[0])
    return out


def _engine_values(codes: set[str], years: Iterable[int], unit: AdminUnit | None) -> dict[int, dict[str, Any]]:
    from vitreem.stats.engine import indicators as registered
    from vitreem.stats.rollups import figures_by_year

    codes = {c for c in codes if c in registered()}
    if not codes:
        return {}
    return figures_by_year(unit=unit, years=years, codes=sorted(codes))


def _check_values(indicators: list[Indicator], years: list[int], unit: AdminUnit | None,
                  ) -> dict[str, dict[int, Decimal | None]]:
    """The member units' reported value of figures vitreem computes (the cross-check)."""
    from types import SimpleNamespace

    shadows: list[Any] = [SimpleNamespace(
        code=i.code, measure=i.measure, numerator_element=i.check_numerator_element,
        numerator_element_id=i.check_numerator_element_id, denominator_element_id=i.check_denominator_element_id,
        denominator_code="") for i in indicators if i.check_numerator_element_id]
    return _reported_values(shadows, years, unit) if shadows else {}


def indicator_values(*, indicators: Iterable[Indicator], years: Iterable[int], unit: AdminUnit | None = None,
                     ) -> dict[str, dict[int, Decimal | None]]:
    """{indicator code: {year: value or None}} in the indicator's unit of measure (percent as 0–100)."""
    indicators = list(indicators)
    years = list(years)
    values = _computed_values([i for i in indicators if i.source == Source.COMPUTED], years, unit)
    values.update(_reported_values([i for i in indicators if i.source == Source.REPORTED], years, unit))
    return {i.code: {y: values.get(i.code, {}).get(y) for y in years} for i in indicators}


def indicators_for_user(*, user: User, q: str = "") -> QuerySet[Indicator]:
    qs = Indicator.objects.filter(active=True).select_related("owner", "numerator_element__form",
                                                              "denominator_element__form")
    if q:
        qs = qs.filter(Q(name__icontains=q) | Q(code__icontains=q) | Q(name_en__icontains=q))
    return qs


def indicator_get(*, code: str) -> Indicator:
    try:
        return Indicator.objects.select_related("owner").get(code=code)
    except Indicator.DoesNotExist:
        raise NotFound(_("Không tìm thấy chỉ tiêu %(c)s.") % {"c": code}) from None


# ---------------------------------------------------------------- evaluation of a year


def _linear(points: list[tuple[int, Decimal]], at: int) -> Decimal | None:
    """Least-squares straight line through the yearly values, read at year `at` (the pace of recent years)."""
    if len(points) < 2:
        return None
    n = len(points)
    mx = sum(p[0] for p in points) / n
    my = sum(float(p[1]) for p in points) / n
    sxx = sum((p[0] - mx) ** 2 for p in points)
    if not sxx:
        return None
    slope = sum((p[0] - mx) * (float(p[1]) - my) for p in points) / sxx
    return _q(my + slope * (at - mx))


HUNDRED = Decimal(100)


def projection_for(points: list[tuple[int, Decimal]], horizon: int, goal: Decimal | None, measure: str,
                   direction: str) -> dict[str, Any]:
    """The straight-line projection of the yearly values to `horizon`, within what the measure allows:
    nothing below 0, and a share (percent) at most 100%. When the line leaves that range the trend
    cannot go on as it is: the value is capped, `meaningful` is False, and it is not judged on or off
    track (`on_track` None) — a reader is told why in `note`."""
    raw = _linear(points, horizon)
    out: dict[str, Any] = {"value": raw, "target": goal, "on_track": None, "meaningful": raw is not None,
                           "note": ""}
    if raw is None:
        out["note"] = str(_("Cần số liệu của ít nhất hai năm để dự báo."))
        return out
    ceiling = HUNDRED if measure == Measure.PERCENT else None
    if raw < 0 or (ceiling is not None and raw > ceiling):
        out["value"] = max(Decimal(0), min(raw, ceiling) if ceiling is not None else raw)
        out["meaningful"] = False
        out["note"] = str(_("Xu hướng hiện nay vượt ra ngoài giới hạn của chỉ tiêu (%(r)s): dự báo theo đường thẳng "
                            "không có ý nghĩa.") % {"r": "0–100%" if ceiling is not None else "≥ 0"})
        return out
    if goal is not None:
        out["on_track"] = target_status(raw, goal, direction) == Status.ACHIEVED
    return out


def _visible_indicators(user: User | None) -> QuerySet[Indicator]:
    qs = Indicator.objects.filter(active=True).select_related("owner", "numerator_element", "denominator_element",
                                                              "check_numerator_element__form")
    if user is not None and not reads_all(user):
        # a member-unit reporter sees the targets of the indicators their unit owns
        qs = qs.filter(owner_id__in=scope_for(user).member_unit_ids) if is_reporter(user) else qs.none()
    return qs


def evaluation_for_year(*, year: int, unit: AdminUnit | None = None, user: User | None = None,
                        with_trend: bool = True) -> dict[str, Any]:
    """The year's evaluation, as the annual report and the evaluation page use it.

    Returns {"year", "finalised", "targets": [...], "member_units": [...], "counts": {status: n}}.
    Each target row: code, name, name_en, measure, direction, source, owner (member unit code), value,
    target, gap (value − target), status ("achieved" / "not_achieved" / "no_data"), explanation
    ({"causes", "solutions", "member_unit"} or None), baseline, national_2025/2030, and with
    `with_trend`: trend {year: value} from 2021 and projection {"2025"/"2030": {"value", "target",
    "on_track"}}. Values are Decimal (2 places) in the indicator's unit (percent as 0–100).
    `user` limits the rows (a reporter: their unit's indicators and evaluation; None: everything)."""
    indicators = list(_visible_indicators(user).filter(targets__year=year).distinct())
    targets = {(t.indicator_id, t.year): t.value for t in Target.objects.filter(indicator__in=indicators)}
    years = list(range(FIRST_YEAR, year + 1)) if with_trend else [year]
    values = indicator_values(indicators=indicators, years=years, unit=unit)
    checks = _check_values(indicators, [year], unit)
    explanations = {e.indicator_id: e for e in Explanation.objects.filter(year=year, indicator__in=indicators)
                    .select_related("member_unit")}
    rows = []
    for ind in indicators:
        value, target = values[ind.code].get(year), targets.get((ind.pk, year))
        status = target_status(value, target, ind.direction)
        expl = explanations.get(ind.pk)
        row: dict[str, Any] = {
            "code": ind.code, "name": ind.name, "name_en": ind.name_en, "measure": ind.measure,
            "direction": ind.direction, "source": ind.source, "owner": ind.owner.code if ind.owner else None,
            "owner_name": ind.owner.name if ind.owner else "", "indicator_id": ind.pk,
            "value": value, "target": target, "gap": (value - target) if value is not None and target is not None
            else None, "status": status, "status_label": STATUS_LABELS[status],
            "explanation": {"causes": expl.causes, "solutions": expl.solutions,
                            "member_unit": expl.member_unit.name if expl.member_unit else ""} if expl else None,
            # A member unit's report of the same figure, beside vitreem's (never instead of it).
            "check": ({"value": checks.get(ind.code, {}).get(year),
                       "reported_by": ind.check_numerator_element.form.name if ind.check_numerator_element else ""}
                      if ind.check_numerator_element_id else None),
            "baseline": ind.baseline_value, "baseline_year": ind.baseline_year,
            "national_2025": ind.national_2025, "national_2030": ind.national_2030,
        }
        if with_trend:
            trend = {y: values[ind.code].get(y) for y in years}
            points = [(y, v) for y, v in trend.items() if v is not None]
            row["trend"] = trend
            row["projection"] = {
                str(horizon): projection_for(points, horizon, targets.get((ind.pk, horizon)) or national, ind.measure,
                                             ind.direction)
                for horizon, national in ((2025, ind.national_2025), (2030, ind.national_2030))}
        rows.append(row)
    counts = {s: sum(1 for r in rows if r["status"] == s) for s in STATUS_LABELS}
    finalised = YearEvaluation.objects.filter(year=year, finalised_at__isnull=False).first()
    member_units = member_unit_evaluations(year=year, user=user, target_rows=rows)
    return {"year": year, "unit": unit.ref if unit else None, "finalised": finalised is not None,
            "finalised_at": finalised.finalised_at if finalised else None, "targets": rows, "counts": counts,
            "member_units": member_units}


# ---------------------------------------------------------------- completeness and timeliness


def form_communes(form: ReportForm) -> set[int]:
    if not form.for_communes or form.province is None:
        return set()
    from vitreem.places.selectors import communes_under

    return set(communes_under(form.province).values_list("pk", flat=True))


def _assignees(form: ReportForm, *, user: User | None) -> list[tuple[str, str, MemberUnit | None, AdminUnit | None]]:
    """(key, name, member unit, commune) of every unit the form is assigned to that `user` may see."""
    scope = scope_for(user) if user is not None else None
    out: list[tuple[str, str, MemberUnit | None, AdminUnit | None]] = [
        (f"mu:{mu.pk}", mu.name, mu, None) for mu in form.member_units.all()
        if scope is None or scope.province_wide or mu.pk in scope.member_unit_ids]
    if form.for_communes:
        ids = form_communes(form)
        if scope is not None and not scope.province_wide:
            ids = ids & set(scope.unit_ids) if scope.commune_worker else set()
        out.extend((f"unit:{c.pk}", c.name, None, c) for c in AdminUnit.objects.filter(pk__in=ids).order_by("name"))
    return out


def _cell(period: Period, due_on: dt.date, submission: Submission | None, today: dt.date) -> dict[str, Any]:
    due = today > due_on
    cell: dict[str, Any] = {"period": period.code, "due_on": due_on, "expected": due, "submission": submission,
                            "received": False, "on_time": False}
    if submission is not None and submission.first_submitted_at is not None:
        cell["received"] = True
        cell["on_time"] = bool(submission.on_time)
        cell["state"] = "on_time" if cell["on_time"] else "late"
    elif due:
        cell["state"] = "missing"
    else:
        cell["state"] = "pending"
    cell["status"] = submission.status if submission else ""
    return cell


STATE_CLASS = {"on_time": "ok", "late": "warn", "missing": "bad", "pending": ""}


def completeness(*, year: int, user: User | None = None, forms: Iterable[ReportForm] | None = None,
                 member_unit: MemberUnit | None = None, today: dt.date | None = None) -> list[dict[str, Any]]:
    """For each form: the matrix units × periods of `year` and its counts. A period is *expected* once its
    deadline has passed; *received* when a report was ever submitted; *on time* when the first
    submission came by the deadline (a returned and resubmitted report keeps its first date)."""
    today = today or timezone.localdate()
    if forms is None:
        forms = ReportForm.objects.filter(active=True).prefetch_related("member_units")
        if member_unit is not None:
            forms = forms.filter(member_units=member_unit)
    plan = []
    for form in forms:
        assignees = _assignees(form, user=user)
        if member_unit is not None:
            assignees = [a for a in assignees if a[2] is not None and a[2].pk == member_unit.pk]
        if assignees:
            plan.append((form, periods_of_year(form.period_type, year), assignees))
    # Every form's reports of the year in one query (one per form was 20 of the programme page's 27
    # queries); rows of a pair no form asks for are never looked up.
    subs = {(s.form_id, s.assignee_key, s.period): s for s in Submission.objects.filter(
        form_id__in_ids={form.pk for form, _periods, _assignees in plan},
        period__in_values={p.code for _form, periods, _assignees in plan for p in periods},
        assignee_key__in_values={a[0] for _form, _periods, assignees in plan for a in assignees})} if plan else {}
    result = []
    for form, periods, assignees in plan:
        rows: list[dict[str, Any]] = []
        for key, name, mu, commune in assignees:
            cells = []
            for p in periods:
                cell = _cell(p, p.due_on(form.deadline_days), subs.get((form.pk, key, p.code)), today)
                cell["css"] = STATE_CLASS[cell["state"]]
                cells.append(cell)
            rows.append({"key": key, "name": name, "member_unit": mu, "unit": commune, "cells": cells})
        expected = sum(c["expected"] for r in rows for c in r["cells"])
        received = sum(c["received"] and c["expected"] for r in rows for c in r["cells"])
        on_time = sum(c["on_time"] and c["expected"] for r in rows for c in r["cells"])
        result.append({"form": form, "periods": periods, "rows": rows, "expected": expected, "received": received,
                       "on_time": on_time, "completeness": received / expected if expected else None,
                       "timeliness": on_time / expected if expected else None})
    return result


def reports_due_for_user(*, user: User, today: dt.date | None = None) -> list[dict[str, Any]]:
    """The reports of the user's unit(s) not yet submitted whose deadline is near or past (home panel)."""
    today = today or timezone.localdate()
    out = []
    forms = list(ReportForm.objects.filter(active=True).prefetch_related("member_units"))  # once for both years
    for year in (today.year - 1, today.year):
        for block in completeness(year=year, user=user, today=today, forms=forms):
            for row in block["rows"]:
                for cell in row["cells"]:
                    started = period_start_passed(cell["period"], today)
                    if started and not cell["received"]:
                        out.append({"form": block["form"], "period": cell["period"], "due_on": cell["due_on"],
                                    "late": cell["expected"], "assignee": row["name"], "key": row["key"]})
    return sorted(out, key=lambda r: r["due_on"])


def period_start_passed(code: str, today: dt.date) -> bool:
    from .periods import period_parse

    return period_parse(code).end < today + dt.timedelta(days=31)


# ---------------------------------------------------------------- submissions


def submissions_for_user(*, user: User, status: str = "", form: str = "", period: str = "") -> QuerySet[Submission]:
    qs = Submission.objects.select_related("form", "member_unit", "unit", "submitted_by")
    scope = scope_for(user)
    if not scope.province_wide:
        q = Q(member_unit_id__in=scope.member_unit_ids) if scope.member_unit_ids else Q(pk__in=[])
        if scope.commune_worker:
            q |= Q(unit_id__in=scope.unit_ids)
        qs = qs.filter(q)
    if status:
        qs = qs.filter(status=status)
    if form:
        qs = qs.filter(form__code=form)
    if period:
        qs = qs.filter(period=period)
    return qs.order_by("-submitted_at", "-period_start", "form__name")


def submission_get_for_user(*, user: User, submission_id: Any) -> Submission:
    """One report the user may see; anything else (another member unit's, another commune's) is 404."""
    try:
        return submissions_for_user(user=user).get(pk=int(submission_id))
    except (Submission.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy báo cáo hoặc bạn không có quyền xem.")) from None


def forms_for_user(*, user: User) -> QuerySet[ReportForm]:
    qs = ReportForm.objects.filter(active=True).prefetch_related("member_units")
    scope = scope_for(user)
    if scope.province_wide:
        return qs
    q = Q(member_units__in=scope.member_unit_ids) if scope.member_unit_ids else Q(pk__in=[])
    if scope.commune_worker:
        q |= Q(for_communes=True)
    return qs.filter(q).distinct()


def submission_values(submission: Submission) -> dict[str, Decimal]:
    return {v.element.field_name(v.category): v.value for v in submission.values.select_related("element")}


# ---------------------------------------------------------------- plans, tasks, member units


def plans_for_user(*, user: User, year: int | None = None) -> QuerySet[Plan]:
    qs = Plan.objects.select_related("member_unit").annotate(task_count=Count("tasks"))
    if year:
        qs = qs.filter(year=year)
    if not reads_all(user):
        ids = scope_for(user).member_unit_ids
        qs = qs.filter(Q(member_unit_id__in=ids) | Q(tasks__lead_unit_id__in=ids) |
                       Q(tasks__supporting_units__in=ids)).distinct()
    return qs


def plan_get_for_user(*, user: User, plan_id: Any) -> Plan:
    try:
        return plans_for_user(user=user).get(pk=int(plan_id))
    except (Plan.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy kế hoạch.")) from None


def tasks_of_plan(*, plan: Plan) -> QuerySet[Task]:
    return plan.tasks.select_related("lead_unit").prefetch_related("supporting_units")


def task_get_for_user(*, user: User, task_id: Any) -> Task:
    qs = Task.objects.select_related("plan", "lead_unit")
    if not reads_all(user):
        qs = qs.filter(lead_unit_id__in=scope_for(user).member_unit_ids)
    try:
        return qs.get(pk=int(task_id))
    except (Task.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("Không tìm thấy nhiệm vụ.")) from None


def member_units_for_user(*, user: User, year: int | None = None) -> QuerySet[MemberUnit]:
    """The member units the user may read; with `year`, only those that were members during that year
    (membership is dated: DOLISA left the committee in the 2025 reorganisation)."""
    qs: QuerySet[MemberUnit] = (MemberUnit.objects.filter(active=True) if year is None
                                else member_units_during(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    if not reads_all(user):
        qs = qs.filter(pk__in=scope_for(user).member_unit_ids)
    return qs


def _suggest(score: float | None) -> str | None:
    if score is None:
        return None
    if score >= 0.9:
        return Rating.EXCELLENT
    if score >= 0.75:
        return Rating.GOOD
    if score >= 0.5:
        return Rating.DONE
    return Rating.NOT_DONE


def member_unit_evaluations(*, year: int, user: User | None = None, member_units: Iterable[MemberUnit] | None = None,
                            target_rows: list[dict[str, Any]] | None = None,
                            today: dt.date | None = None) -> list[dict[str, Any]]:
    """Per member unit: tasks it led done on time, its reports complete and on time, the status of the
    indicators it owns, a suggested rating (the mean of the three rates) and the confirmed rating."""
    today = today or timezone.localdate()
    # The units that were members during the year: the 2022 evaluation lists 2022's committee.
    units = list(member_units) if member_units is not None else list(
        member_units_for_user(user=user, year=year) if user is not None
        else member_units_during(dt.date(year, 1, 1), dt.date(year, 12, 31)))
    if target_rows is None:
        target_rows = evaluation_for_year(year=year, with_trend=False)["targets"] if units else []
    tasks: dict[int, list[Task]] = defaultdict(list)
    for task in Task.objects.filter(plan__year=year, lead_unit__in=units):
        tasks[task.lead_unit_id].append(task)
    blocks = completeness(year=year, today=today)
    reports: dict[str, list[dict]] = defaultdict(list)
    for block in blocks:
        for row in block["rows"]:
            reports[row["key"]].extend(row["cells"])
    confirmed = {e.member_unit_id: e for e in MemberUnitEvaluation.objects.filter(year=year, member_unit__in=units)
                 .select_related("confirmed_by")}
    out = []
    for mu in units:
        own = tasks.get(mu.pk, [])
        closed = [t for t in own if t.status != TaskStatus.CANCELLED]
        due = [t for t in closed if t.deadline < today or t.status == TaskStatus.DONE]
        cells = [c for c in reports.get(f"mu:{mu.pk}", []) if c["expected"]]
        inds = [r for r in target_rows if r["owner"] == mu.code]
        judged = [r for r in inds if r["status"] != Status.NO_DATA]
        rates = {
            "tasks": (sum(t.done_on_time for t in due) / len(due)) if due else None,
            "reports": (sum(c["on_time"] for c in cells) / len(cells)) if cells else None,
            "indicators": (sum(r["status"] == Status.ACHIEVED for r in judged) / len(judged)) if judged else None,
        }
        known = [v for v in rates.values() if v is not None]
        score = sum(known) / len(known) if known else None
        conf = confirmed.get(mu.pk)
        out.append({
            "member_unit": mu, "code": mu.code, "name": mu.name,
            "tasks_total": len(closed), "tasks_done": sum(t.status == TaskStatus.DONE for t in closed),
            "tasks_on_time": sum(t.done_on_time for t in closed),
            "tasks_overdue": sum(t.overdue(today) for t in closed),
            "reports_expected": len(cells), "reports_received": sum(c["received"] for c in cells),
            "reports_on_time": sum(c["on_time"] for c in cells),
            "indicators_achieved": sum(r["status"] == Status.ACHIEVED for r in inds),
            "indicators_not_achieved": sum(r["status"] == Status.NOT_ACHIEVED for r in inds),
            "indicators_no_data": sum(r["status"] == Status.NO_DATA for r in inds),
            "rates": rates, "score": score, "suggested": _suggest(score),
            "suggested_label": Rating(_suggest(score) or Rating.NOT_DONE).label if score is not None else "",
            "rating": conf.rating if conf else None, "rating_label": conf.get_rating_display() if conf else "",
            "comment": conf.comment if conf else "", "confirmed": conf is not None,
        })
    return out


def member_unit_get_for_user(*, user: User, code: str) -> MemberUnit:
    try:
        return member_units_for_user(user=user).get(code=code)
    except MemberUnit.DoesNotExist:
        raise NotFound(_("Không tìm thấy đơn vị thành viên.")) from None


def target_history(*, target: Target):
    from vitreem.core.audit import history_for

    return history_for(target)


def targets_table(*, user: User, years: Iterable[int]) -> list[dict[str, Any]]:
    """Indicators (visible to the user) with their target per year."""
    years = list(years)
    indicators = list(_visible_indicators(user))
    targets: dict[int, dict[int, Target]] = defaultdict(dict)
    for t in Target.objects.filter(indicator__in=indicators, year__in=years):
        targets[t.indicator_id][t.year] = t
    return [{"indicator": i, "targets": [targets[i.pk].get(y) for y in years]} for i in indicators]
