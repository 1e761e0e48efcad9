import django.db.models.deletion
from django.db import migrations, models

import vitreem.places.fields

# The link of a single parent's allowance to the children raised (Art. 5(4)) was the table Django
# made for the many-to-many field. It becomes the model `AllowanceChild` on the same table (state
# only: nothing of the table changes), which then takes the child's province code like every row of
# a child's data (issue 13 item 6). Existing rows take their child's code (registry 0005 filled the
# children's). Plain SQL (UPDATE … FROM: PostgreSQL, SQLite >= 3.33).
FILL = [
    "UPDATE benefits_allowance_children SET province_code = c.province_code FROM registry_child c"
    " WHERE c.id = benefits_allowance_children.child_id",
]


def fill(apps, schema_editor):
    with schema_editor.connection.cursor() as cur:
        cur.execute("SELECT 1 FROM benefits_allowance_children LIMIT 1")
        if cur.fetchone() is None:
            return
        for sql in FILL:
            cur.execute(sql)


class Migration(migrations.Migration):

    dependencies = [
        ("benefits", "0010_single_parent_enrolment"),
        ("registry", "0016_residence_unit_days"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="AllowanceChild",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False,
                                                   verbose_name="ID")),
                        ("allowance", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE,
                                                        to="benefits.allowance")),
                        ("child", models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                    to="registry.child")),
                    ],
                    options={"db_table": "benefits_allowance_children",
                             "unique_together": {("allowance", "child")}},
                ),
                migrations.AlterField(
                    model_name="allowance",
                    name="children",
                    field=models.ManyToManyField(blank=True, help_text="The children a single parent raises (Art. 5(4))",
                                                 related_name="+", through="benefits.AllowanceChild",
                                                 to="registry.child"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="allowancechild",
            name="province_code",
            field=vitreem.places.fields.ProvinceCodeField(blank=True, default="", editable=False,
                                                          help_text="2025 province code of the child (distribution key)",
                                                          max_length=4, source="child"),
        ),
        migrations.RunPython(fill, migrations.RunPython.noop),
    ]
