"""Long jobs (imports, reports): a TaskStatus row the UI polls, and a Django task that does the work.

`job_start` creates the status and enqueues the task after the transaction commits; the task
reports progress with `job_progress` and ends with `job_finish` or `job_fail`. In tests the
immediate backend runs the task at once.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterable, Iterator
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_lazy as _l

from .models import TaskStatus


def job_start(*, kind: str, owner, task, total: int = 0, **kwargs: Any) -> TaskStatus:
    from .middleware import request_id_var, source_var

    status = TaskStatus.objects.create(kind=kind, owner=owner, total=total, source=source_var.get(),
                                       request_id=request_id_var.get())

    def enqueue() -> None:
        result = task.enqueue(status_id=str(status.pk), **kwargs)
        TaskStatus.objects.filter(pk=status.pk).update(task_id=str(result.id))

    transaction.on_commit(enqueue)
    return status


# ---------------------------------------------------------------- a worker that died (issue 20 item 3)

def worker_id_for_this_process() -> str:
    """The id `run_worker` gives its worker: the host and the process id, so that a job left RUNNING can
    be told apart from a job still running — a process that no longer exists runs nothing."""
    import os
    import socket

    from django.utils.crypto import get_random_string

    return f"{socket.gethostname()}:{os.getpid()}:{get_random_string(8)}"


def _worker_dead(worker_id: str) -> bool:
    """Whether the worker named `worker_id` is known to be gone: a process of this host that no longer
    exists. A worker of another host (or an id of another form) is never declared dead from here."""
    import os
    import socket

    host, _sep, rest = worker_id.partition(":")
    pid_text = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    try:
        os.kill(int(pid_text), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


WORKER_DIED = _l("Tiến trình xử lý nền đã dừng đột ngột trong lúc chạy việc này (máy chủ khởi động lại hoặc "
                 "tiến trình bị tắt); không có gì được ghi dở. Hãy chạy lại từ trang của việc này.")


def jobs_reap(statuses: Iterable[TaskStatus] | None = None) -> list[TaskStatus]:
    """Mark failed the jobs whose worker died while running them (kill -9, a crash, a reboot): their
    status would otherwise say "running" forever. Each job is one transaction, so nothing of it was
    kept; the page says so and the user starts it again. Called when a job's page is polled and when
    `run_worker` starts. Returns the jobs it failed."""
    from django.utils import timezone
    from django_tasks import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    open_states = (TaskStatus.State.QUEUED, TaskStatus.State.RUNNING)
    candidates = [s for s in (statuses if statuses is not None else TaskStatus.objects.filter(state__in=open_states))
                  if s.state in open_states and s.task_id]
    if not candidates:
        return []
    by_task = {str(r.id): r for r in DBTaskResult.objects.filter(
        id__in=[s.task_id for s in candidates], status=TaskResultStatus.RUNNING)}
    failed = []
    for status in candidates:
        result = by_task.get(status.task_id)
        if result is None or not result.worker_ids or not all(_worker_dead(w) for w in result.worker_ids):
            continue
        DBTaskResult.objects.filter(pk=result.pk, status=TaskResultStatus.RUNNING).update(
            status=TaskResultStatus.FAILED, finished_at=timezone.now(),
            exception_class_path="vitreem.core.jobs.WorkerDied", traceback=str(WORKER_DIED))
        job_fail(status.pk, message=str(WORKER_DIED))
        status.state, status.message = TaskStatus.State.FAILED, str(WORKER_DIED)
        failed.append(status)
    return failed


@contextlib.contextmanager
def job_context(status_id: str | uuid.UUID) -> Iterator[None]:
    """Inside a job: the audit rows it writes carry the source and request id of the request that asked
    for it (a report asked for on a page is a "web" action, though the worker writes it)."""
    from .middleware import request_id_var, source_var

    asked = TaskStatus.objects.filter(pk=status_id).values_list("source", "request_id").first() or ("", "")
    source_token = source_var.set(asked[0] or source_var.get())
    request_token = request_id_var.set(asked[1] or request_id_var.get())
    try:
        yield
    finally:
        source_var.reset(source_token)
        request_id_var.reset(request_token)


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


class JobLimitExceeded(Exception):
    """A background job went past its time or memory limit (VITREEM_JOB_SECONDS, VITREEM_JOB_MEMORY_MB)."""


def _address_space() -> int:
    """This process's virtual size now, in bytes (what RLIMIT_AS counts)."""
    import os

    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


@contextlib.contextmanager
def job_limits(*, seconds: float | None = None, memory_mb: int | None = None) -> Iterator[None]:
    """Bound one background job (issue 20 item 2): it may run `seconds` and grow by `memory_mb` beyond
    what the worker holds when it starts; past either it stops with JobLimitExceeded (its transaction
    rolls back: nothing is written), and the worker goes on with the next job.

    Memory is bounded by the address-space limit (RLIMIT_AS), lowered for the job and restored after:
    an allocation past it fails (MemoryError) instead of the machine swapping. Time by a timer signal,
    which only the main thread receives; a job run elsewhere (a test's thread) gets the memory bound
    only."""
    import resource
    import signal
    import threading

    from django.conf import settings
    from django.utils.translation import gettext as _

    seconds = settings.VITREEM_JOB_SECONDS if seconds is None else seconds
    memory_mb = settings.VITREEM_JOB_MEMORY_MB if memory_mb is None else memory_mb
    soft, hard = resource.getrlimit(resource.RLIMIT_AS)
    base = _address_space()
    limit = base + memory_mb * 1024 * 1024 if base else resource.RLIM_INFINITY
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    if soft != resource.RLIM_INFINITY:
        limit = min(limit, soft)
    timed = threading.current_thread() is threading.main_thread() and seconds > 0

    def on_alarm(signum, frame):
        raise JobLimitExceeded(_("Công việc đã chạy quá %(s)s giây cho phép và đã dừng; chưa có gì được ghi.")
                               % {"s": int(seconds)})

    previous = signal.signal(signal.SIGALRM, on_alarm) if timed else None
    if timed:
        signal.setitimer(signal.ITIMER_REAL, seconds)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
    try:
        yield
    except MemoryError:
        raise JobLimitExceeded(_("Công việc cần nhiều bộ nhớ hơn mức cho phép (%(m)s MB) và đã dừng; chưa có gì "
                                 "được ghi.") % {"m": memory_mb}) from None
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (soft, hard))
        if timed:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
