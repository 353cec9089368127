"""Audit chain anchors: the head of each organization's chain (sequence and hash), signed with
SECRET_KEY and stored as an append-only checkpoint, periodically (`audit_checkpoints_task`).
A chain whose newest entries were removed still links; it no longer reaches its last checkpoint."""

from __future__ import annotations

import hmac
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import AuditCheckpoint, AuditEntry, Organization

SALT = "inflow.audit.checkpoint"


@dataclass(frozen=True)
class ChainHead:
    sequence: int
    entry_hash: str

    def __str__(self) -> str:
        return f"#{self.sequence} {self.entry_hash}"


def audit_head(organization: Organization) -> ChainHead | None:
    """The newest entry of the organization's chain (None while it is empty)."""
    entry = (AuditEntry.objects.filter(organization=organization).order_by("-sequence")
             .values("sequence", "entry_hash").first())
    return ChainHead(entry["sequence"], entry["entry_hash"]) if entry else None


def checkpoint_signature(organization_id: int, sequence: int, entry_hash: str, created_at) -> str:
    message = f"{organization_id}:{sequence}:{entry_hash}:{created_at.isoformat()}"
    return salted_hmac(SALT, message, algorithm="sha256").hexdigest()


def checkpoint_valid(checkpoint: AuditCheckpoint) -> bool:
    expected = checkpoint_signature(checkpoint.organization_id, checkpoint.sequence, checkpoint.entry_hash,
                                    checkpoint.created_at)
    return hmac.compare_digest(expected, checkpoint.signature)


@transaction.atomic
def audit_checkpoint_write(*, organization: Organization) -> AuditCheckpoint | None:
    """Anchor the chain's current head; nothing when it has not moved since the last checkpoint."""
    head = audit_head(organization)
    if head is None:
        return None
    last = AuditCheckpoint.objects.filter(organization=organization).order_by("-sequence").first()
    if last is not None and last.sequence >= head.sequence:
        return None
    now = timezone.now()
    checkpoint = AuditCheckpoint(organization=organization, sequence=head.sequence, entry_hash=head.entry_hash,
                                 created_at=now,
                                 signature=checkpoint_signature(organization.pk, head.sequence, head.entry_hash, now))
    checkpoint.save()
    return checkpoint


def latest_checkpoint(organization: Organization) -> AuditCheckpoint | None:
    return AuditCheckpoint.objects.filter(organization=organization).order_by("-sequence").first()
