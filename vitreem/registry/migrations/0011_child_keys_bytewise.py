"""The children's folded name keys compare byte by byte on PostgreSQL (issue 18: the name search).

`name_key` and `given_key` are folded to lowercase ASCII words (core.text.fold), and the child list
is ordered by them. Under the database's default collation every comparison of a sort goes through
the C library's locale (strcoll), even for a "C.UTF-8" database: the province's search for "thi"
sorts its 33,000 matches for the first page and the count, and with the "C" collation (byte
comparison) that sort took 25 ms less of 83 (measured on the 200,000-child demo).

Bytewise is also the order SQLite gives these keys, and for names the right one: a space sorts before
any letter, so "le an" comes before "lea", word by word. A database created with a language's
collation (en_US) ignores spaces at first and put "lea" first; after this migration both databases
list children in the same order.

The indexes on the keys are rebuilt with the new collation (no table rewrite). A later AlterField on
these columns must keep `COLLATE "C"` (Django's model state does not carry it: SQLite has no such
collation name).
"""

from django.db import migrations

FORWARD = ('ALTER TABLE registry_child ALTER COLUMN name_key TYPE varchar(150) COLLATE "C", '
           'ALTER COLUMN given_key TYPE varchar(40) COLLATE "C"')
BACKWARD = ('ALTER TABLE registry_child ALTER COLUMN name_key TYPE varchar(150) COLLATE "default", '
            'ALTER COLUMN given_key TYPE varchar(40) COLLATE "default"')


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD)


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0010_residence_no_overlap"),
    ]

    operations = [migrations.RunPython(forward, backward)]
