"""An index of the open records of each unit (issue 18: every page fast under load).

The child list counts a scope's open records (`ended_on IS NULL`, capped at 10,001) and the home pages
count them too. Through the (unit, birth_date) index PostgreSQL had to visit every row to test
`ended_on`: on the 200,000-child demo province the province officer's count read 12,433 pages in
21 ms, a commune worker's (9,197 children) 3,302 pages in 15-18 ms. A partial index on the unit of the
open records answers both from the index alone (an index-only scan: 2.5 ms for the province's).

Built CONCURRENTLY on PostgreSQL, so a country's register takes writes while it builds; the model's
state gets the same index (registry.models.Child.Meta), which SQLite builds plainly.
"""

from django.db import migrations, models

from vitreem.core.db import index_built_concurrently

INDEX = "child_open_unit"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("registry", "0013_child_province_name_trigrams"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_built_concurrently(INDEX, "ON registry_child (unit_id) WHERE ended_on IS NULL")],
            state_operations=[migrations.AddIndex(
                model_name="child",
                index=models.Index(condition=models.Q(("ended_on__isnull", True)), fields=["unit"],
                                   name=INDEX))],
        ),
    ]
