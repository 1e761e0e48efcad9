"""The daily deadline notices without cron: django-tasks has no periodic scheduler, so the worker
(`vitreem run_worker`) calls `notify_schedule` between batches of tasks, and it enqueues
`deadlines_notify` when none was enqueued in the current period.

The period is `VITREEM_CASE_NOTIFY_EVERY_HOURS` (default 1, counted from local midnight: the 12-hour
emergency deadline gets its due-soon notice in time; a run that finds nothing new sends nothing).
Enqueuing twice in a period (two workers racing) is harmless: the notices are unique per
recipient, case, deadline and kind, so a second run sends nothing new.
"""

from __future__ import annotations

import datetime as dt
import os

from django.conf import settings
from django.utils import timezone


def notify_period_hours() -> int:
    """Hours between runs, 1–24: the Django setting, else the environment variable (operators set
    it without editing the settings), else 1."""
    value = getattr(settings, "VITREEM_CASE_NOTIFY_EVERY_HOURS", None) or os.environ.get(
        "VITREEM_CASE_NOTIFY_EVERY_HOURS") or 1
    return max(1, min(24, int(value)))


def period_start(now: dt.datetime | None = None) -> dt.datetime:
    """Start of the current period, counted from local midnight."""
    local = timezone.localtime(now or timezone.now())
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    every = notify_period_hours()
    return midnight + dt.timedelta(hours=(local.hour // every) * every)


def _uses_database_backend() -> bool:
    from django_tasks import task_backends
    from django_tasks_db import DatabaseBackend

    return isinstance(task_backends["default"], DatabaseBackend)


def notify_schedule(*, now: dt.datetime | None = None) -> bool:
    """Enqueue the deadline notices unless they were enqueued in the current period. True if enqueued."""
    from .tasks import deadlines_notify

    start = period_start(now)
    if _uses_database_backend():
        from django_tasks_db.models import DBTaskResult

        if DBTaskResult.objects.filter(task_path=deadlines_notify.module_path, enqueued_at__gte=start).exists():
            return False
    deadlines_notify.enqueue()
    return True
