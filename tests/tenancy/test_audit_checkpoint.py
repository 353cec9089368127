"""The audit chain's tail: removing its newest entries leaves a chain that still links, so the head
is anchored outside it (signed checkpoints, the weekly mail); TRUNCATE is refused."""

import pytest
from django.db import DatabaseError, connection, transaction

from tenancy.checkpoints import audit_checkpoint_write, audit_head
from tenancy.models import AuditCheckpoint, AuditEntry
from tenancy.selectors import audit_verify
from tenancy.services import audit_record
from tenancy.tasks import audit_checkpoints_task


@pytest.fixture
def chain(organization, customer):
    for i in range(5):
        audit_record(organization=organization, actor=None, action=f"test.step{i}", obj=customer)
    return organization


def _remove_tail(organization, keep: int) -> None:
    """What someone with the database's superuser could do: triggers off, newest entries deleted."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("DELETE FROM tenancy_auditentry WHERE organization_id = %s AND sequence > %s",
                       [organization.pk, keep])
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_a_removed_tail_is_detected_through_the_last_checkpoint(chain):
    assert audit_checkpoints_task() >= 1
    assert audit_verify(chain).ok
    _remove_tail(chain, keep=3)
    result = audit_verify(chain)
    assert not result.ok
    assert result.broken_at == 4
    assert result.reason.startswith("entries 4-5 are missing (truncated)")


def test_without_a_checkpoint_the_same_removal_went_unnoticed(chain):
    _remove_tail(chain, keep=3)
    assert audit_verify(chain).ok  # why the checkpoint exists


def test_a_checkpoint_is_written_only_when_the_head_moved(chain, customer):
    first = audit_checkpoint_write(organization=chain)
    assert (first.sequence, first.entry_hash) == (audit_head(chain).sequence, audit_head(chain).entry_hash)
    assert audit_checkpoint_write(organization=chain) is None
    audit_record(organization=chain, actor=None, action="test.more", obj=customer)
    assert audit_checkpoint_write(organization=chain).sequence == first.sequence + 1


def test_a_forged_checkpoint_is_reported(chain):
    checkpoint = audit_checkpoint_write(organization=chain)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE tenancy_auditcheckpoint SET sequence = 99 WHERE id = %s", [checkpoint.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    result = audit_verify(chain)
    assert not result.ok and "bad signature" in result.reason


def test_truncate_and_edits_are_refused(chain):
    audit_checkpoint_write(organization=chain)
    for statement in ("TRUNCATE tenancy_auditentry CASCADE", "TRUNCATE tenancy_auditcheckpoint",
                      "DELETE FROM tenancy_auditcheckpoint", "UPDATE tenancy_auditcheckpoint SET sequence = 1"):
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending foreign-key checks to block TRUNCATE
            cursor.execute("SET LOCAL inflow.audit_truncate = 'refused'")
            cursor.execute(statement)
    assert AuditEntry.objects.filter(organization=chain).count() == 5
    assert AuditCheckpoint.objects.filter(organization=chain).count() == 1
