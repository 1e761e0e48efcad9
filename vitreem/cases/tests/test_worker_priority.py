"""The task worker yields the CPU to the pages (VITREEM_WORKER_NICE): its niceness goes up by the setting,
in a process of its own (forked here, so that the test run keeps its own priority)."""

import os

import pytest

from vitreem.cases.management.commands.run_worker import yield_cpu_to_pages


def _niceness_after(nice: int) -> tuple[int, int]:
    """(niceness before, after) `yield_cpu_to_pages` in a forked child with VITREEM_WORKER_NICE = nice."""
    from django.conf import settings

    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: no database, no pytest teardown
        try:
            settings.VITREEM_WORKER_NICE = nice
            before = os.nice(0)
            after = yield_cpu_to_pages()
            os.write(write, f"{before} {after} {os.nice(0)}".encode())
        finally:
            os._exit(0)
    os.close(write)
    os.waitpid(pid, 0)
    with os.fdopen(read) as fh:
        before, returned, now = map(int, fh.read().split())
    assert returned == now
    return before, now


@pytest.mark.parametrize(("nice", "expected"), [(10, 10), (0, 0), (25, 19), (-5, 0)])
def test_the_worker_lowers_its_own_priority_by_the_setting(nice, expected):
    before, after = _niceness_after(nice)
    # a niceness never goes past 19 (and only a privileged process could lower it: never asked)
    assert after == min(19, before + expected)


def test_the_test_process_keeps_its_priority():
    before = os.nice(0)
    _niceness_after(10)
    assert os.nice(0) == before
