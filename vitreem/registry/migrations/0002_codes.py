from django.db import migrations


def load(apps, schema_editor):
    from vitreem.registry.codes import codes_load

    codes_load(apps)


class Migration(migrations.Migration):
    dependencies = [("registry", "0001_initial")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
