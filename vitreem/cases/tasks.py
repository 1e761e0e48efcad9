"""Background work of the cases app."""

from __future__ import annotations

from django_tasks import task


@task()
def deadlines_notify() -> dict[str, int]:
    """Send the deadline notices. `vitreem run_worker` enqueues it once per period (schedule.py);
    `vitreem cases_notify` does the same work in the foreground."""
    from .notifications import deadline_notifications_send

    return deadline_notifications_send()
