"""`vitreem run_worker`: the task worker (like `vitreem db_worker`) that also schedules the case
deadline notices, seals the audit log's new rows into its hash chain (every
VITREEM_AUDIT_SEAL_EVERY_SECONDS, 60) and refreshes the stored figures a change made stale (every
VITREEM_STATS_REFRESH_SECONDS, 2: pages show the stored figures, so a change reaches them when the
worker has recomputed them), so no cron is needed.

django-tasks has no periodic tasks. The loop: enqueue the notices if this period has none yet
(schedule.py), run every ready task (django_tasks_db's worker in batch mode), sleep, repeat.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from vitreem.cases.schedule import notify_schedule
from vitreem.core.audit_chain import audit_seal
from vitreem.core.jobs import jobs_reap, worker_id_for_this_process
from vitreem.stats.rollups import rollups_refresh_if_changed


class Command(BaseCommand):
    help = "Run the background task worker and enqueue the case deadline notices once per period."

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default=DEFAULT_TASK_QUEUE_NAME,
                            help="Queues to process, comma-separated (default: %(default)s).")
        parser.add_argument("--interval", type=float, default=2.0,
                            help="Seconds to wait when the queue is empty (default: %(default)s).")
        parser.add_argument("--once", action="store_true",
                            help="Schedule, run the ready tasks, then exit (for checks and tests).")

    def handle(self, *, queue_name: str, interval: float, once: bool, verbosity: int, **options):
        # Jobs a previous worker left running when it died (kill -9, a reboot) say so (issue 20 item 3).
        for status in jobs_reap():
            self.stdout.write(f"job {status.pk} ({status.kind}) failed: its worker had died")
        worker = Worker(queue_names=queue_name.split(","), interval=interval, batch=True,
                        backend_name=DEFAULT_TASK_BACKEND_ALIAS, startup_delay=False, max_tasks=None,
                        worker_id=worker_id_for_this_process(), excluded_queue_names=[])
        if not once:
            worker.configure_signals()
        seal_every = float(getattr(settings, "VITREEM_AUDIT_SEAL_EVERY_SECONDS", 60))
        sealed_at = float("-inf")
        refresh_every = float(getattr(settings, "VITREEM_STATS_REFRESH_SECONDS", 2))
        refreshed_at, figures_since, last_turn = float("-inf"), None, 0.0
        while worker.running:
            close_old_connections()
            if time.monotonic() - sealed_at >= seal_every:
                audit_seal()
                sealed_at = time.monotonic()
            if time.monotonic() - refreshed_at >= max(refresh_every, min(2 * last_turn, 30.0)):
                # After a turn of T seconds, 2T of rest (at most 30 s, after a long first or daily turn):
                # under steady data entry the refresh takes about a third of one core and the pages
                # keep the rest (the load benchmark).
                started = time.monotonic()
                # The day's first turn refreshes every stored figure (minutes on a country): resting twice
                # that kept the day's first changes off the dashboards for up to 30 s (the national
                # benchmark: a change took 21 s to show). The rest follows the turns that refresh changes.
                first_of_day = figures_since is None or (
                    timezone.localtime(figures_since).date() != timezone.localdate())
                figures_since = rollups_refresh_if_changed(figures_since)
                refreshed_at = time.monotonic()
                last_turn = 0.0 if first_of_day else refreshed_at - started
            if notify_schedule() and verbosity:
                self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M} case deadline notices enqueued")
            # Batch mode returns as soon as the queue is empty, which gives the loop its turn.
            worker.run()
            if once:
                break
            if worker.running:
                time.sleep(interval)
