"""A commune's residences with their children, from the index alone (issue 13: one commune's figures).

The (unit, start, end) index gains the child (`INCLUDE (child_id)` on PostgreSQL): one commune's
figures read its residences of a day and then their children (the one pass's counts, by the child's
key), and its payroll reads the children who ever lived there; both visited the table for the child's
id, one heap page per residence or so (2,724 pages for the 9,300 residences of a commune of the
200,000-child demo). From the index: 60 pages. Measured there (PostgreSQL 15, medians of 9): the
payroll's query of its people 23 → 9–15 ms.

Built CONCURRENTLY on PostgreSQL beside the old index, which is then dropped the same way, so a
country's register takes writes meanwhile. SQLite has no INCLUDE: it builds the same index on the same
columns.
"""

from django.db import migrations, models

from vitreem.core.db import index_built_concurrently

OLD = "registry_re_unit_id_b39992_idx"
NEW = "residence_unit_days"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("registry", "0015_residence_open_unit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                index_built_concurrently(NEW, 'ON registry_residence (unit_id, start, "end")', include="child_id"),
                index_built_concurrently(OLD, 'ON registry_residence (unit_id, start, "end")', reverse=True),
            ],
            state_operations=[
                migrations.RemoveIndex(model_name="residence", name=OLD),
                migrations.AddIndex(
                    model_name="residence",
                    index=models.Index(fields=["unit", "start", "end"], include=["child"], name=NEW)),
            ],
        ),
    ]
