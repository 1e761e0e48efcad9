import django.db.models.deletion
from django.db import migrations, models


def split_keys(apps, schema_editor):
    """Write the unit, year and app of every unit's stamp from its key "u:<id>[:y<year>][:<app>]" (the
    key's format as stats.rollups wrote it; a migration keeps its own copy of the rule). A stamp of a
    unit no longer in the tree keeps no unit: no page asks for it."""
    if schema_editor.connection.vendor == "postgresql":
        # One statement: row by row (bulk_update), the ~600,000 stamps of a year of national use took
        # 371 s (measured).
        schema_editor.execute(
            "UPDATE stats_unitstamp AS s SET "
            "unit_id = (SELECT a.id FROM places_adminunit a WHERE a.id = substring(s.key from '^u:([0-9]+)')::bigint), "
            "year = substring(s.key from '^u:[0-9]+:y([0-9]+)')::smallint, "
            "app = CASE WHEN split_part(s.key, ':', 3) ~ '^y[0-9]+$' THEN split_part(s.key, ':', 4) "
            "ELSE split_part(s.key, ':', 3) END "
            "WHERE s.key ~ '^u:[0-9]+'")
        return
    UnitStamp = apps.get_model("stats", "UnitStamp")
    AdminUnit = apps.get_model("places", "AdminUnit")
    units = set(AdminUnit.objects.values_list("pk", flat=True))
    batch = []
    for stamp in UnitStamp.objects.filter(key__startswith="u:").only("pk", "key").iterator(chunk_size=5000):
        parts = stamp.key.split(":")
        if not parts[1].isdigit():
            continue
        stamp.unit_id = int(parts[1]) if int(parts[1]) in units else None
        stamp.year = next((int(p[1:]) for p in parts[2:] if p[:1] == "y" and p[1:].isdigit()), None)
        stamp.app = next((p for p in parts[2:] if not (p[:1] == "y" and p[1:].isdigit())), "")
        batch.append(stamp)
        if len(batch) == 5000:
            UnitStamp.objects.bulk_update(batch, ["unit", "year", "app"])
            batch = []
    UnitStamp.objects.bulk_update(batch, ["unit", "year", "app"])


class Migration(migrations.Migration):

    dependencies = [
        ('places', '0002_tree_stamp'),
        ('stats', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='unitstamp',
            name='app',
            field=models.CharField(blank=True, help_text='The app whose figures it touches (all if blank)', max_length=16),
        ),
        migrations.AddField(
            model_name='unitstamp',
            name='unit',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='+', to='places.adminunit'),
        ),
        migrations.AddField(
            model_name='unitstamp',
            name='year',
            field=models.PositiveSmallIntegerField(blank=True, help_text='The first year the change reaches', null=True),
        ),
        migrations.AddIndex(
            model_name='unitstamp',
            index=models.Index(fields=['changed_at'], name='stats_units_changed_c93cf6_idx'),
        ),
        migrations.RunPython(split_keys, migrations.RunPython.noop),
    ]
