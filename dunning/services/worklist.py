"""The collectors' worklist: tasks assigned and logged, collectors notified."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money
from tenancy.services import Actor, audit_record, audit_record_many, role_require, same_organization_check

from .. import selectors
from ..models import (
    CollectionTask,
    CustomerDunning,
    EventKind,
    Outcome,
    PromiseToPay,
    TaskKind,
    TaskStatus,
)
from .common import _actor_label, _collector_require, _follow_up, timeline_add
from .promises import promise_create, promise_invoices_covering

# A customer whose call was logged less than this many days ago gets no new task from the
# refresh (a follow-up date brings it back sooner).
CALL_CADENCE_DAYS = 7
# Namespace of the per-organization advisory lock of the worklist refresh (PostgreSQL).
REFRESH_LOCK_NAMESPACE = 0x776B6C

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
                        notes: str = "", close: bool = True, follow_up_on: dt.date | None = None) -> CollectionTask:
    """Log a call's outcome on the customer's timeline; close the task unless told not to or
    given a follow-up date (the task then stays open, due on that date)."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, task)
    if outcome not in Outcome.values:
        raise DomainError(_("Unknown outcome %(outcome)s.") % {"outcome": outcome}, field="outcome")
    if task.status != TaskStatus.OPEN:
        raise DomainError(_("This task is already closed."), field="task")
    if follow_up_on is not None:
        if follow_up_on < local_today(organization.timezone):
            raise DomainError(_("The follow-up date cannot be in the past."), field="follow_up_on")
        task.due_on, close = follow_up_on, False
    task.last_outcome = outcome
    if close:
        task.status, task.closed_at = TaskStatus.DONE, timezone.now()
    task.save(update_fields=["last_outcome", "status", "closed_at", "due_on"])
    data = {"task": task.pk, "outcome": outcome, "notes": notes,
            "follow_up_on": follow_up_on.isoformat() if follow_up_on else None}
    audit_record(organization=organization, actor=actor, action="task.logged", obj=task, after=data)
    timeline_add(organization=organization, customer=task.customer, kind=EventKind.CALL,
                 summary=(_("%(outcome)s: %(notes)s") % {"outcome": Outcome(outcome).label, "notes": notes} if notes
                          else str(Outcome(outcome).label)), data=data,
                 actor_label=_actor_label(actor))
    return task


@dataclass(frozen=True)
class CallLogged:
    task: CollectionTask
    promise: PromiseToPay | None = None


@transaction.atomic
def collection_call_log(*, organization: Organization, actor: Actor, customer: Customer, outcome: str,
                        notes: str = "", task: CollectionTask | None = None, follow_up_on: dt.date | None = None,
                        promised_date: dt.date | None = None, promised_amount: Decimal | str | None = None,
                        invoices: list[Invoice] | None = None) -> CallLogged:
    """Log a call with a customer (on its open task, else a new one). "Promised to pay" records a
    real promise to pay, which pauses dunning on the invoices it covers."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    if task is not None:
        same_organization_check(organization, task)
        if task.customer_id != customer.pk:
            raise DomainError(_("This task is about another customer."), code=ErrorCode.CUSTOMER_MISMATCH,
                              field="task")
    promise = None
    if outcome == Outcome.PROMISED:
        promise = _promise_from_call(organization, actor, customer, notes, promised_date, promised_amount, invoices)
    if task is None:
        task = (CollectionTask.objects.filter(organization=organization, customer=customer, status=TaskStatus.OPEN)
                .order_by("due_on", "pk").first())
    if task is None:
        setting = CustomerDunning.objects.filter(organization=organization, customer=customer).first()
        task = CollectionTask.objects.create(
            organization=organization, customer=customer, kind=TaskKind.CALL, title=_call_title(customer.name),
            assigned_to_id=setting.collector_id if setting else None, due_on=local_today(organization.timezone),
            created_at=timezone.now())
    task = collection_task_log(organization=organization, actor=actor, task=task, outcome=outcome, notes=notes,
                               close=follow_up_on is None, follow_up_on=follow_up_on)
    return CallLogged(task, promise)


def _promise_from_call(organization: Organization, actor: Actor, customer: Customer, notes: str,
                       promised_date: dt.date | None, promised_amount: Decimal | str | None,
                       invoices: list[Invoice] | None) -> PromiseToPay:
    if promised_date is None:
        raise DomainError(_("Give the date the customer promised to pay."), field="promised_date")
    amount = None if promised_amount in (None, "") else promised_amount
    today = local_today(organization.timezone)
    chosen = invoices or promise_invoices_covering(organization, customer, amount, today)
    if not chosen:
        raise DomainError(_("%(customer)s has no open invoice without a promise.") % {"customer": customer.name},
                          field="promised_amount")
    if amount is None:
        amount = sum((i.balance for i in chosen), ZERO)
    try:
        return promise_create(organization=organization, actor=actor, customer=customer, invoices=chosen,
                              amount=amount, promised_date=promised_date, notes=notes)
    except DomainError as error:
        field = {"amount": "promised_amount"}.get(error.field or "", error.field)
        raise DomainError(error.message, code=error.code, field=field) from error


def _call_title(name: str) -> str:
    return (_("Call %(customer)s") % {"customer": name})[:300]


def collection_tasks_refresh(*, organization: Organization, today: dt.date) -> int:
    """A call task for every customer with overdue items that dunning does not pause (promise, plan,
    dispute, exclusion), that has no open task and whose last call is older than the cadence; and
    untouched generated tasks closed once nothing is overdue. Idempotent; a constant number of
    queries however many customers. Returns how many tasks it created."""
    since = timezone.now() - dt.timedelta(days=CALL_CADENCE_DAYS)
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [REFRESH_LOCK_NAMESPACE, organization.pk])
        overdue = selectors.unpaused_overdue_by_customer(organization, today)
        busy = selectors.customers_called_or_queued(organization, called_since=since)
        due = {customer_id: row for customer_id, row in overdue.items() if customer_id not in busy}
        settings_ = dict(CustomerDunning.objects.filter(organization=organization, customer_id__in=list(due))
                         .values_list("customer_id", "collector_id")) if due else {}
        now = timezone.now()
        tasks = CollectionTask.objects.bulk_create([
            CollectionTask(organization=organization, customer_id=customer_id, kind=TaskKind.CALL,
                           title=_task_title(row), assigned_to_id=settings_.get(customer_id), due_on=today,
                           created_at=now)
            for customer_id, row in sorted(due.items())])
        stale = [t for t in selectors.generated_tasks_open(organization) if t.customer_id not in overdue]
        if stale:
            CollectionTask.objects.filter(pk__in=[t.pk for t in stale]).update(status=TaskStatus.DONE,
                                                                            closed_at=now)
        entries = [(t, None, {"customer": t.customer_id, "title": t.title}) for t in tasks]
        if entries:
            audit_record_many(organization=organization, actor=None, action="task.generated", entries=entries)
        if stale:
            audit_record_many(organization=organization, actor=None, action="task.closed_nothing_overdue",
                              entries=[(t, {"status": TaskStatus.OPEN}, {"status": TaskStatus.DONE}) for t in stale])
    return len(tasks)


def _task_title(row: selectors.OverdueCustomer) -> str:
    """Short: customer, amount overdue, oldest days."""
    amounts = " + ".join(str(Money(amount, currency)) for currency, amount in sorted(row.amounts.items()))
    return (_("%(customer)s · %(amount)s · %(days)s days") % {"customer": row.name, "amount": amounts,
                                                              "days": row.max_days})[:300]


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
