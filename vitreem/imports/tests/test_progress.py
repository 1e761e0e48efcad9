"""The progress bar of an import job moves while the import's transaction is still open (PostgreSQL);
on SQLite, which has a single writer, it shows when the import commits."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, connections, transaction

from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.core.models import TaskStatus
from vitreem.imports.tasks import progress_outside

# A committed status row and a second connection need a transactional test; those run in the
# separate pass of the marked tests (see Makefile), which already flushes between tests.
pytestmark = pytest.mark.e2e


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_to_other_connections_during_the_import():
    owner = user_create(username="progress", password="a-long-test-password", role=Role.COMMUNE_WORKER,
                        full_name="P", units=[])
    status = TaskStatus.objects.create(kind="import", owner=owner, total=10)
    report = progress_outside(str(status.pk))
    seen: list[int] = []

    def look() -> None:
        try:
            seen.append(TaskStatus.objects.get(pk=status.pk).progress)
        finally:
            connections.close_all()

    postgresql = connection.vendor == "postgresql"
    with transaction.atomic():  # the import's long transaction
        report(5, 10)
        if postgresql:  # the page's own connection sees it at once
            reader = threading.Thread(target=look)
            reader.start()
            reader.join()
    # SQLite: the import holds the only writer (and the test database is a shared in-memory one,
    # locked for other connections), so the progress is written with the import and shows when it ends.
    assert seen == ([5] if postgresql else [])
    assert TaskStatus.objects.get(pk=status.pk).progress == 5
