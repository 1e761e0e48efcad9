"""Every child's rows carry the province of the child's commune again (before the name search relies on it).

A child never changes province: `registry.services.child_move` refuses a move into another province
from this release on (leaving the province ends the record). Before, an administrator who saw two
provinces could move a child across, and the child's rows kept the province of the insert. The search
of a one-province scope now filters on the code (registry/0013, `core.scope.Scope.province_code`), so
such a child would have dropped out of the receiving province's searches: its rows take the province
of its current commune here, the same mapping as registry/0005 (a legacy unit through the crosswalk).
"""

from django.db import migrations

CHILD_TABLES = ("registry_residence", "registry_guardian", "registry_specialepisode", "registry_riskassessment",
                "registry_childrisk")
UNIT_PROVINCES = [
    "CREATE TEMP TABLE unit_province_realign (unit_id integer PRIMARY KEY, code varchar(4))",
    "INSERT INTO unit_province_realign SELECT id, province_code FROM places_adminunit WHERE version = '2025'",
    "INSERT INTO unit_province_realign SELECT u.id, m.code FROM places_adminunit u JOIN ("
    " SELECT DISTINCT o.province_code AS old, n.province_code AS code FROM places_unitsuccession s"
    " JOIN places_adminunit o ON o.id = s.old_id JOIN places_adminunit n ON n.id = s.new_id) m"
    " ON m.old = u.province_code WHERE u.version = 'legacy'",
]
CHUNK = 500


def realign(apps, schema_editor):
    """One read of the children to find those whose rows disagree with their commune (usually none: a
    country's tables are not rewritten for nothing), then those children's rows only."""
    with schema_editor.connection.cursor() as cur:
        for sql in UNIT_PROVINCES:
            cur.execute(sql)
        cur.execute("SELECT c.id FROM registry_child c JOIN unit_province_realign m ON m.unit_id = c.unit_id"
                    " WHERE c.province_code <> m.code")
        moved = [row[0] for row in cur.fetchall()]
        for i in range(0, len(moved), CHUNK):
            ids = ",".join(str(int(pk)) for pk in moved[i:i + CHUNK])
            cur.execute("UPDATE registry_child SET province_code = (SELECT m.code FROM unit_province_realign m"  # noqa: S608 — integers
                        f" WHERE m.unit_id = registry_child.unit_id) WHERE id IN ({ids})")
            for table in CHILD_TABLES:
                cur.execute(f"UPDATE {table} SET province_code = (SELECT c.province_code FROM registry_child c"  # noqa: S608
                            f" WHERE c.id = {table}.child_id) WHERE child_id IN ({ids})")
        cur.execute("DROP TABLE unit_province_realign")


class Migration(migrations.Migration):
    dependencies = [
        ("registry", "0011_child_keys_bytewise"),
    ]

    operations = [migrations.RunPython(realign, migrations.RunPython.noop)]
