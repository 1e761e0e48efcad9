"""A job whose worker died (kill -9, a reboot) does not say "running" forever (issue 20 item 3)."""

from __future__ import annotations

import socket
import subprocess
import sys

import pytest
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from conftest import login
from vitreem.core.jobs import jobs_reap, worker_id_for_this_process
from vitreem.core.models import TaskStatus

pytestmark = pytest.mark.django_db


def _dead_pid() -> int:
    """The pid of a real process of this machine that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def _running_job(owner, worker_id: str) -> TaskStatus:
    """A job as a worker leaves it: its task result RUNNING under the worker's id, its status running."""
    result = DBTaskResult.objects.create(
        status=TaskResultStatus.RUNNING, args_kwargs={"args": [], "kwargs": {}}, task_path="vitreem.imports.tasks.import_run",
        worker_ids=[worker_id], queue_name="default", backend_name="default", run_after=timezone.now(),
        exception_class_path="", traceback="")
    return TaskStatus.objects.create(kind="import", owner=owner, state=TaskStatus.State.RUNNING, progress=0, total=100,
                                     task_id=str(result.pk))


def test_a_job_of_a_dead_worker_is_failed_with_a_message(worker_a):
    status = _running_job(worker_a, f"{socket.gethostname()}:{_dead_pid()}:abc")
    assert [s.pk for s in jobs_reap()] == [status.pk]
    status.refresh_from_db()
    assert status.state == TaskStatus.State.FAILED and "dừng đột ngột" in status.message
    assert DBTaskResult.objects.get(pk=status.task_id).status == TaskResultStatus.FAILED
    assert jobs_reap() == []  # once


def test_a_live_worker_s_job_and_another_host_s_are_left_running(worker_a):
    mine = _running_job(worker_a, worker_id_for_this_process())  # this test's own process: alive
    elsewhere = _running_job(worker_a, f"another-host:{_dead_pid()}:abc")  # cannot be told from here
    assert jobs_reap() == []
    assert {s.state for s in TaskStatus.objects.filter(pk__in=[mine.pk, elsewhere.pk])} == {TaskStatus.State.RUNNING}


def test_the_job_page_says_so_and_the_import_can_be_run_again(worker_a, units, settings, tmp_path):
    from vitreem.imports.models import ImportBatch
    from vitreem.imports.services import import_create
    from vitreem.imports.tests.files import commune_list, xlsx

    settings.MEDIA_ROOT = tmp_path
    batch = import_create(actor=worker_a, filename="ds.xlsx", content=xlsx(commune_list([
        ["Nguyễn Văn An", "01/02/2018", "Nam", "Kinh", "", "Thôn 1", "Xã Đăk Hà", "", "", "", "", ""]])))
    status = _running_job(worker_a, f"{socket.gethostname()}:{_dead_pid()}:abc")
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, task_id=status.pk)
    client = login(worker_a)
    page = client.get(f"/imports/{batch.pk}/").content.decode()
    assert "dừng đột ngột" in page and "Xem trước và nhập lại" in page
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.UPLOADED
    status.refresh_from_db()
    assert status.state == TaskStatus.State.FAILED
