# Issue 13 item 7 / issue 14 item 7: an upload is read by a background task ("reading"), and
# import files are stored per organization (imports/<organization id>/...).

from django.db import migrations, models

import receivables.models


class Migration(migrations.Migration):

    dependencies = [
        ("receivables", "0009_ledger_db_defaults"),
    ]

    operations = [
        migrations.AlterField(
            model_name="importjob",
            name="file",
            field=models.FileField(blank=True, upload_to=receivables.models.import_upload_to),
        ),
        migrations.AlterField(
            model_name="importjob",
            name="status",
            field=models.CharField(choices=[("reading", "Reading the file"), ("pending", "Pending"),
                                            ("running", "Running"), ("succeeded", "Succeeded"),
                                            ("failed", "Failed")], default="pending", max_length=20),
        ),
    ]
