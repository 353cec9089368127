"""Reads for tenancy: memberships and the audit chain's integrity."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef, QuerySet

from .models import AuditEntry, Membership, Organization


def organizations_for_user(user: AbstractBaseUser) -> QuerySet[Organization]:
    return Organization.objects.filter(memberships__user_id=user.pk).order_by("name")


def membership_candidates(organization: Organization) -> QuerySet:
    """Active users an admin of `organization` may add or re-role: its own members, and users
    who belong to no organization yet. Anyone else is as unknown as a user who does not exist."""
    memberships = Membership.objects.filter(user_id=OuterRef("pk"))
    return get_user_model().objects.filter(is_active=True).filter(
        Exists(memberships.filter(organization=organization)) | ~Exists(memberships))


def membership_candidate_find(*, organization: Organization, identifier: str) -> AbstractBaseUser | None:
    """The candidate (see membership_candidates) with this username, else with this email."""
    users = membership_candidates(organization)
    return users.filter(username=identifier).first() or users.filter(email__iexact=identifier).order_by("pk").first()


def membership_get(*, organization: Organization, user: AbstractBaseUser) -> Membership | None:
    return Membership.objects.filter(organization=organization, user_id=user.pk).first()


@dataclass(frozen=True)
class AuditVerification:
    checked: int
    broken_at: int | None  # sequence number of the first bad entry
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.broken_at is None


def audit_verify(organization: Organization) -> AuditVerification:
    """Walk the organization's chain in order; report the first entry that does not link."""
    from .services import GENESIS_HASH, audit_entry_hash

    previous_hash = GENESIS_HASH
    expected_sequence = 1
    checked = 0
    entries = AuditEntry.objects.filter(organization=organization).order_by("sequence").iterator(chunk_size=2000)
    for entry in entries:
        if entry.sequence != expected_sequence:
            return AuditVerification(checked, expected_sequence, f"entry {expected_sequence} is missing")
        if entry.previous_hash != previous_hash:
            return AuditVerification(checked, entry.sequence, "previous_hash does not match the entry before it")
        if audit_entry_hash(entry) != entry.entry_hash:
            return AuditVerification(checked, entry.sequence, "content does not match its hash (edited)")
        previous_hash = entry.entry_hash
        expected_sequence += 1
        checked += 1
    return _checkpoint_check(organization, checked, previous_hash)


def _checkpoint_check(organization: Organization, checked: int, head_hash: str) -> AuditVerification:
    """The chain links; does it still reach its latest signed checkpoint (tail not removed)?"""
    from .checkpoints import checkpoint_valid, latest_checkpoint

    checkpoint = latest_checkpoint(organization)
    if checkpoint is None:
        return AuditVerification(checked, None)
    if not checkpoint_valid(checkpoint):
        return AuditVerification(checked, checkpoint.sequence,
                                 f"checkpoint #{checkpoint.sequence} has a bad signature (forged)")
    if checked < checkpoint.sequence:
        return AuditVerification(checked, checked + 1,
                                 f"entries {checked + 1}-{checkpoint.sequence} are missing (truncated): the checkpoint "
                                 f"of {checkpoint.created_at:%Y-%m-%d %H:%M} saw the chain at #{checkpoint.sequence}")
    entry_hash = AuditEntry.objects.filter(organization=organization, sequence=checkpoint.sequence).values_list(
        "entry_hash", flat=True).first()
    if entry_hash != checkpoint.entry_hash:
        return AuditVerification(checked, checkpoint.sequence,
                                 f"entry {checkpoint.sequence} does not match the checkpoint's hash (rewritten)")
    return AuditVerification(checked, None)
