"""policy.excluded_customers: Django's auto-created many-to-many table becomes an explicit through model carrying
organization_id (filled from the owner row), so it is a tenant table like the others: distributed by
organization_id, its unique key widened with it (tenancy.distribution, docs/scaling.md). Same table,
same columns, same rows."""

import django.db.models.deletion
from django.db import migrations, models

import tenancy.distribution


class Migration(migrations.Migration):
    dependencies = [
        ("insurance", "0002_currency_choices_babel"),
        ("tenancy", "0008_currency_choices_babel"),
        ("receivables", "0012_customer_contact_phone"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Django's auto-created table as it is, now declared; what follows changes it for real.
            state_operations=[
                migrations.CreateModel(
                    name="PolicyExcludedCustomer",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("policy", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="insurance.policy")),
                        ("customer", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="receivables.customer")),
                    ],
                    options={"db_table": "insurance_policy_excluded_customers", "unique_together": {("policy", "customer")}},
                ),
                migrations.AlterField(
                    model_name="policy",
                    name="excluded_customers",
                    field=models.ManyToManyField(blank=True, related_name="+", through="insurance.PolicyExcludedCustomer", to="receivables.customer", verbose_name="excluded buyers"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="policyexcludedcustomer",
            name="organization",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.RunPython(tenancy.distribution.link_organization_fill("insurance", "PolicyExcludedCustomer", "policy"),
                             migrations.RunPython.noop),
        migrations.AlterField(
            model_name="policyexcludedcustomer",
            name="organization",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.AlterUniqueTogether(name="policyexcludedcustomer", unique_together=set()),
        migrations.AddConstraint(
            model_name="policyexcludedcustomer",
            constraint=models.UniqueConstraint(fields=("policy", "customer", "organization"), name="policy_excluded_customer_once"),
        ),
        # Django's single-column foreign keys go; the final migration makes the composite ones.
        migrations.AlterField(
            model_name="policyexcludedcustomer",
            name="policy",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="insurance.policy"),
        ),
        migrations.AlterField(
            model_name="policyexcludedcustomer",
            name="customer",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="receivables.customer"),
        ),
    ]
