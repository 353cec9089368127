"""The collectors' worklist: tasks assigned and logged, collectors notified."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer
from tenancy.dates import local_today
from tenancy.errors import DomainError
from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import Organization, Role
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import selectors
from ..models import (
    CollectionTask,
    CustomerDunning,
    EventKind,
    Outcome,
    TaskStatus,
)
from .common import _actor_label, _collector_require, _follow_up, timeline_add

# --- worklist ------------------------------------------------------------------------------

@transaction.atomic
def collection_task_assign(*, organization: Organization, actor: Actor, task: CollectionTask, user) -> CollectionTask:
    """Give a task to a collector of the organization."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, task)
    if user is not None:
        _collector_require(organization, user, field="assigned_to")
    before = task.assigned_to_id
    task.assigned_to = user
    task.save(update_fields=["assigned_to"])
    audit_record(organization=organization, actor=actor, action="task.assigned", obj=task,
                 before={"assigned_to": before}, after={"assigned_to": user.pk if user else None})
    return task


@transaction.atomic
def collection_task_log(*, organization: Organization, actor: Actor, task: CollectionTask, outcome: str,
                        notes: str = "", close: bool = True) -> CollectionTask:
    """Log a call's outcome on the customer's timeline; close the task unless told not to."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, task)
    if outcome not in Outcome.values:
        raise DomainError(_("Unknown outcome %(outcome)s.") % {"outcome": outcome}, field="outcome")
    task.last_outcome = outcome
    if close:
        task.status, task.closed_at = TaskStatus.DONE, timezone.now()
    task.save(update_fields=["last_outcome", "status", "closed_at"])
    data = {"task": task.pk, "outcome": outcome, "notes": notes}
    audit_record(organization=organization, actor=actor, action="task.logged", obj=task, after=data)
    timeline_add(organization=organization, customer=task.customer, kind=EventKind.CALL,
                 summary=f"{Outcome(outcome).label}: {notes}" if notes else str(Outcome(outcome).label), data=data,
                 actor_label=_actor_label(actor))
    return task


# --- collectors notified (portal actions) --------------------------------------------------

def collector_notify(*, organization: Organization, customer: Customer, title: str, body: str) -> CollectionTask:
    """A follow-up task for the customer's collector and an email to them (or to every collector)."""
    setting = CustomerDunning.objects.filter(organization=organization, customer=customer).first()
    collector_id = setting.collector_id if setting else None
    task = _follow_up(organization, customer, title, local_today(organization.timezone), collector_id)
    # The customer's collector while they still collect for this organization; else every collector.
    members = selectors.collectors(organization)
    users = (collector_id and list(members.filter(pk=collector_id))) or members
    recipients = sorted({u.email for u in users if u.email})
    if recipients:
        email = EmailMultiAlternatives(subject=title, body=body, from_email=settings.DEFAULT_FROM_EMAIL,
                                       to=recipients, headers={ORGANIZATION_HEADER: str(organization.pk)})
        transaction.on_commit(lambda: email.send(fail_silently=True))
    return task
