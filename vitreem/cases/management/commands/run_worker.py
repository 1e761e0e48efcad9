"""`vitreem run_worker`: the task worker (like `vitreem db_worker`) that also schedules the case
deadline notices, seals the audit log's new rows into its hash chain (every
VITREEM_AUDIT_SEAL_EVERY_SECONDS, 60) and refreshes the stored figures a change made stale (every
VITREEM_STATS_REFRESH_SECONDS, 2: pages show the stored figures, so a change reaches them when the
worker has recomputed them; on PostgreSQL in a thread of its own, beside the tasks), so no cron is
needed.

django-tasks has no periodic tasks. The loop: enqueue the notices if this period has none yet
(schedule.py), run every ready task (django_tasks_db's worker in batch mode), sleep, repeat.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection, connections
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, DEFAULT_TASK_QUEUE_NAME
from django_tasks_db.management.commands.db_worker import Worker

from vitreem.cases.schedule import notify_schedule
from vitreem.core.audit_chain import audit_seal
from vitreem.core.jobs import jobs_reap, worker_id_for_this_process
from vitreem.stats.rollups import RefreshTurns

logger = logging.getLogger(__name__)


def yield_cpu_to_pages() -> int:
    """Lower this process's CPU priority by VITREEM_WORKER_NICE (0–19), once; returns the niceness now.

    The worker's work comes in bursts — a 500-row import, a refresh turn — of seconds of CPU; on a server
    shared with gunicorn, at the same priority, a page that arrived during one waited for its share of
    the core behind it. Niced, the worker takes the CPU the pages leave (its queries still run in
    PostgreSQL at the server's priority). Measured under the load benchmark (docs/en/operations.md)."""
    return os.nice(max(0, min(19, int(getattr(settings, "VITREEM_WORKER_NICE", 10)))))


class _Figures:
    """The refresh of the stored figures, a turn at a time (`stats.rollups.RefreshTurns`). After a turn
    of T seconds, 2T of rest (at most 30 s, after a long first or daily turn): under steady data entry
    the refresh takes about a third of one core and the pages keep the rest (the load benchmark)."""

    def __init__(self) -> None:
        self.every = float(getattr(settings, "VITREEM_STATS_REFRESH_SECONDS", 2))
        self.seconds = float(getattr(settings, "VITREEM_STATS_TURN_SECONDS", 2))
        self.refreshed_at, self.last_turn = float("-inf"), 0.0
        self.turns = RefreshTurns()

    def wait(self) -> float:
        """Seconds until the next turn is due (0: now)."""
        return max(0.0, self.refreshed_at + max(self.every, min(2 * self.last_turn, 30.0)) - time.monotonic())

    def turn(self) -> None:
        started = time.monotonic()
        kind = self.turns.turn(self.seconds)
        self.refreshed_at = time.monotonic()
        # The day's first turn refreshes every stored figure (minutes on a country): resting twice that
        # kept the day's first changes off the dashboards for up to 30 s (the national benchmark: a
        # change took 21 s to show). The rest follows the turns that refresh changes.
        self.last_turn = 0.0 if kind == "day" else self.refreshed_at - started


class _FiguresThread(threading.Thread):
    """The figures' turns beside the tasks (PostgreSQL): a 500-row import ran for 5–9 s in this loop under
    the load benchmark, and no change reached the dashboards meanwhile. On its own connection, as a
    page's request is; SQLite (one writer at a time, the embedded default) keeps them in the loop."""

    def __init__(self, figures: _Figures) -> None:
        super().__init__(name="vitreem-figures", daemon=True)
        self.figures = figures
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopping.is_set():
                close_old_connections()
                if not self.figures.wait():
                    try:
                        self.figures.turn()
                    except Exception:  # a turn that failed is tried again next time; the worker lives on
                        logger.exception("refresh of the stored figures failed")
                        self.figures.refreshed_at = time.monotonic()
                self.stopping.wait(max(0.2, min(self.figures.wait(), 1.0)))
        finally:
            connections.close_all()


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
        if not once:  # `--once` runs inside checks and tests: their process keeps its priority
            yield_cpu_to_pages()
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
        figures = _Figures()
        beside = None
        if not once and connection.vendor == "postgresql":
            beside = _FiguresThread(figures)
            beside.start()
        try:
            while worker.running:
                close_old_connections()
                if time.monotonic() - sealed_at >= seal_every:
                    audit_seal()
                    sealed_at = time.monotonic()
                if beside is None and not figures.wait():
                    figures.turn()
                if notify_schedule() and verbosity:
                    self.stdout.write(f"{timezone.localtime():%Y-%m-%d %H:%M} case deadline notices enqueued")
                # Batch mode returns as soon as the queue is empty, which gives the loop its turn.
                worker.run()
                if once:
                    break
                if worker.running:
                    time.sleep(interval)
        finally:
            if beside is not None:
                beside.stopping.set()
                beside.join(timeout=30)  # a turn killed half-way leaves consistent rows (stats.rollups)
