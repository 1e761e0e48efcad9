"""Background work of the cases app."""

from __future__ import annotations

from django_tasks import task


@task()
def deadlines_notify() -> dict[str, int]:
    """Send the deadline notices (schedule it hourly: `vitreem cases_notify` from cron does the same)."""
    from .notifications import deadline_notifications_send

    return deadline_notifications_send()
