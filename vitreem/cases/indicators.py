"""Case statistics through the one engine (vitreem/stats). Counts only: no names ever leave here.

A case belongs to the commune that manages it, in the version of the units in force when it was
received; a unit's figures count the cases of its communes in both versions (through the crosswalk),
so 2022 cases roll up into 2025 units and the reverse.
"""

from __future__ import annotations

import datetime as dt
from functools import partial
from typing import Any

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from vitreem.core.scope import scope_for
from vitreem.places.models import REFORM_DATE
from vitreem.stats import engine
from vitreem.stats.engine import Params, params_for, sum_by_record_unit

from . import rules
from .models import OPEN_STATUSES, VIOLENCE_CONCERNS, Case, Channel, Concern, Outcome

# Every figure here reads the cases alone (and the units): a change elsewhere — a child, an activity —
# leaves their stored values fresh (engine.Indicator.reads, rollups.APP_STAMPED).
indicator = partial(engine.indicator, reads=("cases",))

CODES = ["cases_received", "cases_by_type", "cases_by_channel", "cases_by_outcome", "cases_open", "cases_overdue",
         "cases_closed", "cases_closed_within_deadline", "children_harmed_by_violence", "children_abused", "child_marriages_recorded"]


def _unit_ids(params: Params) -> frozenset[int] | None:
    before = params.commune_ids(REFORM_DATE - dt.timedelta(days=1))
    after = params.commune_ids(REFORM_DATE)
    if before is None or after is None:
        return None
    return before | after


def _cases(params: Params) -> QuerySet[Case]:
    ids = _unit_ids(params)
    qs = Case.objects.all()
    return qs if ids is None else qs.filter(unit_id__in_ids=ids)  # core.db.InIds: a province's communes


def _start(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _received_in(params: Params) -> Q:
    return Q(received_at__gte=_start(params.period_start), received_at__lt=_start(params.period_end + dt.timedelta(days=1)))


def _closed_in(params: Params) -> Q:
    return Q(closed_at__gte=_start(params.period_start), closed_at__lt=_start(params.period_end + dt.timedelta(days=1)))


def _received(params: Params) -> QuerySet[Case]:
    return _cases(params).filter(_received_in(params))


def _open_on(params: Params) -> Q:
    end = _start(params.as_of + dt.timedelta(days=1))
    return Q(received_at__lt=end) & (Q(closed_at__isnull=True) | Q(closed_at__gte=end))


def _counts(params: Params) -> dict[Any, int]:
    """The unit's counts of cases that the figures below read, from one grouped query: received in the
    period (in all, by concern, by channel, child marriages), closed in it (in all, by outcome, within
    every deadline), open on the as-of date. A case is filed on one commune, so each count is a sum over
    the unit's communes of both versions (engine.sum_by_record_unit), and one computation of the unit's
    figures reads it once (eight queries, one per figure, before: about 1 ms each)."""
    received, closed, still_open = _received_in(params), _closed_in(params), _open_on(params)

    def grouped(units: frozenset[int] | None):
        qs = Case.objects.filter(received | closed | still_open)
        if units is not None:
            qs = qs.filter(unit_id__in=units)
        rows = (qs.order_by().values_list("unit_id", "concern", "channel", "outcome")
                .annotate(received=Count("pk", filter=received), closed=Count("pk", filter=closed),
                          closed_in_time=Count("pk", filter=closed & Q(deadlines_missed=0)),
                          open=Count("pk", filter=still_open)))
        for unit_id, concern, channel, outcome, n_received, n_closed, n_in_time, n_open in rows:
            yield unit_id, "received", n_received
            yield unit_id, ("concern", concern), n_received
            yield unit_id, ("channel", channel), n_received
            if concern == Concern.CHILD_MARRIAGE and outcome != Outcome.UNFOUNDED:
                yield unit_id, "child_marriages", n_received
            yield unit_id, "closed", n_closed
            yield unit_id, ("outcome", outcome), n_closed
            yield unit_id, "closed_within_deadline", n_in_time
            yield unit_id, "open", n_open

    return sum_by_record_unit(params, "cases", grouped, _unit_ids(params), zero=dict)


def _drill(params: Params, **filters: str) -> str:
    from urllib.parse import urlencode

    return "/cases/?" + urlencode({"mine": "0", **filters})


def _by(params: Params, field: str, choices) -> dict[str, int]:
    counts = _counts(params)
    return {value: counts.get((field, value), 0) for value in choices.values}


@indicator("cases_received", "Số vụ việc tiếp nhận", kind="flow", order=60, drilldown=lambda p: _drill(p))
def cases_received(params: Params) -> int:
    return _counts(params).get("received", 0)


@indicator("cases_by_type", "Vụ việc tiếp nhận theo loại", kind="flow", order=61)
def cases_by_type(params: Params) -> dict[str, int]:
    return _by(params, "concern", Concern)


@indicator("cases_by_channel", "Vụ việc tiếp nhận theo kênh", kind="flow", order=62)
def cases_by_channel(params: Params) -> dict[str, int]:
    return _by(params, "channel", Channel)


@indicator("cases_by_outcome", "Vụ việc đã đóng theo kết quả", kind="flow", order=63)
def cases_by_outcome(params: Params) -> dict[str, int]:
    return _by(params, "outcome", Outcome)


@indicator("cases_open", "Vụ việc đang mở", order=64, drilldown=lambda p: _drill(p, status="open"))
def cases_open(params: Params) -> int:
    return _counts(params).get("open", 0)


@indicator("cases_overdue", "Vụ việc đang quá hạn (hiện tại)", order=65, drilldown=lambda p: _drill(p, overdue="1"))
def cases_overdue(params: Params) -> int:
    # A deadline state is only known now, not for a past date.
    return _cases(params).filter(status__in=OPEN_STATUSES, next_due_at__lte=timezone.now()).count()


@indicator("cases_closed", "Vụ việc đã đóng", kind="flow", order=66, drilldown=lambda p: _drill(p, status="closed"))
def cases_closed(params: Params) -> int:
    return _counts(params).get("closed", 0)


@indicator("cases_closed_within_deadline", "Vụ việc đóng, đúng mọi thời hạn", kind="flow", order=67)
def cases_closed_within_deadline(params: Params) -> int:
    return _counts(params).get("closed_within_deadline", 0)


@indicator("children_harmed_by_violence", "Trẻ em bị bạo lực, xâm hại tình dục (vụ việc có thật)", kind="flow",
           order=68, description="Physical, psychological and sexual violence only: a part of children_abused.")
def children_harmed_by_violence(params: Params) -> int:
    qs = _received(params).filter(concern__in=VIOLENCE_CONCERNS).exclude(outcome=Outcome.UNFOUNDED)
    return qs.values("child_id").distinct().count()


@indicator("children_abused", "Trẻ em bị xâm hại (mọi hình thức, vụ việc có thật)", kind="flow", order=68,
           description="Distinct children in founded cases of every form of abuse of the Law on Children, "
                       "Art. 4(5): violence, exploitation, sexual abuse, trafficking, abandonment and neglect. "
                       "The numerator of the National Action Programme's target on abused children "
                       "(Decision 23/QĐ-TTg: a share of all children).",
           drilldown=lambda p: _drill(p, concern="abuse"))
def children_abused(params: Params) -> int:
    return rules.abused_children(_received(params))


@indicator("child_marriages_recorded", "Số vụ tảo hôn ghi nhận", kind="flow", order=69)
def child_marriages_recorded(params: Params) -> int:
    return _counts(params).get("child_marriages", 0)


def params_for_counts(*, user, year: int) -> Params | None:
    """Leaders and member-unit reporters see counts of their province (never case details): they
    have no record scope, so the counts are taken over their assigned province unit."""
    scope = scope_for(user)
    if not scope.user_id or scope.read_case_details:
        return None
    from vitreem.places.models import version_on

    provinces = sorted((u for u in user.units.all() if u.level == "province"),
                       key=lambda u: u.version != version_on(timezone.localdate()))
    if not provinces:
        return None
    return params_for(year=year, unit=provinces[0], user=None)
