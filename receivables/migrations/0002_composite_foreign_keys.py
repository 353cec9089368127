"""Cross-row invariants the ORM cannot declare, on PostgreSQL: composite foreign keys make
the database itself refuse an allocation whose invoice (or payment, credit note, write-off)
belongs to another organization or is in another currency, and an invoice whose customer
belongs to another organization. SQLite (the embedded default) relies on the services."""

from django.db import migrations

FOREIGN_KEYS = [
    # (table, name, columns, referenced table, referenced columns)
    ("receivables_invoice", "invoice_customer_same_org", "customer_id, organization_id",
     "receivables_customer", "id, organization_id"),
    ("receivables_payment", "payment_customer_same_org", "customer_id, organization_id",
     "receivables_customer", "id, organization_id"),
    ("receivables_creditnote", "credit_note_customer_same_org", "customer_id, organization_id",
     "receivables_customer", "id, organization_id"),
    ("receivables_writeoff", "write_off_invoice_same_org_currency", "invoice_id, organization_id, currency",
     "receivables_invoice", "id, organization_id, currency"),
    ("receivables_allocation", "allocation_invoice_same_org_currency", "invoice_id, organization_id, currency",
     "receivables_invoice", "id, organization_id, currency"),
    ("receivables_allocation", "allocation_payment_same_org_currency", "payment_id, organization_id, currency",
     "receivables_payment", "id, organization_id, currency"),
    ("receivables_allocation", "allocation_credit_note_same_org_currency", "credit_note_id, organization_id, currency",
     "receivables_creditnote", "id, organization_id, currency"),
    ("receivables_allocation", "allocation_write_off_same_org_currency", "write_off_id, organization_id, currency",
     "receivables_writeoff", "id, organization_id, currency"),
]


def add(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, columns, ref_table, ref_columns in FOREIGN_KEYS:
        schema_editor.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {name} FOREIGN KEY ({columns}) "
            f"REFERENCES {ref_table} ({ref_columns}) DEFERRABLE INITIALLY DEFERRED"
        )


def remove(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, name, *_rest in FOREIGN_KEYS:
        schema_editor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")


class Migration(migrations.Migration):
    dependencies = [("receivables", "0001_initial")]
    operations = [migrations.RunPython(add, remove)]
