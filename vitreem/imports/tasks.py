"""Background jobs: a long import and a large export, with progress the user can leave and come back to."""

from __future__ import annotations

from django.urls import reverse
from django_tasks import task

from vitreem.core.jobs import JobLimitExceeded, job_context, job_fail, job_finish, job_limits, job_progress


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
        # A file that needs more time or memory than an import may take stops here, not the machine.
        with job_limits():
            result = import_execute(actor=user, batch=batch, valid_only=valid_only, dry_run=dry_run,
                                    progress=progress_outside(status_id))
    except ReadError as exc:  # unreadable or refused: import_execute has deleted the file
        job_fail(status_id, message=str(exc))
        return
    except JobLimitExceeded as exc:  # the file is kept: a larger limit can import it
        batch.status = ImportBatch.Status.FAILED
        batch.result = {**(batch.result or {}), "message": str(exc)}
        batch.save(update_fields=["status", "result"])
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
    with job_context(status_id):  # its audit rows carry the request that asked for it
        from vitreem.accounts.models import User
        from vitreem.privacy.exports import require_export_names, units_of

        from .exporting import export_bytes
        from .selectors import export_filters
        from .services import export_file_save

        user = User.objects.get(pk=user_id)
        require_export_names(user)  # checked again: the role may have changed since the job was queued
        filters, qs = export_filters(user, query)
        total = qs.count()
        job_progress(status_id, progress=0, total=total)
        data, rows = export_bytes(qs, fmt=fmt, progress=lambda n: job_progress(status_id, progress=n))
        # export_file_save writes the export's audit row (filters, count, communes), one per export.
        export = export_file_save(actor=user, filename=f"danh-sach-tre-em.{fmt}", data=data,
                                  filters={**{k: str(v) for k, v in query.items()}, "format": fmt}, rows=rows,
                                  units=units_of(qs))
        job_finish(status_id, result={"url": reverse("imports:export_download", args=[export.pk]), "rows": rows})
