"""The name search's index of words (issue 18: the province's search for a common word).

A row per distinct word of each child's folded name (`registry_child.name_key`), with the columns the
child list filters and sorts a name search by. On PostgreSQL three statement-level triggers on
registry_child keep it (after INSERT, UPDATE and DELETE, reading the statement's transition tables: an
import's 500 rows or a COPY of a country's register are one INSERT … SELECT, not a call per row), and
the rows the register holds are copied in here: the table, its triggers and its rows in one
transaction (nothing is left half-made if it stops), which holds writes to the register while it
runs (the demo's 200,000 children: 3 s; a country of 25 million: minutes, see docs/en/operations.md).
Migration 0019 then marks the rows visible to all (VACUUM, outside a transaction).

The index `child_word_search` (province, word) carries every column the search reads, so a word's
matches are read from one range of it alone, without a visit of the register's rows: the demo
province's search for "thi" with the poverty filter, its keys query 44–59 → 22–33 ms (eight runs each,
alternated, on a machine about twice as slow as stop 49's).

The three text columns compare byte by byte (`COLLATE "C"`), as the register's keys do (migration
0011): a word's prefix is then an index range, and the order is the child list's. SQLite: the table
only (selectors.word_search_keys does not use it there).
"""

from django.db import migrations, models

import vitreem.places.fields

INSERTED = """
INSERT INTO registry_childnameword
    (child_id, word, province_code, unit_id, household_id, given_key, name_key, ended_on)
SELECT c.id, w.word, c.province_code, c.unit_id, c.household_id, c.given_key, c.name_key, c.ended_on
FROM {source} c
CROSS JOIN LATERAL (SELECT DISTINCT unnest(string_to_array(c.name_key, ' ')) AS word) w
WHERE w.word <> ''"""

# The rows whose copied columns changed (an update of a child's schooling leaves its words alone).
CHANGED = """
SELECT n.* FROM new_rows n JOIN old_rows o ON o.id = n.id
WHERE (n.name_key, n.given_key, n.unit_id, n.household_id, n.province_code, n.ended_on)
      IS DISTINCT FROM (o.name_key, o.given_key, o.unit_id, o.household_id, o.province_code, o.ended_on)"""

FUNCTIONS = f"""
CREATE FUNCTION registry_child_words_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {INSERTED.format(source="new_rows")};
    RETURN NULL;
END $$;

CREATE FUNCTION registry_child_words_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM registry_childnameword w USING ({CHANGED}) c WHERE w.child_id = c.id;
    {INSERTED.format(source="(" + CHANGED + ")")};
    RETURN NULL;
END $$;

CREATE FUNCTION registry_child_words_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM registry_childnameword w USING old_rows o WHERE w.child_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER child_words_inserted AFTER INSERT ON registry_child
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_child_words_inserted();
CREATE TRIGGER child_words_updated AFTER UPDATE ON registry_child
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION registry_child_words_updated();
CREATE TRIGGER child_words_deleted AFTER DELETE ON registry_child
    REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION registry_child_words_deleted();
"""

INDEX = ("CREATE INDEX child_word_search ON registry_childnameword (province_code, word) "
         "INCLUDE (given_key, name_key, child_id, unit_id, household_id, ended_on)")


def forward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute('ALTER TABLE registry_childnameword ALTER COLUMN word TYPE varchar(150) COLLATE "C", '
                          'ALTER COLUMN given_key TYPE varchar(40) COLLATE "C", '
                          'ALTER COLUMN name_key TYPE varchar(150) COLLATE "C"')
    schema_editor.execute(FUNCTIONS)
    schema_editor.execute(INSERTED.format(source="registry_child"))
    schema_editor.execute(INDEX)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in ("inserted", "updated", "deleted"):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS child_words_{name} ON registry_child")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS registry_child_words_{name}()")


class Migration(migrations.Migration):
    # One transaction: the table, its triggers and its rows, or nothing (the VACUUM after it: 0019).

    dependencies = [
        ("places", "0002_tree_stamp"),
        ("registry", "0017_poverty_province_year"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChildNameWord",
            fields=[
                ("pk", models.CompositePrimaryKey("child_id", "word", blank=True, editable=False, primary_key=True,
                                                  serialize=False)),
                ("child_id", models.BigIntegerField()),
                ("word", models.CharField(max_length=150)),
                ("province_code", vitreem.places.fields.ProvinceCodeField(
                    blank=True, default="", editable=False, max_length=4, source="unit",
                    help_text="2025 province code of the child (distribution key)")),
                ("given_key", models.CharField(max_length=40)),
                ("name_key", models.CharField(max_length=150)),
                ("ended_on", models.DateField(null=True)),
                ("household", models.ForeignKey(db_constraint=False, db_index=False, null=True,
                                                on_delete=models.deletion.DO_NOTHING, related_name="+",
                                                to="registry.household")),
                ("unit", models.ForeignKey(db_constraint=False, db_index=False,
                                           on_delete=models.deletion.DO_NOTHING, related_name="+",
                                           to="places.adminunit")),
            ],
        ),
        migrations.RunPython(forward, backward),
    ]
