import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction

from tenancy.models import AuditEntry
from tenancy.selectors import audit_verify
from tests.factories import CustomerFactory, make_invoice


@pytest.fixture
def ledger(organization, customer):
    for amount in ("100.00", "250.00", "75.50"):
        make_invoice(organization, customer, amount=amount)
    return organization


def _tamper(sql, params):
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending FK checks, so ALTER TABLE may run
        cursor.execute("ALTER TABLE tenancy_auditentry DISABLE TRIGGER tenancy_auditentry_append_only")
        cursor.execute(sql, params)
        cursor.execute("ALTER TABLE tenancy_auditentry ENABLE TRIGGER tenancy_auditentry_append_only")


def test_every_service_write_appends_a_linked_entry(ledger):
    entries = list(AuditEntry.objects.filter(organization=ledger).order_by("sequence"))

    assert [e.action for e in entries] == ["invoice.created"] * 3
    assert [e.sequence for e in entries] == [1, 2, 3]
    assert entries[1].previous_hash == entries[0].entry_hash
    assert audit_verify(ledger).ok


def test_edited_entry_is_reported_at_its_sequence(ledger):
    # given an entry whose recorded amount is changed behind the application's back
    entry = AuditEntry.objects.get(organization=ledger, sequence=2)
    _tamper("UPDATE tenancy_auditentry SET after = %s WHERE id = %s", ['{"total_amount": "1.00"}', entry.pk])

    result = audit_verify(ledger)

    assert result.broken_at == 2
    assert "edited" in result.reason


def test_deleted_entry_is_reported(ledger):
    entry = AuditEntry.objects.get(organization=ledger, sequence=2)
    _tamper("DELETE FROM tenancy_auditentry WHERE id = %s", [entry.pk])

    result = audit_verify(ledger)

    assert result.broken_at == 2
    assert result.reason == "entry 2 is missing"


def test_database_refuses_updates_and_deletes(ledger):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE tenancy_auditentry SET action = 'x'")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM tenancy_auditentry")


def test_model_refuses_update_and_delete(ledger):
    entry = AuditEntry.objects.filter(organization=ledger).first()
    entry.action = "forged"
    with pytest.raises(RuntimeError, match="append-only"):
        entry.save()
    with pytest.raises(RuntimeError, match="append-only"):
        entry.delete()


def test_chains_are_per_organization(ledger, other_organization):
    other_customer = CustomerFactory(organization=other_organization, currency="USD")
    make_invoice(other_organization, other_customer)

    assert AuditEntry.objects.get(organization=other_organization).sequence == 1
    assert audit_verify(ledger).ok and audit_verify(other_organization).ok


def test_verify_audit_command_reports_first_broken_link(ledger, capsys):
    call_command("verify_audit")
    assert f"{ledger.slug}: ok (3 entries)" in capsys.readouterr().out

    entry = AuditEntry.objects.get(organization=ledger, sequence=2)
    _tamper("UPDATE tenancy_auditentry SET actor_label = 'mallory' WHERE id = %s", [entry.pk])
    with pytest.raises(CommandError, match="1 organization"):
        call_command("verify_audit", "--organization", ledger.slug)
    assert "BROKEN at entry 2" in capsys.readouterr().out
