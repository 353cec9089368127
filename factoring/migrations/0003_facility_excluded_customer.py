"""facility.excluded_customers: Django's auto-created many-to-many table becomes an explicit through model carrying
organization_id (filled from the owner row), so it is a tenant table like the others: distributed by
organization_id, its unique key widened with it (tenancy.distribution, docs/scaling.md). Same table,
same columns, same rows."""

import django.db.models.deletion
from django.db import migrations, models

import tenancy.distribution


class Migration(migrations.Migration):
    dependencies = [
        ("factoring", "0002_currency_choices_babel"),
        ("tenancy", "0008_currency_choices_babel"),
        ("receivables", "0012_customer_contact_phone"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Django's auto-created table as it is, now declared; what follows changes it for real.
            state_operations=[
                migrations.CreateModel(
                    name="FacilityExcludedCustomer",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("facility", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="factoring.facility")),
                        ("customer", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="receivables.customer")),
                    ],
                    options={"db_table": "factoring_facility_excluded_customers", "unique_together": {("facility", "customer")}},
                ),
                migrations.AlterField(
                    model_name="facility",
                    name="excluded_customers",
                    field=models.ManyToManyField(blank=True, related_name="+", through="factoring.FacilityExcludedCustomer", to="receivables.customer", verbose_name="excluded customers"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="facilityexcludedcustomer",
            name="organization",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.RunPython(tenancy.distribution.link_organization_fill("factoring", "FacilityExcludedCustomer", "facility"),
                             migrations.RunPython.noop),
        migrations.AlterField(
            model_name="facilityexcludedcustomer",
            name="organization",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.AlterUniqueTogether(name="facilityexcludedcustomer", unique_together=set()),
        migrations.AddConstraint(
            model_name="facilityexcludedcustomer",
            constraint=models.UniqueConstraint(fields=("facility", "customer", "organization"), name="facility_excluded_customer_once"),
        ),
        # Django's single-column foreign keys go; the final migration makes the composite ones.
        migrations.AlterField(
            model_name="facilityexcludedcustomer",
            name="facility",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="factoring.facility"),
        ),
        migrations.AlterField(
            model_name="facilityexcludedcustomer",
            name="customer",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="receivables.customer"),
        ),
    ]
