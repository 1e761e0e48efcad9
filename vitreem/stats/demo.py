"""Demo part "stats": after the other parts bulk-loaded their rows (COPY, bypassing the audit log),
refresh the planner's statistics and fill the stored figures of every unit and as-of date, so the
first visitor of any dashboard reads them instead of computing them (issue 13).

Without ANALYZE after a bulk load PostgreSQL plans the poverty counts (an EXISTS over household
poverty rows) as if the tables were empty: measured 10 s instead of 0.06 s on a 20,000-child demo."""

from __future__ import annotations

from django.db import connection

from .rollups import rollups_clear, rollups_refresh


def seed(ctx) -> str:
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    rollups_clear()
    pairs = rollups_refresh()
    return f"planner statistics refreshed; figures stored for {pairs} (unit, as-of date) pairs"
