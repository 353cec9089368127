"""The daily run and its preview: what is due, one message per customer, notices recorded once."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer, Invoice
from tenancy.dates import local_today
from tenancy.db import objects_insert, rows_insert
from tenancy.models import Organization, Role
from tenancy.money import ZERO
from tenancy.services import Actor, audit_record, role_require

from .. import calendars, financing, rendering, selectors, wording
from ..models import (
    Channel,
    CollectionTask,
    CustomerDunning,
    DunningMessage,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    MessageStatus,
    RunStatus,
    TaskKind,
    TaskStatus,
)
from .common import _actor_label
from .plans import plans_evaluate
from .policies import dunning_policy_default
from .promises import promises_evaluate
from .sending import _queue_send

# Namespace of the per-organization advisory lock taken by the daily run (PostgreSQL).
RUN_LOCK_NAMESPACE = 0x64756E
# The columns of a notice the run writes, in the order of its rows.
NOTICE_FIELDS = ("organization_id", "run_id", "message_id", "invoice_id", "customer_id", "step_id", "step_days",
                 "channel", "days_overdue", "amount_due", "currency", "fee_amount", "interest_amount",
                 "interest_through", "charges_invoice_id", "created_at")


# --- the daily run -------------------------------------------------------------------------

def _run_lock(organization: Organization) -> None:
    """One run per organization at a time. On SQLite the single writer does the same."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [RUN_LOCK_NAMESPACE, organization.pk])


def _open_totals(organization: Organization, customer_ids: set[int],
                 today: dt.date) -> dict[int, dict[str, tuple[Decimal, Decimal]]]:
    """Per customer and currency: (open balance, overdue balance). One query."""
    totals: dict[int, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
    rows = (Invoice.objects.filter(organization=organization, customer_id__in=customer_ids, voided_on__isnull=True,
                                   applied_amount__lt=F("total_amount"))
            .values_list("customer_id", "currency", "due_date", "total_amount", "applied_amount"))
    for customer_id, currency, due_date, total, applied in rows:
        open_amount, overdue = totals[customer_id].get(currency, (ZERO, ZERO))
        balance = total - applied
        totals[customer_id][currency] = (open_amount + balance, overdue + (balance if due_date < today else ZERO))
    return totals


class Plan:
    """What a run would do, computed without writing: shared by the preview and the run."""

    def __init__(self, organization: Organization, today: dt.date, *, customer: Customer | None = None):
        self.organization, self.today = organization, today
        default = dunning_policy_default(organization=organization)
        self.book = selectors.PolicyBook.load(organization, default)
        candidates = selectors.dunning_candidates(organization, self.book, today)
        if customer is not None:
            candidates = [c for c in candidates if c.customer_id == customer.pk]
        customer_ids = {c.customer_id for c in candidates}
        self.totals = _open_totals(organization, customer_ids, today)
        self.on_account = selectors.on_account(organization, customer_ids)
        # Held: (customer, currency) whose cash and credits on account cover everything overdue.
        self.held: dict[int, dict[str, tuple[Decimal, Decimal]]] = defaultdict(dict)
        kept = []
        for candidate in candidates:
            policy = self.book.policies[candidate.step.policy_id]
            credit = self.on_account.get(candidate.customer_id, {}).get(candidate.currency, ZERO)
            overdue = self.totals.get(candidate.customer_id, {}).get(candidate.currency, (ZERO, ZERO))[1]
            if policy.hold_when_credit_covers and candidate.days_overdue > 0 and credit > 0 and credit >= overdue:
                self.held[candidate.customer_id][candidate.currency] = (credit, overdue)
                continue
            kept.append(candidate)
        self.candidates = candidates = kept
        self.charges = selectors.charges_many(organization, self.book, candidates, today)
        self.by_customer: dict[int, list[selectors.Candidate]] = defaultdict(list)
        for candidate in candidates:
            self.by_customer[candidate.customer_id].append(candidate)
        self.customers = Customer.objects.in_bulk(list(self.by_customer))
        self.settings = {s.customer_id: s for s in CustomerDunning.objects.filter(
            organization=organization, customer_id__in=list(self.by_customer))}
        # Invoices to be paid to a disclosed factor, asked once for the run (issue 15).
        self.pay_to = financing.pay_to(organization, [c.invoice_id for c in candidates])
        self.wordings = wording.organization_wordings(organization)  # an organization's own texts (issue 14)

    def policy_of(self, candidates: list[selectors.Candidate]) -> DunningPolicy:
        return self.book.policies[candidates[0].step.policy_id]

    def messages(self, *, with_links: bool = True):
        """(customer, mail candidates, call candidates, rendered or None) per customer."""
        for customer_id, candidates in self.by_customer.items():
            customer = self.customers[customer_id]
            mail = [c for c in candidates if c.step.channel != Channel.CALL]
            calls = [c for c in candidates if c.step.channel == Channel.CALL or c.step.call_task]
            rendered = None
            if mail:
                policy = self.policy_of(candidates)
                link = rendering.portal_url(self.organization, customer) if with_links else ""
                rendered = rendering.message_render(
                    organization=self.organization, customer=customer,
                    items=rendering.items_for(mail, self.charges), tone=policy.tone,
                    open_totals=self.totals.get(customer_id, {}), today=self.today, portal_link=link,
                    on_account=self.on_account.get(customer_id, {}), pay_to=self.pay_to, wordings=self.wordings)
            yield customer, mail, calls, rendered


def dunning_preview(organization: Organization, *, today: dt.date | None = None,
                    customer: Customer | None = None) -> list[tuple[Customer, list, list, Any]]:
    """What the run would send today, per customer, without writing or sending anything."""
    today = today or local_today(organization.timezone)
    return list(Plan(organization, today, customer=customer).messages())


@dataclass(frozen=True)
class Preview:
    """Today's preview; on a day some policies do not send (a weekend), also what the next
    business day's run would send for them, so the page is never silently empty."""

    today: dt.date
    rows: list
    held_policies: list[str]
    next_day: dt.date | None
    next_rows: list




def dunning_preview_page(organization: Organization, *, today: dt.date | None = None,
                         customer: Customer | None = None) -> Preview:
    """The preview page: today's messages, and on a weekend the next business day's for the
    policies that send on business days only."""
    today = today or local_today(organization.timezone)
    plan = Plan(organization, today, customer=customer)
    rows = list(plan.messages())
    held = {pk: p for pk, p in plan.book.policies.items()
            if p.business_days_only and not calendars.is_business_day(today, p.holiday_calendars)}
    if not held:
        return Preview(today, rows, [], None, [])
    next_day = min(calendars.next_business_day(today, p.holiday_calendars) for p in held.values())
    later = Plan(organization, next_day, customer=customer)
    later.by_customer = {cid: cands for cid, cands in later.by_customer.items()
                         if cands[0].step.policy_id in held}
    return Preview(today, rows, sorted(p.name for p in held.values()), next_day, list(later.messages()))


@transaction.atomic
def dunning_run(*, organization: Organization, actor: Actor = None, today: dt.date | None = None) -> DunningRun:
    """Run dunning for today in the organization's time zone: decide promises and plans, find
    each open invoice's highest reached step not yet sent, record one message per customer
    with its notices, and queue the sending when the transaction commits."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    today = today or local_today(organization.timezone)
    dunning_policy_default(organization=organization)
    _run_lock(organization)
    promises_evaluate(organization=organization, today=today)
    plans_evaluate(organization=organization, today=today)
    plan = Plan(organization, today)
    now = timezone.now()
    run = DunningRun.objects.create(organization=organization, run_date=today, started_at=now,
                                    triggered_by=_actor_label(actor),
                                    invoices_evaluated=len(plan.candidates))
    messages: dict[int, DunningMessage] = {}
    call_customers: list[Customer] = []
    for customer, _mail, calls, rendered in plan.messages():
        if rendered is not None:
            recipients = [e for e in (customer.contact_emails or []) if e]
            messages[customer.pk] = DunningMessage(
                organization=organization, run=run, customer=customer, language=rendered.language,
                to=recipients, subject=rendered.subject, body_text=rendered.text, body_html=rendered.html,
                content_hash=rendered.content_hash, has_letter=rendered.has_letter, created_at=now,
                status=MessageStatus.PENDING if recipients else MessageStatus.NO_RECIPIENT,
                error="" if recipients else _("The customer has no contact email."))
        if calls or (customer.pk in messages and not messages[customer.pk].to):
            call_customers.append(customer)  # no email address: a collector has to call
    objects_insert(list(messages.values()))
    # One row per invoice, streamed straight from the candidates (no model objects: a run over a
    # large book records 100,000 notices or more). The unique (invoice, step) constraint is the
    # exactly-once rule: a duplicate fails the run.
    rows = []
    for candidate in plan.candidates:
        charges = plan.charges[candidate.invoice_id]
        step = candidate.step
        message = messages.get(candidate.customer_id) if step.channel != Channel.CALL else None
        rows.append((organization.pk, run.pk, message.pk if message is not None else None, candidate.invoice_id,
                     candidate.customer_id, step.pk, step.days_from_due, step.channel, candidate.days_overdue,
                     candidate.amount_due, candidate.currency, charges.fee, charges.interest,
                     charges.interest_through, None, now))
    rows_insert(DunningNotice, NOTICE_FIELDS, rows)
    notices = rows
    tasks = _call_tasks(organization, run, plan, call_customers, today)
    run.notices_count, run.messages_count, run.tasks_count = len(notices), len(messages), len(tasks)
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save(update_fields=["notices_count", "messages_count", "tasks_count", "status", "finished_at"])
    audit_record(organization=organization, actor=actor, action="dunning.run", obj=run,
                 after={"run_date": today, "notices": len(notices), "messages": len(messages), "tasks": len(tasks),
                        "held_credit_on_account": sorted(plan.held),
                        "fees_without_rate": sorted({c.missing_rate for c in plan.charges.values() if c.missing_rate})})
    pending = [m.pk for m in messages.values() if m.status == MessageStatus.PENDING]
    transaction.on_commit(lambda: _queue_send(pending))
    return run


def _call_tasks(organization: Organization, run: DunningRun, plan: Plan, customers: list[Customer],
                today: dt.date) -> list[CollectionTask]:
    """A call task per customer that reached a call step (or has no email), unless one is open."""
    ids = [c.pk for c in customers]
    busy = set(CollectionTask.objects.filter(organization=organization, customer_id__in=ids, kind=TaskKind.CALL,
                                             status=TaskStatus.OPEN).values_list("customer_id", flat=True))
    now = timezone.now()
    tasks = []
    for customer in customers:
        if customer.pk in busy:
            continue
        setting = plan.settings.get(customer.pk)
        numbers = ", ".join(c.number for c in plan.by_customer[customer.pk])
        tasks.append(CollectionTask(organization=organization, customer=customer, kind=TaskKind.CALL, run=run,
                                    title=(_("Call %(customer)s about %(invoices)s")
                                           % {"customer": customer.name, "invoices": numbers})[:300],
                                    assigned_to_id=setting.collector_id if setting else None, due_on=today,
                                    created_at=now))
    return CollectionTask.objects.bulk_create(tasks)
