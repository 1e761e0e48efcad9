"""core.db.after_bulk_load: after a bulk load the tables are vacuumed (PostgreSQL, outside a transaction)
so that index-only scans are possible, and the planner's statistics are fresh everywhere."""

from __future__ import annotations

import pytest
from django.db import connection

from vitreem.core.db import after_bulk_load
from vitreem.places.models import AdminUnit

TABLE = AdminUnit._meta.db_table


def _pages() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT relpages, relallvisible FROM pg_class WHERE relname = %s", [TABLE])
        return cursor.fetchone()


@pytest.mark.django_db
def test_inside_a_transaction_it_only_analyzes():
    assert after_bulk_load() == "ANALYZE"


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_postgresql_also_vacuums():
    if connection.vendor != "postgresql":
        assert after_bulk_load() == "ANALYZE"  # SQLite has no visibility map to set
        return
    # Rows written again leave their pages not all-visible until a vacuum.
    AdminUnit.objects.filter(level="commune").update(short_name="")
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {TABLE}")
    pages, visible = _pages()
    assert visible < pages
    assert after_bulk_load() == "VACUUM (ANALYZE)"
    pages, visible = _pages()
    assert pages > 0 and visible == pages
