from django.db import migrations


def load(apps, schema_editor):
    from vitreem.benefits.defaults import rules_load

    rules_load(apps)


class Migration(migrations.Migration):
    dependencies = [("benefits", "0001_initial")]

    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
