"""Small database helpers shared by the apps."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection


def write_if_free(write: Callable[[], Any]) -> bool:
    """Run a bookkeeping write (a token's last-use time) only if the database takes it at once.

    SQLite has one writer for the whole file: an import keeps it for its whole transaction, and a
    request waiting for it fails after the busy timeout ("database is locked", issue 20). A write
    that can be skipped tries once without waiting, and is skipped when the lock is taken. Inside a
    transaction (a service, a test) the lock is already this connection's, and PostgreSQL locks rows,
    not the database: there the write is simply made. Returns whether it was written."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        write()
        return True
    timeout_ms = int(float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)) * 1000)
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA busy_timeout = 0")
    try:
        write()
    except OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return False
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
    return True
