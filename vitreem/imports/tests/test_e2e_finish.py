"""In a real browser: the import page a worker watches says the import is done when it is (issue 21
item 8: it kept saying "Đang nhập" at 100%, because only the progress bar was refreshed)."""

from __future__ import annotations

import pytest

from conftest import COMMUNE_A, PASSWORD, browser_login
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.core.jobs import job_finish, job_progress
from vitreem.core.models import TaskStatus
from vitreem.imports.models import ImportBatch
from vitreem.imports.services import import_create
from vitreem.places.selectors import unit_resolve

pytestmark = pytest.mark.e2e


def test_the_import_page_shows_the_result_when_the_job_ends(browser_page, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    worker = user_create(username="commune-a", password=PASSWORD, role=Role.COMMUNE_WORKER, full_name="Y Hiền",
                         units=[unit_resolve(r) for r in COMMUNE_A])
    batch = import_create(actor=worker, filename="ds.csv", content="Họ và tên,Ngày sinh,Giới tính\n".encode(),
                          default_unit=unit_resolve(COMMUNE_A[1]))
    status = TaskStatus.objects.create(kind="import", owner=worker, total=20, state=TaskStatus.State.RUNNING)
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.RUNNING, task_id=status.pk)

    page = browser_page
    browser_login(page, "commune-a")
    page.wait_for_url("**/")
    page.goto(f"/imports/{batch.pk}/")
    assert page.locator(".badge").first.inner_text() == "Đang nhập"

    job_progress(status.pk, progress=20)  # every row read; the transaction is still being written
    page.wait_for_function("() => document.querySelector('progress').value === 100")
    assert "Đang ghi và hoàn tất" in page.locator("main").inner_text()
    assert page.locator(".badge").first.inner_text() == "Đang nhập"

    ImportBatch.objects.filter(pk=batch.pk).update(
        status=ImportBatch.Status.DONE,
        result={"rows": 20, "created": 20, "updated": 0, "unchanged": 0, "review": 0, "invalid": 0,
                "written": True, "sheet": "CSV", "header_row": 1, "encoding": "unicode"})
    job_finish(status.pk, result={"url": f"/imports/{batch.pk}/"})
    # The page reloads itself once the job has ended: the status and the counts are shown.
    page.wait_for_function("() => document.querySelector('.badge').innerText === 'Đã nhập'")
    assert page.locator("progress").count() == 0
    assert "Đã ghi vào sổ theo dõi" in page.locator("main").inner_text()
