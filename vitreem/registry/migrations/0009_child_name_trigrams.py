"""A trigram index on the children's folded names, on PostgreSQL (issue 18: the name search).

The child list finds a name by the start of any of its words (`name_key LIKE 'an%' OR name_key LIKE
'% an%'`, registry.selectors.children_filter). No B-tree serves a pattern inside the text, so every
search read every child of the scope: 50–90 ms a search on the 200,000-child province. pg_trgm's GIN
index serves both patterns of a word of three letters or more (measured on that province: a search
for "khang", 1,563 children, 68 → 22 ms; its count 55 → 12 ms). Shorter words and words as common as
"thi" are not helped (the planner reads the table), and SQLite has no such index: there the search
stays a scan.

pg_trgm ships with PostgreSQL and is a trusted extension (PostgreSQL 13+): the database's owner may
create it. The index is built CONCURRENTLY, so a country's register takes writes while it builds.
"""

from django.db import migrations

INDEX = "child_name_key_trgm"


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    schema_editor.execute(f"CREATE INDEX CONCURRENTLY IF NOT EXISTS {INDEX} "
                          "ON registry_child USING gin (name_key gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX CONCURRENTLY IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [
        ("registry", "0008_residence_unit_end"),
    ]

    operations = [migrations.RunPython(create, drop)]
