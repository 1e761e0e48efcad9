"""Tasks of the core app. `ping` exercises the job machinery (progress, finish) end to end."""

from django_tasks import task

from .jobs import job_finish, job_progress


@task()
def ping(*, status_id: str) -> None:
    for step in range(1, 4):
        job_progress(status_id, progress=step)
    job_finish(status_id, result={"steps": 3})
