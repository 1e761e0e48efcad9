"""Background generation of the annual report (progress shown on /tasks/<id>/)."""

from __future__ import annotations

from django.utils.translation import gettext as _
from django_tasks import task

from vitreem.core.errors import DomainError
from vitreem.core.jobs import job_context, job_fail, job_finish, job_progress


@task()
def report_generate_task(*, status_id: str, user_id: int, year: int, unit: str, fmt: str) -> None:
    with job_context(status_id):  # its audit rows carry the request that asked for it
        from django.urls import reverse

        from vitreem.accounts.models import User

        from .services import report_generate

        job_progress(status_id, progress=1, message=_("Đang tính số liệu…"))
        try:
            user = User.objects.get(pk=user_id)
            report = report_generate(actor=user, year=year, unit=unit, fmt=fmt)
        except DomainError as exc:
            job_fail(status_id, message=str(exc.message))
            return
        job_progress(status_id, progress=2, message=_("Đang lưu tệp…"))
        job_finish(status_id, result={"url": reverse("reports:download", args=[report.pk]), "report_id": report.pk},
                   message=_("Đã lập xong báo cáo."))
