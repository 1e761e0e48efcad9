"""Faults (issue 15 item 4): the task worker killed (kill -9) in the middle of a 20,000-row import, a web
worker killed (kill -9) while requests are served, a full refresh of the stored figures killed (kill -9)
after its first date (issue 13), and PostgreSQL killed (kill -9) in the middle of a payroll lock.

On PostgreSQL, in a database of its own (BENCH_FAULTS_URL, default bench_faults on 127.0.0.1), created
and dropped here. Everything runs as it does in production: `vitreem run_worker` processes (started and
killed by this script, by their own pid), the import started as the import page starts it, the job's
state read the way its page reads it. Figures:

- rows of the file written when the worker was killed (expected 0: the import is one transaction);
- the job's state after the reaper (expected "failed", with the message the page shows, not "running");
- rows written when the same upload is run again by a new worker (expected all), and audit rows
  (one per child, none left over from the killed run);
- the time from the kill to the job being reported failed, and the rerun's time;
- requests to our own gunicorn (2 sync workers) while one worker is killed: how many failed (only the one
  in flight on the killed worker may), and whether the master started a new worker.

PostgreSQL: the machine's server is shared and a benchmark may only end processes it started, so this
one starts a PostgreSQL of its own (initdb in a temporary directory, another port, run as the postgres
user), seeds a small demo province in it, locks the open month's payroll of the province inside a
transaction held open after the rows are written, kills that postmaster (kill -9), starts it again
(crash recovery) and counts what is left; then locks again. Bounded: every wait stops after FAULTS_WAIT
seconds.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROWS = int(os.environ.get("BENCH_FAULTS_ROWS", "20000"))
WAIT = float(os.environ.get("FAULTS_WAIT", "600"))
URL = os.environ.get("BENCH_FAULTS_URL", "postgres://postgres@127.0.0.1:5432/bench_faults")

# Run inside `vitreem shell` (base settings: the database task queue, as in production).
_PREPARE = r"""
import datetime as dt, json, os
from bench.bench_imports import _make_rows, _write_xlsx
from vitreem.accounts.models import Role
from vitreem.accounts.services import user_create
from vitreem.places.models import AdminUnit
from vitreem.places.selectors import communes_under, unit_current
province = AdminUnit.objects.get(version="legacy", code="62")
officer = user_create(username="faults", password="faults-password-long", role=Role.PROVINCE_OFFICER,
                      units=[province, AdminUnit.objects.get(version="2025", code="51")], full_name="Faults")
communes = sorted({u.name for c in communes_under(province) for u in unit_current(c)})
path = os.environ["FAULTS_FILE"]
_write_xlsx(path, _make_rows(communes, int(os.environ["FAULTS_ROWS"]), dt.date.today()))
print(json.dumps({"user": officer.pk}))
"""

_START = r"""
import json, os
from django.db import transaction
from vitreem.accounts.models import User
from vitreem.core.jobs import job_start
from vitreem.imports.models import ImportBatch
from vitreem.imports.services import import_create
from vitreem.imports.tasks import import_run
user = User.objects.get(username="faults")
batch_id = os.environ.get("FAULTS_BATCH")
if batch_id:
    batch = ImportBatch.objects.get(pk=int(batch_id))
else:
    with open(os.environ["FAULTS_FILE"], "rb") as fh:
        batch = import_create(actor=user, filename="faults.xlsx", content=fh.read())
with transaction.atomic():  # as the import page starts it (imports/views.py _start)
    status = job_start(kind="import", owner=user, task=import_run, import_id=batch.pk, user_id=user.pk,
                       valid_only=False)
    batch.status, batch.task_id = ImportBatch.Status.RUNNING, status.pk
    batch.save(update_fields=["status", "task_id"])
print(json.dumps({"batch": batch.pk, "status": str(status.pk)}))
"""

_REAP = r"""
import json, os
from vitreem.imports.models import ImportBatch
from vitreem.imports.services import import_job_reap
batch = ImportBatch.objects.get(pk=int(os.environ["FAULTS_BATCH"]))
print(json.dumps({"reset": import_job_reap(batch=batch)}))
"""


VITREEM = str(Path(sys.executable).with_name("vitreem"))  # the project's command, beside this Python


def _vitreem(env: dict[str, str], *args: str, script: str | None = None) -> dict:
    command = [VITREEM, *args] if script is None else [VITREEM, "shell", "-c", script]
    out = subprocess.run(command, env=env, check=True, capture_output=True, text=True, timeout=WAIT).stdout
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return json.loads(lines[-1]) if lines else {}


def _sql(query: str, *params):
    import psycopg

    with psycopg.connect(URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        return conn.execute(query, params).fetchone()


def _admin(statement: str) -> None:
    import psycopg

    server = URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(server.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        conn.execute(statement)


def _wait(predicate, what: str) -> float:
    start = time.perf_counter()
    while not predicate():
        if time.perf_counter() - start > WAIT:
            raise TimeoutError(f"bench_faults: {what} did not happen within {WAIT:.0f} s")
        time.sleep(0.2)
    return time.perf_counter() - start


def run(emit) -> None:
    name = URL.rsplit("/", 1)[1]
    _admin(f'DROP DATABASE IF EXISTS "{name}"')
    _admin(f'CREATE DATABASE "{name}"')
    workdir = tempfile.mkdtemp(prefix="vitreem-faults-")
    env = {**os.environ, "DATABASE_URL": URL, "DJANGO_SETTINGS_MODULE": "config.settings.base",
           "VITREEM_VAR_DIR": workdir, "FAULTS_FILE": str(Path(workdir) / "faults.xlsx"), "FAULTS_ROWS": str(ROWS),
           "CONN_MAX_AGE": "0", "PYTHONPATH": os.getcwd()}
    workers: list[subprocess.Popen] = []
    try:
        _vitreem(env, "migrate", "--noinput")
        _vitreem(env, "load_places")
        _vitreem(env, script=_PREPARE)
        job = _vitreem(env, script=_START)
        env["FAULTS_BATCH"] = str(job["batch"])
        worker = subprocess.Popen([VITREEM, "run_worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers.append(worker)

        def progress() -> tuple[int, int]:
            row = _sql("SELECT progress, total FROM core_taskstatus WHERE id = %s", job["status"])
            return (row[0] or 0, row[1] or 0) if row else (0, 0)

        _wait(lambda: progress()[1] and progress()[0] >= progress()[1] * 0.3, "30% of the import")
        done, total = progress()
        os.kill(worker.pid, signal.SIGKILL)  # our own worker, by its pid
        worker.wait(timeout=30)
        killed_at = time.perf_counter()
        written = _sql("SELECT count(*) FROM registry_child")[0]
        state = _sql("SELECT state FROM core_taskstatus WHERE id = %s", job["status"])[0]
        emit("faults.worker_killed_mid_import.rows_written", written, "rows", baseline_name="rows in the file",
             baseline_value=ROWS, progress_when_killed=f"{done}/{total}", state_before_reap=state)
        reset = _vitreem(env, script=_REAP)["reset"]
        state, message = _sql("SELECT state, message FROM core_taskstatus WHERE id = %s", job["status"])
        emit("faults.worker_killed_mid_import.reaped_seconds", time.perf_counter() - killed_at, "s",
             state=state, message=message, upload_offered_again=reset)

        rerun = _vitreem(env, script=_START)
        start = time.perf_counter()
        worker = subprocess.Popen([VITREEM, "run_worker"], env=env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        workers.append(worker)
        _wait(lambda: _sql("SELECT state FROM core_taskstatus WHERE id = %s", rerun["status"])[0]
              in ("done", "failed"), "the rerun")
        elapsed = time.perf_counter() - start
        state = _sql("SELECT state FROM core_taskstatus WHERE id = %s", rerun["status"])[0]
        written = _sql("SELECT count(*) FROM registry_child")[0]
        audits = _sql("SELECT count(*) FROM core_auditentry WHERE action = 'child.register'")[0]
        emit("faults.rerun_after_kill.rows_written", written, "rows", baseline_name="rows in the file",
             baseline_value=ROWS, state=state, audit_rows=audits, seconds=round(elapsed, 1))
        _web_worker_killed(emit, env, workers)
        _refresh_killed(emit, env, workers)
        _postgres_killed(emit, env)
    finally:
        for w in workers:
            if w.poll() is None:
                w.send_signal(signal.SIGTERM)
                try:
                    w.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    w.kill()
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)  # the file and the uploads: the disk is shared


_AGREE = r"""
import json
from vitreem.places.models import Level
from vitreem.stats.engine import compute, params_for
from vitreem.stats.rollups import _Store, installation_units, refresh_days
codes = ["children", "poor_household_children", "special_circumstances", "at_risk"]
provinces = [u for u in installation_units() if u.level == Level.PROVINCE]
stale, differ = 0, []
for day in refresh_days():
    fresh, old = _Store.read(codes, {u.pk for u in provinces}, day)
    stale += len(old)
    for u in provinces:
        live = compute(params_for(as_of=day, unit=u), codes)
        if any(fresh.get((c, u.pk)) != live[c] for c in codes):
            differ.append(f"{u.ref} {day}")
print(json.dumps({"stale": stale, "differ": differ}))
"""


def _refresh_killed(emit, env: dict[str, str], workers: list[subprocess.Popen]) -> None:
    """`vitreem stats_refresh --full` killed (kill -9) after its first date: each date is one transaction,
    so every date's rows are either all rewritten or all as they were (none half-written), and the next
    `vitreem stats_refresh` completes them, equal to the figures computed from the records."""
    for w in workers:  # the task workers refresh the figures too: stopped, so only the killed run writes
        if w.poll() is None:
            w.send_signal(signal.SIGTERM)
            w.wait(timeout=60)
    _vitreem(env, "stats_refresh")
    before = _sql("SELECT max(computed_at) FROM stats_rollup")[0]
    run = subprocess.Popen([VITREEM, "stats_refresh", "--full"], env={**env, "PYTHONUNBUFFERED": "1"},
                           stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    first = run.stdout.readline().strip() if run.stdout else ""  # "1/8 ngày tính (… s)": the first date committed
    os.kill(run.pid, signal.SIGKILL)  # our own process, by its pid
    run.wait(timeout=30)
    import psycopg

    with psycopg.connect(URL.replace("postgres://", "postgresql://"), autocommit=True) as conn:
        dates = conn.execute("SELECT as_of, count(*) FILTER (WHERE computed_at > %s), count(*) FROM stats_rollup "
                             "GROUP BY as_of ORDER BY as_of", [before]).fetchall()
    rewritten = [str(d) for d, new, total in dates if new == total]
    half = [str(d) for d, new, total in dates if 0 < new < total]
    emit("faults.refresh_killed.dates_half_written", len(half), "dates", baseline_name="dates", baseline_value=len(dates),
         killed_after=first, rewritten=rewritten, half_written=half)
    start = time.perf_counter()
    _vitreem(env, "stats_refresh")
    seconds = time.perf_counter() - start
    agree = _vitreem(env, script=_AGREE)
    emit("faults.refresh_after_kill.provinces_differing", len(agree["differ"]), "unit-dates",
         stale_left=agree["stale"], seconds=round(seconds, 1), differ=agree["differ"][:5])


def _children_of(pid: int) -> list[int]:
    """The processes whose parent is `pid` (read from /proc)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid:
                found.append(int(entry.name))
    return found


def _web_worker_killed(emit, env: dict[str, str], started: list[subprocess.Popen]) -> None:
    import http.client

    from bench.bench_stats import _free_port

    port = _free_port()
    server = subprocess.Popen(  # our own gunicorn, bound to 127.0.0.1
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--timeout", "30", "--log-level", "critical"], env={**env, "DEBUG": "0"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    started.append(server)

    def get() -> int:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        try:
            conn.request("GET", "/accounts/login/", headers={"Host": "127.0.0.1"})
            return conn.getresponse().status
        except OSError:
            return 0
        finally:
            conn.close()

    _wait(lambda: get() == 200 and len(_children_of(server.pid)) == 2, "gunicorn's two workers")
    before = sorted(_children_of(server.pid))
    statuses = []
    for i in range(300):
        if i == 100:
            os.kill(before[0], signal.SIGKILL)  # a worker of our own gunicorn, by its pid
        statuses.append(get())
    respawned = _wait(lambda: len(_children_of(server.pid)) == 2 and before[0] not in _children_of(server.pid),
                      "a new web worker")
    failed = sum(1 for s in statuses if s != 200)
    emit("faults.web_worker_killed.failed_requests", failed, "requests", baseline_name="requests sent",
         baseline_value=len(statuses), new_worker_within_seconds=round(respawned, 2),
         after_kill_ok=all(s == 200 for s in statuses[110:]))


_LOCK = r"""
import json, sys, time
from django.db import transaction
from django.utils import timezone
from vitreem.accounts.models import User
from vitreem.benefits.services import payroll_lock
from vitreem.places.selectors import unit_resolve
month = timezone.localdate().replace(day=1)
with transaction.atomic():  # held open once the rows are written: the server dies before the commit
    locked = payroll_lock(actor=User.objects.get(username="province"), month=month, unit=unit_resolve("2025:51"))
    print(json.dumps({"communes": len(locked), "total": sum(p.total for p in locked)}), flush=True)
    time.sleep(120)
"""

_COUNT = r"""
import json
from django.utils import timezone
from vitreem.benefits.models import PaidLine, Payroll
month = timezone.localdate().replace(day=1)
print(json.dumps({"payrolls": Payroll.objects.filter(month=month).count(),
                  "lines": PaidLine.objects.filter(payroll__month=month).count()}))
"""


def _postgres_killed(emit, env: dict[str, str]) -> None:
    import glob
    import shutil

    from bench.bench_stats import _free_port

    bindir = Path(sorted(glob.glob("/usr/lib/postgresql/*/bin"))[-1])
    data = Path(tempfile.mkdtemp(prefix="vitreem-pg-"))
    shutil.chown(data, "postgres", "postgres")
    as_postgres = {"user": "postgres", "group": "postgres"}  # initdb and postgres refuse to run as root
    port = _free_port()
    subprocess.run([bindir / "initdb", "-D", data, "-A", "trust", "-U", "postgres", "--no-sync"], check=True,
                   capture_output=True, timeout=WAIT, **as_postgres)
    options = ["-D", str(data), "-p", str(port), "-k", str(data), "-c", "listen_addresses=127.0.0.1"]
    server = subprocess.Popen([bindir / "postgres", *options], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              **as_postgres)
    own = {**env, "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/postgres"}

    def ready() -> bool:
        return subprocess.run([bindir / "pg_isready", "-h", "127.0.0.1", "-p", str(port), "-q"]).returncode == 0

    try:
        _wait(ready, "our own PostgreSQL")
        _vitreem(own, "migrate", "--noinput")
        _vitreem(own, "load_places")
        _vitreem(own, "seed_demo", "--children", "4000")
        lock = subprocess.Popen([VITREEM, "shell", "-c", _LOCK], env=own, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        line = ""
        while lock.stdout is not None and not line.startswith("{"):  # the shell prints a line of its own first
            line = lock.stdout.readline()
            if not line:
                raise RuntimeError(f"bench_faults: the lock ended early: {lock.stderr.read()[-500:]}")
        written = json.loads(line)  # the rows are written, the transaction still open
        os.kill(server.pid, signal.SIGKILL)  # our own postmaster, by its pid
        server.wait(timeout=60)
        lock.wait(timeout=WAIT)
        client_error = (lock.stderr.read().strip().splitlines() or [""])[-1]
        server = subprocess.Popen([bindir / "postgres", *options], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL, **as_postgres)
        recovered = _wait(ready, "PostgreSQL after the crash")
        left = _vitreem(own, script=_COUNT)
        emit("faults.postgres_killed_mid_lock.payrolls_left", left["payrolls"], "payrolls",
             baseline_name="communes the lock had written", baseline_value=written["communes"],
             lines_left=left["lines"], client_saw=client_error[:200], recovery_seconds=round(recovered, 2))
        again = subprocess.run([VITREEM, "shell", "-c", _LOCK.replace("time.sleep(120)", "pass")], env=own,
                               check=True, capture_output=True, text=True, timeout=WAIT).stdout
        relocked = json.loads([ln for ln in again.splitlines() if ln.startswith("{")][-1])
        emit("faults.postgres_killed_mid_lock.relocked_total", relocked["total"], "VND",
             baseline_name="total the killed lock had written", baseline_value=written["total"],
             communes=relocked["communes"])
    finally:
        if server.poll() is None:
            server.send_signal(signal.SIGTERM)  # our own postmaster: a fast shutdown
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(data, ignore_errors=True)
