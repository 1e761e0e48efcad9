"""An index of one province's poverty classifications of a year (issue 18: the province's child search
with the poverty filter on the country).

A user whose scope is one province lists the children of its households classified poor (or near-poor)
in the review in force: `rules.q_poverty_in_force` now reads that province's classifications only, and
this index gives them, with their households, from the index alone. On the 25,000,000-child country
PostgreSQL then hashes the province's 18,000 poor households once instead of probing a household and its
classifications for each of the 49,000 children a common name ("thi") matches: 248–286 → 149–164 ms.

Built CONCURRENTLY on PostgreSQL, so the register takes writes while it builds; the model's state gets
the same index (registry.models.HouseholdPoverty.Meta), which SQLite builds plainly.
"""

from django.db import migrations, models

from vitreem.core.db import index_built_concurrently

INDEX = "poverty_province_year"


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("registry", "0016_residence_unit_days"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[index_built_concurrently(
                INDEX, "ON registry_householdpoverty (province_code, year, status, household_id)")],
            state_operations=[migrations.AddIndex(
                model_name="householdpoverty",
                index=models.Index(fields=["province_code", "year", "status", "household"], name=INDEX))],
        ),
    ]
