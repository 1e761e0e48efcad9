"""Dashboards and the annual report on the demo province (BENCH_CHILDREN, default 200,000).

- province dashboard (/stats/?unit=legacy:62 as "leader") p50/p95 over 100 requests at 1 and at 20
  concurrent connections (20 client threads in this process), served by a real gunicorn (2 sync
  workers, DEBUG off) on 127.0.0.1 after a warm-up, so what is measured is the kept page of the
  view (validated by one stamp query and one membership query per request) on top of rollups;
  the workers' CPU time per request comes from /proc; baseline: the same headline figures computed
  by live COUNT queries through the engine with no rollups; the first fill of the rollups is shown too;
- time from a registry change (special_episode_open) to the dashboard showing it;
- .docx and .pdf generation time of the 2022 annual report (target: ≤ 15 s together): the .docx first,
  computing the year's figures, then the .pdf and a second .docx reading them;
- the load average at the start and with each timing (2 cores, shared with other work);
- for comparison, the 20-connection figures again with SESSION_SAVE_EVERY_REQUEST=1 (a second gunicorn;
  the default is off since this session).
Loops are bounded in count and time; traffic only to 127.0.0.1.
"""

from __future__ import annotations

import datetime as dt
import http.client
import os
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

CHILDREN = int(os.environ.get("BENCH_CHILDREN", "200000"))
ROOT = Path(__file__).resolve().parent.parent
URL = "/stats/?unit=legacy:62"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _session_for(user) -> str:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore

    session = SessionStore()
    session[SESSION_KEY] = str(user.pk)
    session[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    session[HASH_SESSION_KEY] = user.get_session_auth_hash()
    session.create()
    return session.session_key or ""


def _get(port: int, cookie: str, path: str = URL) -> tuple[int, str, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    conn.request("GET", path, headers={"Cookie": f"sessionid={cookie}", "Host": "127.0.0.1"})
    resp = conn.getresponse()
    body = resp.read().decode("utf-8", "replace")
    conn.close()
    return resp.status, body, (time.perf_counter() - started) * 1000


def _cpu_seconds_of_children(parent: int) -> float:
    """User+system CPU seconds of the processes whose parent is `parent` (the gunicorn workers), from
    /proc: with 2 cores shared with other work, wall-clock percentiles alone do not say what the
    server spent."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == parent:  # fields after "(comm)": state, ppid, …, utime (12), stime (13)
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def _figure(body: str, code: str) -> int | None:
    m = re.search(rf'data-figure="{code}">\s*([\d.]+)\s*<', body)  # the markup is indented
    return int(m.group(1).replace(".", "")) if m else None


def _concurrent(port: int, cookie: str, total: int, workers: int) -> list[float]:
    samples: list[float] = []
    lock = threading.Lock()
    per = total // workers
    deadline = time.perf_counter() + 300

    def worker() -> None:
        for _ in range(per):
            if time.perf_counter() > deadline:
                return
            status, _body, ms = _get(port, cookie)
            with lock:
                samples.append(ms if status == 200 else float("inf"))

    threads = [threading.Thread(target=worker) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return samples


def _serve(var_dir, **extra_env: str) -> tuple[int, subprocess.Popen]:
    """Our own gunicorn (2 sync workers, DEBUG off) on a free port of 127.0.0.1."""
    port = _free_port()
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", "config.settings.base"),
           "VITREEM_VAR_DIR": str(var_dir), "CONN_MAX_AGE": "60", "DEBUG": "0", **extra_env}
    server = subprocess.Popen(  # noqa: S603 — our own gunicorn, bound to 127.0.0.1
        [str(Path(sys.executable).with_name("gunicorn")), "config.wsgi", "-w", "2", "-b", f"127.0.0.1:{port}",
         "--timeout", "300", "--log-level", "warning"], cwd=ROOT, env=env)
    return port, server


def _wait_ready(port: int, cookie: str) -> None:
    deadline = time.perf_counter() + 60
    while True:
        try:
            status, body, _ = _get(port, cookie)
            break
        except OSError:
            if time.perf_counter() > deadline:
                raise
            time.sleep(0.3)
    assert status == 200, body[:500]
    for _ in range(4):  # both workers warm
        _get(port, cookie)


def run(emit) -> None:
    from django.conf import settings
    from django.utils import timezone

    from bench.common import ensure_demo, p50_p95, rollups_cleared
    from vitreem.accounts.models import User
    from vitreem.places.selectors import unit_resolve
    from vitreem.reports.services import report_build
    from vitreem.stats.engine import compute, params_for
    from vitreem.stats.selectors import HEADLINE, available, dashboard

    ensure_demo(CHILDREN)
    emit("stats.load_average_1_5_15", os.getloadavg()[0], "load", load=_load(), cores=os.cpu_count())
    province = unit_resolve("legacy:62")
    leader = User.objects.get(username="leader")  # province-wide, reads figures, no second factor needed
    year = timezone.localdate().year
    codes = available(HEADLINE)

    # baseline: the headline figures of the year and the previous year by live COUNT queries, no rollups
    started = time.perf_counter()
    compute(params_for(year=year, unit=province, user=leader), codes)
    compute(params_for(year=year - 1, unit=province, user=leader), codes)
    live_ms = (time.perf_counter() - started) * 1000
    emit("stats.headline_live_count", live_ms, "ms")

    rollups_cleared()
    started = time.perf_counter()
    dashboard(user=leader, year=year, unit="legacy:62")
    fill_ms = (time.perf_counter() - started) * 1000
    emit("stats.dashboard_first_fill", fill_ms, "ms", "stats.headline_live_count", live_ms)

    port, server = _serve(settings.VAR_DIR)
    try:
        cookie = _session_for(leader)
        _wait_ready(port, cookie)

        cpu = _cpu_seconds_of_children(server.pid)
        one = [_get(port, cookie)[2] for _ in range(100)]
        cpu_one = (_cpu_seconds_of_children(server.pid) - cpu) * 1000 / len(one)
        p50, p95 = p50_p95(one)
        emit("stats.dashboard_p50_1conn", p50, "ms", "stats.headline_live_count", live_ms)
        emit("stats.dashboard_p95_1conn", p95, "ms", "stats.headline_live_count", live_ms)
        emit("stats.dashboard_server_cpu_per_request_1conn", cpu_one, "ms", load=_load())
        cpu = _cpu_seconds_of_children(server.pid)
        many = _concurrent(port, cookie, 100, 20)
        cpu_many = (_cpu_seconds_of_children(server.pid) - cpu) * 1000 / max(1, len(many))
        p50, p95 = p50_p95(many)
        emit("stats.dashboard_p50_20conn", p50, "ms", "stats.headline_live_count", live_ms)
        emit("stats.dashboard_p95_20conn", p95, "ms", "stats.headline_live_count", live_ms)
        emit("stats.dashboard_server_cpu_per_request_20conn", cpu_many, "ms", load=_load())

        # a registry change, then poll the dashboard until it shows it
        from vitreem.registry import services
        from vitreem.registry.models import Child, SpecialGroup
        from vitreem.registry.rules import q_child_on, q_special_on

        today = timezone.localdate()
        before = _figure(_get(port, cookie)[1], "special_circumstances")
        child = (Child.objects.filter(q_child_on(today), unit__version="2025").exclude(q_special_on(today))
                 .order_by("pk").first())
        assert child is not None, "no child without special circumstances in a 2025 unit"
        officer = User.objects.get(username="province")
        changed = time.perf_counter()
        episode = services.special_episode_open(actor=officer, child=child, group=SpecialGroup.objects.get(code="3"),
                                                start=today - dt.timedelta(days=1))
        seen = None
        while time.perf_counter() - changed < 120:
            if _figure(_get(port, cookie)[1], "special_circumstances") == (before or 0) + 1:
                seen = time.perf_counter() - changed
                break
            time.sleep(0.05)
        emit("stats.change_to_dashboard", (seen if seen is not None else float("nan")) * 1000, "ms",
             "stats.headline_live_count", live_ms)
        services.special_episode_close(actor=officer, episode=episode, end=today - dt.timedelta(days=1))
    finally:
        server.terminate()
        server.wait(timeout=30)

    # For comparison: the same 20 connections with the session saved on every request (the idle
    # timeout, SESSION_SAVE_EVERY_REQUEST=1; an UPDATE and a commit per page). The default is off.
    port, server = _serve(settings.VAR_DIR, SESSION_SAVE_EVERY_REQUEST="1")
    try:
        cookie = _session_for(leader)
        _wait_ready(port, cookie)
        p50, p95 = p50_p95(_concurrent(port, cookie, 100, 20))
        emit("stats.dashboard_p50_20conn_session_saved_every_request", p50, "ms", load=_load())
        emit("stats.dashboard_p95_20conn_session_saved_every_request", p95, "ms", load=_load())
    finally:
        server.terminate()
        server.wait(timeout=30)

    # The first build computes the 2022 figures (the rollups were cleared above and the dashboard
    # filled only this year's), the next ones read them: both are shown.
    together = 0.0
    for fmt in ("docx", "pdf"):
        started = time.perf_counter()
        report_build(year=2022, unit=province, fmt=fmt)
        spent = time.perf_counter() - started
        together += spent
        emit(f"reports.annual_2022_{fmt}" + ("_first" if fmt == "docx" else ""), spent, "s", load=_load())
    emit("reports.annual_2022_docx_and_pdf", together, "s", load=_load())
    started = time.perf_counter()
    report_build(year=2022, unit=province, fmt="docx")
    emit("reports.annual_2022_docx_figures_stored", time.perf_counter() - started, "s", load=_load())
