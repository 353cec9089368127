"""weeklyreportschedule.recipients: Django's auto-created many-to-many table becomes an explicit through model carrying
organization_id (filled from the owner row), so it is a tenant table like the others: distributed by
organization_id, its unique key widened with it (tenancy.distribution, docs/scaling.md). Same table,
same columns, same rows."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import tenancy.distribution


class Migration(migrations.Migration):
    dependencies = [
        ("receivables", "0012_customer_contact_phone"),
        ("tenancy", "0008_currency_choices_babel"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Django's auto-created table as it is, now declared; what follows changes it for real.
            state_operations=[
                migrations.CreateModel(
                    name="WeeklyReportRecipient",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("weeklyreportschedule", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="receivables.weeklyreportschedule")),
                        ("user", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to=settings.AUTH_USER_MODEL)),
                    ],
                    options={"db_table": "receivables_weeklyreportschedule_recipients", "unique_together": {("weeklyreportschedule", "user")}},
                ),
                migrations.AlterField(
                    model_name="weeklyreportschedule",
                    name="recipients",
                    field=models.ManyToManyField(blank=True, related_name="+", through="receivables.WeeklyReportRecipient", to=settings.AUTH_USER_MODEL, verbose_name="member recipients"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="weeklyreportrecipient",
            name="organization",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.RunPython(tenancy.distribution.link_organization_fill("receivables", "WeeklyReportRecipient", "weeklyreportschedule"),
                             migrations.RunPython.noop),
        migrations.AlterField(
            model_name="weeklyreportrecipient",
            name="organization",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.AlterUniqueTogether(name="weeklyreportrecipient", unique_together=set()),
        migrations.AddConstraint(
            model_name="weeklyreportrecipient",
            constraint=models.UniqueConstraint(fields=("weeklyreportschedule", "user", "organization"), name="weekly_report_recipient_once"),
        ),
        # Django's single-column foreign keys go; the final migration makes the composite ones.
        migrations.AlterField(
            model_name="weeklyreportrecipient",
            name="weeklyreportschedule",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="receivables.weeklyreportschedule"),
        ),
    ]
