"""The HIV coefficients were loaded as unconfirmed; Decree 20/2021, Art. 6(1)(c) reads: 2.5 under 4 years,
2.0 from 4 to under 16 — the values loaded. Marked confirmed with the clause (only the rows still as
loaded: an administrator's own later rows are left alone)."""

from django.db import migrations

CLAUSE = "Nghị định 20/2021, Điều 6 khoản 1 điểm c"


def confirm(apps, schema_editor):
    coefficient = apps.get_model("benefits", "Coefficient")
    coefficient.objects.filter(group__code="hiv_poor", confirmed=False,
                               legal_basis="Nghị định 20/2021, Điều 6 khoản 1 (chưa xác nhận)").update(
        confirmed=True, legal_basis=CLAUSE)


class Migration(migrations.Migration):
    dependencies = [("benefits", "0003_province_code")]
    operations = [migrations.RunPython(confirm, migrations.RunPython.noop)]
