"""Counting rules of cases, written once: the indicators (cases/indicators.py, and whatever shape the
statistics engine gives them) call these and never restate them.

Law on Children 2016, Art. 4(5): "Xâm hại trẻ em là hành vi gây tổn hại về thể chất, tình cảm, tâm lý,
danh dự, nhân phẩm của trẻ em dưới các hình thức bạo lực, bóc lột, xâm hại tình dục, mua bán, bỏ rơi,
bỏ mặc trẻ em và các hình thức gây tổn hại khác." Every one of the named forms counts as abuse; the
case types that are not abuse of the child by someone (injuries, conflict with the law, child or
consanguineous marriage recorded as such, "other") do not.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from vitreem.core.db import has_row

from .models import Case, Concern, Outcome, Plan

# Law on Children 2016, Art. 4(5)–(9): violence (physical and psychological, Art. 4(6)), exploitation
# (Art. 4(7)), sexual abuse (Art. 4(8)), trafficking, abandonment and neglect (Art. 4(9), one case type).
ABUSE_CONCERNS: tuple[str, ...] = (Concern.PHYSICAL_VIOLENCE, Concern.PSYCHOLOGICAL_VIOLENCE, Concern.SEXUAL_ABUSE,
                                   Concern.EXPLOITATION, Concern.TRAFFICKING, Concern.NEGLECT)


def q_founded_abuse() -> Q:
    """A case of abuse in any form of Art. 4(5) that verification did not find unfounded."""
    return Q(concern__in=ABUSE_CONCERNS) & ~Q(outcome=Outcome.UNFOUNDED)


def abused_children(cases: QuerySet[Case]) -> int:
    """Distinct children among `cases` who were abused in any form (a child with two cases counts once)."""
    return cases.filter(q_founded_abuse()).values("child_id").distinct().count()


def q_case_support(start: dt.date, end: dt.date) -> Q:
    """Children (a `Child` filter) who received support through a case in [start, end]: a support
    and intervention plan approved by the commune chairman (Decree 56/2017, Art. 28(4)) on or before
    `end`, in a case not closed before `start`. The plan's items are the support itself — health,
    psychological, legal, education, care, material (Decree 56/2017, Arts. 18–21)."""
    plans = Plan.objects.filter(status__in=[Plan.State.APPROVED, Plan.State.SUPERSEDED],
                                approved_on__isnull=False, approved_on__lte=end).filter(
        Q(case__closed_at__isnull=True) | Q(case__closed_at__gte=_start_of(start)))
    return has_row(plans, "case__child")


def _start_of(day: dt.date) -> dt.datetime:
    from django.utils import timezone

    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))
