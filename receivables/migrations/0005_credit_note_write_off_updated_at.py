"""Credit notes and write-offs get `updated_at`, so their lists sync corrections with `updated_since`.

Existing rows have never been changed through a service that could tell: they start at their created_at."""

import django.utils.timezone
from django.db import migrations, models
from django.db.models import F


def updated_at_from_created_at(apps, schema_editor):
    for name in ("CreditNote", "WriteOff"):
        apps.get_model("receivables", name).objects.update(updated_at=F("created_at"))


class Migration(migrations.Migration):
    dependencies = [("receivables", "0004_invoice_org_voided_idx")]

    operations = [
        migrations.AddField(
            model_name="creditnote",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="writeoff",
            name="updated_at",
            field=models.DateTimeField(auto_now=True, default=django.utils.timezone.now),
            preserve_default=False,
        ),
        migrations.RunPython(updated_at_from_created_at, migrations.RunPython.noop, elidable=True),
        migrations.AddIndex(
            model_name="creditnote",
            index=models.Index(fields=["organization", "updated_at", "id"], name="credit_note_org_updated_idx"),
        ),
        migrations.AddIndex(
            model_name="writeoff",
            index=models.Index(fields=["organization", "updated_at", "id"], name="write_off_org_updated_idx"),
        ),
    ]
