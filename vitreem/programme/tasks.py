"""Background jobs of the programme: the daily reminders of reports due or overdue."""

from __future__ import annotations

from django_tasks import task


@task()
def reminders_daily() -> int:
    from .services import reminders_send

    return len(reminders_send())
