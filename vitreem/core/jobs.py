"""Long jobs (imports, reports): a TaskStatus row the UI polls, and a Django task that does the work.

`job_start` creates the status and enqueues the task after the transaction commits; the task
reports progress with `job_progress` and ends with `job_finish` or `job_fail`. In tests the
immediate backend runs the task at once.
"""

from __future__ import annotations

import uuid
from typing import Any

from django.db import transaction

from .models import TaskStatus


def job_start(*, kind: str, owner, task, total: int = 0, **kwargs: Any) -> TaskStatus:
    status = TaskStatus.objects.create(kind=kind, owner=owner, total=total)
    transaction.on_commit(lambda: task.enqueue(status_id=str(status.pk), **kwargs))
    return status


def job_progress(status_id: str | uuid.UUID, *, progress: int, total: int | None = None, message: str = "") -> None:
    values: dict[str, Any] = {"progress": progress, "state": TaskStatus.State.RUNNING}
    if total is not None:
        values["total"] = total
    if message:
        values["message"] = message
    TaskStatus.objects.filter(pk=status_id).update(**values)


def job_finish(status_id: str | uuid.UUID, *, result: dict | None = None, message: str = "") -> None:
    status = TaskStatus.objects.get(pk=status_id)
    status.state = TaskStatus.State.DONE
    status.progress = status.total or status.progress
    status.result = result or {}
    status.message = message
    status.save()


def job_fail(status_id: str | uuid.UUID, *, message: str) -> None:
    TaskStatus.objects.filter(pk=status_id).update(state=TaskStatus.State.FAILED, message=message)
