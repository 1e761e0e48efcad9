"""An index of each unit's open residences (issue 18: every page fast under load).

The allowances' home asks whether anyone still lives in the legacy communes on the 1st of the month
(`benefits.selectors._anyone_lives_in`: a residence with `end IS NULL` and `start <= D`, or one with
`end >= D`). For the open branch PostgreSQL chose the (unit, start, end) index and read every
residence each commune ever had: 272 legacy communes, 3,229 pages, 10.0 ms on the load benchmark's
database (200,000 children after the reform). With a partial index of the open residences a legacy
commune is one empty seek: 1.1 ms (EXPLAIN ANALYZE, same query). 2 MB for 258,000 open residences.

Built CONCURRENTLY on PostgreSQL, so a country's register takes writes while it builds; the model's
state gets the same index (registry.models.Residence.Meta), which SQLite builds plainly.
"""

from django.db import migrations, models

from vitreem.core.db import index_built_concurrently

INDEX = "residence_open_unit"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("registry", "0014_child_open_unit"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_built_concurrently(
                INDEX, 'ON registry_residence (unit_id, start) WHERE "end" IS NULL')],
            state_operations=[migrations.AddIndex(
                model_name="residence",
                index=models.Index(condition=models.Q(("end__isnull", True)), fields=["unit", "start"],
                                   name=INDEX))],
        ),
    ]
