"""The load benchmark (issue 18): `make bench BENCH_ARGS=load`.

Runs bench/load_run.py in a process of its own, because it works on its own PostgreSQL database
(BENCH_LOAD_DB_URL, default load_bench on 127.0.0.1, the 200,000-child demo province kept between
runs) whatever DATABASE_URL the other benchmarks use; its JSON lines come out with theirs. Knobs:
BENCH_LOAD_USERS (20), BENCH_LOAD_SECONDS (120), BENCH_LOAD_MAX_REQUESTS per user (20000),
BENCH_LOAD_THINK (0 s between a user's requests), BENCH_LOAD_RATE (0; > 0: the users paced to offer that many
tasks a second together, for response times below saturation), BENCH_LOAD_IMPORT_EVERY (90 s), BENCH_LOAD_SINGLE
(15 requests per page at one connection, and as many served in process for their CPU time), BENCH_LOAD_WORKERS (2 gunicorn workers), BENCH_LOAD_PORT.
"""

from __future__ import annotations

import os
import subprocess
import sys


def run(emit) -> None:
    seconds = int(os.environ.get("BENCH_LOAD_SECONDS", "120"))
    # Bounded: database preparation (the first run seeds 200,000 children), the servers, the run, the checks.
    done = subprocess.run([sys.executable, "-m", "bench.load_run"], check=False,  # noqa: S603
                          timeout=seconds + 3600)
    if done.returncode:
        raise RuntimeError(f"bench.load_run exited {done.returncode}")
