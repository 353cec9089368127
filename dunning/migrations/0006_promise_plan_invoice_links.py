"""PromiseToPay.invoices and PaymentPlan.invoices: each of Django's auto-created many-to-many tables
becomes an explicit through model carrying organization_id (filled from the owner row), so it is a
tenant table like the others: distributed by organization_id, its unique key widened with it (tenancy.distribution, docs/scaling.md). Same table,
same columns, same rows."""

import django.db.models.deletion
from django.db import migrations, models

import tenancy.distribution


class Migration(migrations.Migration):
    dependencies = [
        ("dunning", "0005_currency_choices_babel"),
        ("tenancy", "0008_currency_choices_babel"),
        ("receivables", "0012_customer_contact_phone"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            # Django's auto-created table as it is, now declared; what follows changes it for real.
            state_operations=[
                migrations.CreateModel(
                    name="PromiseToPayInvoice",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("promisetopay", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="dunning.promisetopay")),
                        ("invoice", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="receivables.invoice")),
                    ],
                    options={"db_table": "dunning_promisetopay_invoices", "unique_together": {("promisetopay", "invoice")}},
                ),
                migrations.AlterField(
                    model_name="promisetopay",
                    name="invoices",
                    field=models.ManyToManyField(related_name="+", through="dunning.PromiseToPayInvoice", to="receivables.invoice"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="promisetopayinvoice",
            name="organization",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.RunPython(tenancy.distribution.link_organization_fill("dunning", "PromiseToPayInvoice", "promisetopay"),
                             migrations.RunPython.noop),
        migrations.AlterField(
            model_name="promisetopayinvoice",
            name="organization",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.AlterUniqueTogether(name="promisetopayinvoice", unique_together=set()),
        migrations.AddConstraint(
            model_name="promisetopayinvoice",
            constraint=models.UniqueConstraint(fields=("promisetopay", "invoice", "organization"), name="promise_invoice_once"),
        ),
        migrations.SeparateDatabaseAndState(
            # Django's auto-created table as it is, now declared; what follows changes it for real.
            state_operations=[
                migrations.CreateModel(
                    name="PaymentPlanInvoice",
                    fields=[
                        ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                        ("paymentplan", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="dunning.paymentplan")),
                        ("invoice", models.ForeignKey(
                            on_delete=django.db.models.deletion.CASCADE, related_name="+", to="receivables.invoice")),
                    ],
                    options={"db_table": "dunning_paymentplan_invoices", "unique_together": {("paymentplan", "invoice")}},
                ),
                migrations.AlterField(
                    model_name="paymentplan",
                    name="invoices",
                    field=models.ManyToManyField(related_name="+", through="dunning.PaymentPlanInvoice", to="receivables.invoice"),
                ),
            ],
        ),
        migrations.AddField(
            model_name="paymentplaninvoice",
            name="organization",
            field=models.ForeignKey(null=True, on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.RunPython(tenancy.distribution.link_organization_fill("dunning", "PaymentPlanInvoice", "paymentplan"),
                             migrations.RunPython.noop),
        migrations.AlterField(
            model_name="paymentplaninvoice",
            name="organization",
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                    to="tenancy.organization"),
        ),
        migrations.AlterUniqueTogether(name="paymentplaninvoice", unique_together=set()),
        migrations.AddConstraint(
            model_name="paymentplaninvoice",
            constraint=models.UniqueConstraint(fields=("paymentplan", "invoice", "organization"), name="payment_plan_invoice_once"),
        ),
        # Django's single-column foreign keys go; the final migration makes the composite ones.
        migrations.AlterField(
            model_name="promisetopayinvoice",
            name="promisetopay",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="dunning.promisetopay"),
        ),
        migrations.AlterField(
            model_name="promisetopayinvoice",
            name="invoice",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="receivables.invoice"),
        ),
        migrations.AlterField(
            model_name="paymentplaninvoice",
            name="paymentplan",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="dunning.paymentplan"),
        ),
        migrations.AlterField(
            model_name="paymentplaninvoice",
            name="invoice",
            field=tenancy.distribution.TenantForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name="+",
                                                        to="receivables.invoice"),
        ),
    ]
