from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("receivables", "0003_weekly_reports")]

    operations = [
        migrations.AddIndex(
            model_name="invoice",
            index=models.Index(
                condition=models.Q(("voided_on__isnull", False)),
                fields=["organization", "voided_on"],
                name="invoice_org_voided_idx",
            ),
        ),
    ]
