"""Background jobs: a long import and a large export, with progress the user can leave and come back to."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from vitreem.core.jobs import job_fail, job_finish, job_progress


@task()
def import_run(*, status_id: str, import_id: int, user_id: int, valid_only: bool = False) -> None:
    _import(status_id=status_id, import_id=import_id, user_id=user_id, valid_only=valid_only, dry_run=False)


@task()
def import_check(*, status_id: str, import_id: int, user_id: int, valid_only: bool = False) -> None:
    """A dry run in the background (API): validate and match, write nothing."""
    _import(status_id=status_id, import_id=import_id, user_id=user_id, valid_only=valid_only, dry_run=True)


def progress_outside(status_id: str):
    """A progress callback for a job whose work is one long transaction (an import).

    Written on the job's own connection the progress would stay invisible to the page polling it
    until the import commits. On PostgreSQL each report is written from a short-lived thread, which
    has its own connection and so its own, immediately committed, transaction. SQLite has a single
    writer (the import holds it), so there the report waits for the end like everything else."""
    from django.db import connection

    def direct(done: int, total: int) -> None:
        job_progress(status_id, progress=done, total=total)

    if connection.vendor != "postgresql":
        return direct

    def outside(done: int, total: int) -> None:
        import threading

        from django.db import connections

        def run() -> None:
            try:
                job_progress(status_id, progress=done, total=total)
            except Exception:  # noqa: BLE001 — a progress bar must never break the import
                import logging

                logging.getLogger("vitreem.imports").warning("progress report failed", exc_info=True)
            finally:
                connections.close_all()  # this thread's connection only

        thread = threading.Thread(target=run, name="import-progress", daemon=True)
        thread.start()
        thread.join(timeout=10)

    return outside


def _import(*, status_id: str, import_id: int, user_id: int, valid_only: bool, dry_run: bool) -> None:
    from vitreem.accounts.models import User

    from .models import ImportBatch
    from .reading import ReadError
    from .services import import_execute

    user = User.objects.get(pk=user_id)
    batch = ImportBatch.objects.get(pk=import_id)
    url = reverse("imports:detail", args=[batch.pk])
    try:
        result = import_execute(actor=user, batch=batch, valid_only=valid_only, dry_run=dry_run,
                                progress=progress_outside(status_id))
    except ReadError as exc:
        job_fail(status_id, message=str(exc))
        return
    except Exception as exc:
        batch.status = ImportBatch.Status.FAILED
        batch.save(update_fields=["status"])
        job_fail(status_id, message=str(exc)[:500])
        raise
    job_finish(status_id, result={"url": url, "created": result["created"], "updated": result["updated"],
                                  "invalid": result["invalid"], "written": result["written"]})


@task()
def export_run(*, status_id: str, user_id: int, query: dict, fmt: str = "xlsx") -> None:
    from vitreem.accounts.models import User

    from .exporting import export_bytes
    from .services import export_file_save
    from .views import export_filters

    user = User.objects.get(pk=user_id)
    filters, qs = export_filters(user, query)
    total = qs.count()
    job_progress(status_id, progress=0, total=total)
    data, rows = export_bytes(qs, fmt=fmt, progress=lambda n: job_progress(status_id, progress=n))
    export = export_file_save(actor=user, filename=f"danh-sach-tre-em.{fmt}", data=data,
                              filters={k: str(v) for k, v in query.items()}, rows=rows)
    job_finish(status_id, result={"url": reverse("imports:export_download", args=[export.pk]), "rows": rows})
