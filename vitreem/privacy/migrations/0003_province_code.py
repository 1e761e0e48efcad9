from django.db import migrations

import vitreem.places.fields

# A consent, a data subject's request, a restriction and a retention rule applied to a record are rows
# of a child's data: they carry the child's 2025 province code like every other (issue 13 item 6,
# places/fields.py). Existing rows take their child's code, or their record's (a child's or a case's).
# Plain SQL (UPDATE … FROM: PostgreSQL, SQLite >= 3.33).
FILL = [
    *(f"UPDATE privacy_{table} SET province_code = c.province_code FROM registry_child c"
      f" WHERE c.id = privacy_{table}.child_id" for table in ("consent", "subjectrequest", "restriction")),
    "UPDATE privacy_retentionapplied SET province_code = c.province_code FROM registry_child c"
    " WHERE privacy_retentionapplied.kind = 'child' AND c.id = privacy_retentionapplied.object_id",
    "UPDATE privacy_retentionapplied SET province_code = c.province_code FROM cases_case c"
    " WHERE privacy_retentionapplied.kind = 'case' AND c.id = privacy_retentionapplied.object_id",
]


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        for sql in FILL:
            cur.execute(sql)


def _field(source="child"):
    return vitreem.places.fields.ProvinceCodeField(blank=True, default="", editable=False,
                                                   help_text="2025 province code of the child (distribution key)",
                                                   max_length=4, source=source)


class Migration(migrations.Migration):

    dependencies = [
        ("privacy", "0002_catalogue"),
        ("registry", "0005_province_code"),
        ("cases", "0004_province_code"),
    ]

    operations = [
        migrations.AddField(model_name="consent", name="province_code", field=_field()),
        migrations.AddField(model_name="subjectrequest", name="province_code", field=_field()),
        migrations.AddField(model_name="restriction", name="province_code", field=_field()),
        migrations.AddField(model_name="retentionapplied", name="province_code", field=_field("unit")),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
