"""Every read of children and households goes through here, and through core.scope."""

from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from vitreem.core.audit import audit_access
from vitreem.core.scope import get_in_scope, scope_filter

from .models import Child, Household


def children_for_user(*, user, include_ended: bool = False) -> QuerySet[Child]:
    qs = scope_filter(Child.objects.all(), user)
    if not include_ended:
        qs = qs.filter(ended_on__isnull=True)
    return qs


def child_get_for_user(*, user, child_id: int, audit: bool = True) -> Child:
    """One child the user may see (404 otherwise); opening it writes an access row to the audit log."""
    child = get_in_scope(Child.objects.select_related("unit", "household", "ethnicity"), user, pk=child_id)
    if audit:
        audit_access(actor=user, obj=child, unit=child.unit_id)
    return child


def households_for_user(*, user) -> QuerySet[Household]:
    return scope_filter(Household.objects.all(), user)


def household_get_for_user(*, user, household_id: int) -> Household:
    return get_in_scope(Household.objects.select_related("unit"), user, pk=household_id)


def age_band_bounds(band: str, on: dt.date) -> tuple[dt.date, dt.date] | None:
    """Birth-date bounds for an age band "a-b" (inclusive ages) on a date."""
    try:
        low, high = (int(x) for x in band.split("-"))
    except ValueError:
        return None
    def years_before(n: int) -> dt.date:
        try:
            return on.replace(year=on.year - n)
        except ValueError:
            return on.replace(year=on.year - n, day=28)
    # age >= low  ⇔ born on or before on-low years; age <= high ⇔ born after on-(high+1) years
    return years_before(high + 1) + dt.timedelta(days=1), years_before(low)
