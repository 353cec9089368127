"""Every write of the dunning app: policies, the daily run and sending, disputes, promises,
payment plans, the worklist and the timeline.

The daily run records each (invoice, step) notice with the exact rendered message in one
transaction, before anything is sent; sending is queued on commit and claims the message row
first, so a retry, a second beat tick or a second worker never sends twice.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables import services as ledger
from receivables.models import Customer, Invoice, Segment
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import Organization, Role
from tenancy.money import ZERO, Money, parse_amount, quantize
from tenancy.services import Actor, audit_record, model_check, role_require, same_organization_check

from . import rendering, selectors
from .models import (
    Channel,
    CollectionTask,
    CustomerDunning,
    CustomerEvent,
    Dispute,
    DisputeReason,
    DisputeResolution,
    DisputeStatus,
    DunningMessage,
    DunningNotice,
    DunningPolicy,
    DunningRun,
    DunningStep,
    EventKind,
    Installment,
    MessageStatus,
    Outcome,
    PaymentPlan,
    PlanStatus,
    PromiseStatus,
    PromiseToPay,
    RunStatus,
    SegmentPolicy,
    Source,
    StepTemplate,
    TaskKind,
    TaskStatus,
    Tone,
)

DEFAULT_STEPS = (
    {"days_from_due": -7, "channel": Channel.EMAIL, "template": StepTemplate.COURTESY},
    {"days_from_due": 1, "channel": Channel.EMAIL, "template": StepTemplate.REMINDER},
    {"days_from_due": 30, "channel": Channel.EMAIL, "template": StepTemplate.SECOND, "call_task": True},
    {"days_from_due": 60, "channel": Channel.EMAIL, "template": StepTemplate.FINAL_NOTICE, "call_task": True},
    {"days_from_due": 90, "channel": Channel.LETTER, "template": StepTemplate.FINAL_DEMAND, "call_task": True},
)
DISPUTE_SLA_DAYS = 14
MAX_SEND_ATTEMPTS = 5
# Namespace of the per-organization advisory lock taken by the daily run (PostgreSQL).
RUN_LOCK_NAMESPACE = 0x64756E


# --- helpers -------------------------------------------------------------------------------

def _actor_label(actor: Actor, fallback: str = "system") -> str:
    return actor.get_username() if actor is not None else fallback


def _hash(data: Any) -> str:
    return hashlib.sha256(json.dumps(data, cls=DjangoJSONEncoder, sort_keys=True).encode()).hexdigest()


def timeline_add(*, organization: Organization, customer: Customer, kind: EventKind, summary: str,
                 data: dict | None = None, actor_label: str = "system", content_hash: str = "") -> CustomerEvent:
    """Append an entry to the customer's timeline."""
    data = json.loads(json.dumps(data or {}, cls=DjangoJSONEncoder))
    return CustomerEvent.objects.create(organization=organization, customer=customer, kind=kind, summary=summary[:500],
                                        data=data, content_hash=content_hash or _hash({"summary": summary, **data}),
                                        actor_label=actor_label, occurred_at=timezone.now())


def _emit(organization: Organization, type: str, payload: dict) -> None:
    from tenancy.webhooks import event_emit

    event_emit(organization=organization, type=type, payload=payload)


def _collector_require(organization: Organization, user, *, field: str) -> None:
    """Customers and tasks go to members with the collector role or higher, nobody else."""
    if not selectors.collectors(organization).filter(pk=user.pk).exists():
        raise DomainError(_("%(user)s is not a collector of %(org)s.")
                          % {"user": user.get_username(), "org": organization.name}, field=field)


# --- policies ------------------------------------------------------------------------------

def dunning_policy_default(*, organization: Organization) -> DunningPolicy:
    """The organization's default policy, created with the standard steps on first use."""
    policy = DunningPolicy.objects.filter(organization=organization, is_default=True).first()
    if policy is not None:
        return policy
    with transaction.atomic():
        # Serialise the lazy creation: two first runs must not each create a default.
        Organization.objects.select_for_update(no_key=True).filter(pk=organization.pk).first()
        policy = DunningPolicy.objects.filter(organization=organization, is_default=True).first()
        if policy is None:
            policy = DunningPolicy.objects.create(organization=organization, name=str(_("Standard")), is_default=True)
            DunningStep.objects.bulk_create([DunningStep(organization=organization, policy=policy, **s)
                                             for s in DEFAULT_STEPS])
            audit_record(organization=organization, actor=None, action="dunning.policy_created", obj=policy,
                         after={"name": policy.name, "steps": [s["days_from_due"] for s in DEFAULT_STEPS]})
    return policy


def _steps_validate(steps: Sequence[dict]) -> list[dict]:
    if not steps:
        raise DomainError(_("A policy needs at least one step."), field="steps")
    days = [int(s["days_from_due"]) for s in steps]
    if len(set(days)) != len(days):
        raise DomainError(_("Two steps cannot fire on the same day from the due date."), field="steps")
    cleaned = []
    for step in steps:
        channel = step.get("channel", Channel.EMAIL)
        if channel not in Channel.values:
            raise DomainError(_("Unknown channel %(channel)s.") % {"channel": channel}, field="steps")
        cleaned.append({"days_from_due": int(step["days_from_due"]), "channel": channel,
                        "template": step.get("template", StepTemplate.REMINDER),
                        "fee_amount": parse_amount(step.get("fee_amount", "0"), field="fee_amount", allow_zero=True),
                        "call_task": bool(step.get("call_task", False))})
    return sorted(cleaned, key=lambda s: s["days_from_due"])


@transaction.atomic
def dunning_policy_create(*, organization: Organization, actor: Actor, name: str, steps: Sequence[dict],
                          tone: str = Tone.STANDARD, **fields: Any) -> DunningPolicy:
    """Create a non-default policy (e.g. gentle, for strategic customers) with its steps (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    dunning_policy_default(organization=organization)
    if DunningPolicy.objects.filter(organization=organization, name=name).exists():
        raise DomainError(_("A policy named %(name)s already exists.") % {"name": name}, code=ErrorCode.DUPLICATE,
                          field="name")
    policy = DunningPolicy(organization=organization, name=name, tone=tone, **fields)
    model_check(policy, exclude=["organization"])
    policy.save()
    cleaned = _steps_validate(steps)
    DunningStep.objects.bulk_create([DunningStep(organization=organization, policy=policy, **s) for s in cleaned])
    audit_record(organization=organization, actor=actor, action="dunning.policy_created", obj=policy,
                 after={"name": name, "tone": tone, "steps": cleaned, **fields})
    return policy


@transaction.atomic
def dunning_policy_update(*, organization: Organization, actor: Actor, policy: DunningPolicy,
                          **changes: Any) -> DunningPolicy:
    """Change a policy's tone, interest or discount terms (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, policy)
    allowed = {"name", "tone", "interest_mode", "interest_rate", "statutory_base_rate", "interest_margin",
               "discount_percent", "discount_days", "business_days_only"}
    if set(changes) - allowed:
        raise ValueError(f"Not policy settings: {sorted(set(changes) - allowed)}")
    name = changes.get("name")
    if name and DunningPolicy.objects.filter(organization=organization, name=name).exclude(pk=policy.pk).exists():
        raise DomainError(_("A policy named %(name)s already exists.") % {"name": name}, code=ErrorCode.DUPLICATE,
                          field="name")
    before = {k: getattr(policy, k) for k in changes}
    for key, value in changes.items():
        setattr(policy, key, value)
    model_check(policy, exclude=["organization"])
    policy.save()
    audit_record(organization=organization, actor=actor, action="dunning.policy_updated", obj=policy,
                 before=before, after=changes)
    return policy


@transaction.atomic
def dunning_policy_steps_set(*, organization: Organization, actor: Actor, policy: DunningPolicy,
                             steps: Sequence[dict]) -> DunningPolicy:
    """Replace a policy's steps (admins). A step that already sent notices keeps its row (the
    notices point at it): it may change, but not be removed."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    same_organization_check(organization, policy)
    policy = DunningPolicy.objects.select_for_update(no_key=True).get(pk=policy.pk)
    cleaned = _steps_validate(steps)
    existing = {s.days_from_due: s for s in DunningStep.objects.filter(policy=policy)}
    wanted = {s["days_from_due"] for s in cleaned}
    removed = [s for days, s in existing.items() if days not in wanted]
    used = set(DunningNotice.objects.filter(step__in=removed).values_list("step__days_from_due", flat=True))
    if used:
        raise DomainError(_("The %(days)s step already sent notices; keep it (you may change it).")
                          % {"days": f"{min(used):+d}"}, field="steps")
    before = [{"days_from_due": s.days_from_due, "channel": s.channel, "template": s.template,
               "fee_amount": s.fee_amount, "call_task": s.call_task} for s in sorted(existing.values(),
                                                                                     key=lambda s: s.days_from_due)]
    DunningStep.objects.filter(pk__in=[s.pk for s in removed]).delete()
    for data in cleaned:
        step = existing.get(data["days_from_due"]) or DunningStep(organization=organization, policy=policy)
        for key, value in data.items():
            setattr(step, key, value)
        step.save()
    audit_record(organization=organization, actor=actor, action="dunning.policy_steps_set", obj=policy,
                 before={"steps": before}, after={"steps": cleaned})
    return policy


@transaction.atomic
def segment_policy_set(*, organization: Organization, actor: Actor, segment: str,
                       policy: DunningPolicy | None) -> None:
    """Make every customer of a segment follow `policy` (None: back to the default)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    if segment not in Segment.values:
        raise DomainError(_("Unknown segment %(segment)s.") % {"segment": segment}, field="segment")
    if policy is None:
        SegmentPolicy.objects.filter(organization=organization, segment=segment).delete()
    else:
        same_organization_check(organization, policy)
        SegmentPolicy.objects.update_or_create(organization=organization, segment=segment,
                                               defaults={"policy": policy})
    audit_record(organization=organization, actor=actor, action="dunning.segment_policy_set", obj=organization,
                 after={"segment": segment, "policy": policy.pk if policy else None})


@transaction.atomic
def customer_dunning_set(*, organization: Organization, actor: Actor, customer: Customer,
                         **changes: Any) -> CustomerDunning:
    """A customer's policy override, exclusion or assigned collector (credit managers)."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, customer)
    if set(changes) - {"policy", "excluded", "collector"}:
        raise ValueError(f"Not customer dunning settings: {sorted(changes)}")
    if changes.get("policy") is not None:
        same_organization_check(organization, changes["policy"])
    if changes.get("collector") is not None:
        _collector_require(organization, changes["collector"], field="collector")
    setting, _created = CustomerDunning.objects.select_for_update(no_key=True).get_or_create(organization=organization,
                                                                                  customer=customer)
    before = {"policy": setting.policy_id, "excluded": setting.excluded, "collector": setting.collector_id}
    for key, value in changes.items():
        setattr(setting, key, value)
    setting.save()
    audit_record(organization=organization, actor=actor, action="dunning.customer_set", obj=setting, before=before,
                 after={"policy": setting.policy_id, "excluded": setting.excluded, "collector": setting.collector_id})
    return setting


def policy_for_customer(organization: Organization, customer: Customer) -> DunningPolicy:
    """Customer override, else segment policy, else the default."""
    setting = CustomerDunning.objects.filter(organization=organization, customer=customer).first()
    if setting is not None and setting.policy_id:
        return setting.policy
    segment = SegmentPolicy.objects.filter(organization=organization, segment=customer.segment).first()
    return segment.policy if segment is not None else dunning_policy_default(organization=organization)


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
        self.candidates = candidates
        self.by_customer: dict[int, list[selectors.Candidate]] = defaultdict(list)
        for candidate in candidates:
            self.by_customer[candidate.customer_id].append(candidate)
        self.customers = Customer.objects.in_bulk(list(self.by_customer))
        self.totals = _open_totals(organization, set(self.by_customer), today)
        self.settings = {s.customer_id: s for s in CustomerDunning.objects.filter(
            organization=organization, customer_id__in=list(self.by_customer))}

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
                    items=rendering.items_for(mail, policy.annual_rate), tone=policy.tone,
                    open_totals=self.totals.get(customer_id, {}), today=self.today, portal_link=link)
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


def _next_business_day(day: dt.date) -> dt.date:
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def dunning_preview_page(organization: Organization, *, today: dt.date | None = None,
                         customer: Customer | None = None) -> Preview:
    """The preview page: today's messages, and on a weekend the next business day's for the
    policies that send on business days only."""
    today = today or local_today(organization.timezone)
    plan = Plan(organization, today, customer=customer)
    rows = list(plan.messages())
    if today.weekday() < 5:
        return Preview(today, rows, [], None, [])
    held = {pk: p for pk, p in plan.book.policies.items() if p.business_days_only}
    if not held:
        return Preview(today, rows, [], None, [])
    next_day = _next_business_day(today)
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
    DunningMessage.objects.bulk_create(list(messages.values()))
    notices = []
    for candidate in plan.candidates:
        fee, interest = selectors.charges_for(candidate, plan.book.policies[candidate.step.policy_id].annual_rate)
        message = messages.get(candidate.customer_id) if candidate.step.channel != Channel.CALL else None
        notices.append(DunningNotice(
            organization=organization, run=run, message=message, invoice_id=candidate.invoice_id,
            customer_id=candidate.customer_id, step=candidate.step, step_days=candidate.step.days_from_due,
            channel=candidate.step.channel, days_overdue=candidate.days_overdue, amount_due=candidate.amount_due,
            currency=candidate.currency, fee_amount=fee, interest_amount=interest, created_at=now))
    # The unique (invoice, step) constraint is the exactly-once rule: a duplicate fails the run.
    DunningNotice.objects.bulk_create(notices)
    tasks = _call_tasks(organization, run, plan, call_customers, today)
    run.notices_count, run.messages_count, run.tasks_count = len(notices), len(messages), len(tasks)
    run.status, run.finished_at = RunStatus.DONE, timezone.now()
    run.save(update_fields=["notices_count", "messages_count", "tasks_count", "status", "finished_at"])
    audit_record(organization=organization, actor=actor, action="dunning.run", obj=run,
                 after={"run_date": today, "notices": len(notices), "messages": len(messages), "tasks": len(tasks)})
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


SEND_BATCH = 50


def _queue_send(message_ids: list[int]) -> None:
    from .tasks import dunning_messages_send_task

    for start in range(0, len(message_ids), SEND_BATCH):
        dunning_messages_send_task.delay(message_ids[start:start + SEND_BATCH])


def _claim(message_id: int) -> bool:
    """Take the message for sending: only one caller ever wins a pending (or failed) row."""
    return bool(DunningMessage.objects.filter(
        pk=message_id, status__in=[MessageStatus.PENDING, MessageStatus.FAILED], attempts__lt=MAX_SEND_ATTEMPTS,
    ).update(status=MessageStatus.SENDING, attempts=F("attempts") + 1))


def _letter_ensure(message: DunningMessage) -> None:
    """Render and store the demand letter before the message goes out (kept as evidence)."""
    if not message.has_letter or message.letter_pdf:
        return
    notices = (DunningNotice.objects.filter(message=message).select_related("invoice")
               .order_by("invoice__due_date", "invoice_id"))
    # Dated like the run (the organization's calendar day), not created_at's UTC date.
    pdf = rendering.letter_pdf(organization=message.organization, customer=message.customer, notices=notices,
                               today=message.run.run_date)
    message.letter_pdf, message.letter_hash = pdf, hashlib.sha256(pdf).hexdigest()
    DunningMessage.objects.filter(pk=message.pk).update(letter_pdf=pdf, letter_hash=message.letter_hash)


def letter_filename(message: DunningMessage) -> str:
    return f"demand-letter-{message.customer_id}-{message.run.run_date.isoformat()}.pdf"


def dunning_message_email(message: DunningMessage) -> EmailMultiAlternatives:
    email = EmailMultiAlternatives(subject=message.subject, body=message.body_text,
                                   from_email=settings.DEFAULT_FROM_EMAIL, to=list(message.to),
                                   headers={ORGANIZATION_HEADER: str(message.organization_id),
                                            "X-Inflow-Dunning-Message": str(message.pk)})
    email.attach_alternative(message.body_html, "text/html")
    if message.letter_pdf:
        email.attach(letter_filename(message), bytes(message.letter_pdf), "application/pdf")
    return email


def dunning_message_send(*, message_id: int) -> DunningMessage | None:
    """Send one recorded message, at most once; None when another caller already has it."""
    if not _claim(message_id):
        return None
    message = DunningMessage.objects.select_related("organization", "customer", "run").get(pk=message_id)
    try:
        _letter_ensure(message)
        dunning_message_email(message).send(fail_silently=False)
    except Exception as exc:
        DunningMessage.objects.filter(pk=message.pk).update(status=MessageStatus.FAILED, error=str(exc)[:2000])
        raise
    _sent_record(message)
    return message


@transaction.atomic
def _sent_record(message: DunningMessage) -> None:
    organization = message.organization
    message.status, message.sent_at, message.error = MessageStatus.SENT, timezone.now(), ""
    message.save(update_fields=["status", "sent_at", "error"])
    invoices = list(DunningNotice.objects.filter(message=message).values_list("invoice__number", "step_days"))
    data = {"message": message.pk, "subject": message.subject, "to": message.to, "content_hash": message.content_hash,
            "letter_hash": message.letter_hash, "invoices": [{"number": n, "step": d} for n, d in invoices]}
    audit_record(organization=organization, actor=None, action="dunning.sent", obj=message, after=data)
    timeline_add(organization=organization, customer=message.customer, kind=EventKind.NOTICE_SENT,
                 summary=message.subject, data=data, content_hash=message.content_hash)
    _emit(organization, "dunning.sent", {"customer": message.customer_id, **data})


# --- disputes ------------------------------------------------------------------------------

def _disputed_open(invoice: Invoice) -> Decimal:
    return Dispute.objects.filter(invoice=invoice, status=DisputeStatus.OPEN).aggregate(
        s=Sum("amount"))["s"] or ZERO


def _dispute_payload(dispute: Dispute) -> dict:
    return {"id": dispute.pk, "invoice": dispute.invoice.number, "customer": dispute.customer_id,
            "amount": dispute.amount, "currency": dispute.currency, "reason": dispute.reason,
            "status": dispute.status, "resolution": dispute.resolution, "opened_on": dispute.opened_on,
            "due_on": dispute.due_on, "resolved_on": dispute.resolved_on, "source": dispute.source}


@transaction.atomic
def dispute_open(*, organization: Organization, actor: Actor, invoice: Invoice, reason: str,
                 amount: Decimal | str | None = None, description: str = "", owner=None,
                 due_on: dt.date | None = None, source: str = Source.COLLECTOR,
                 actor_label: str | None = None) -> Dispute:
    """Dispute an invoice (or part of it): dunning pauses on the disputed amount."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, invoice)
    invoice = Invoice.objects.select_for_update(of=("self",), no_key=True).get(pk=invoice.pk)
    if reason not in DisputeReason.values:
        raise DomainError(_("Choose a reason: price, quantity, quality, not received, duplicate or other."),
                          field="reason")
    available = invoice.balance - _disputed_open(invoice)
    if available <= 0:
        raise DomainError(_("Invoice %(number)s has nothing left to dispute.") % {"number": invoice.number},
                          code=ErrorCode.INVOICE_NOT_OPEN, field="invoice")
    amount = available if amount in (None, "") else parse_amount(amount)
    if amount > available:
        raise DomainError(_("At most %(available)s of invoice %(number)s can be disputed.")
                          % {"available": Money(available, invoice.currency), "number": invoice.number},
                          field="amount")
    today = local_today(organization.timezone)
    due_on = due_on or today + dt.timedelta(days=DISPUTE_SLA_DAYS)
    if due_on < today:
        raise DomainError(_("The resolve-by date cannot be in the past."), field="due_on")
    dispute = Dispute.objects.create(organization=organization, invoice=invoice, customer_id=invoice.customer_id,
                                     amount=amount, currency=invoice.currency, reason=reason, description=description,
                                     owner=owner, opened_on=today, due_on=due_on, source=source)
    label = actor_label or _actor_label(actor)
    payload = _dispute_payload(dispute)
    audit_record(organization=organization, actor=actor, action="dispute.opened", obj=dispute, after=payload,
                 actor_label=actor_label)
    timeline_add(organization=organization, customer=invoice.customer,
                 kind=EventKind.PORTAL_DISPUTE if source == Source.PORTAL else EventKind.DISPUTE_OPENED,
                 summary=_("Dispute on %(number)s: %(amount)s (%(reason)s)")
                 % {"number": invoice.number, "amount": Money(amount, invoice.currency),
                    "reason": dispute.get_reason_display()}, data={**payload, "description": description},
                 actor_label=label)
    _emit(organization, "dispute.opened", payload)
    return dispute


@transaction.atomic
def dispute_resolve(*, organization: Organization, actor: Actor, dispute: Dispute, resolution: str, notes: str = "",
                    credit_note_number: str | None = None, credit_amount: Decimal | str | None = None) -> Dispute:
    """Close a dispute: credit note issued (created here), invoice corrected, or rejected."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, dispute)
    dispute = Dispute.objects.select_for_update(no_key=True).select_related("invoice", "customer").get(pk=dispute.pk)
    if dispute.status != DisputeStatus.OPEN:
        raise DomainError(_("This dispute is already resolved."), field="status")
    if resolution not in DisputeResolution.values:
        raise DomainError(_("Choose a resolution: credit note issued, invoice corrected or rejected."),
                          field="resolution")
    today = local_today(organization.timezone)
    if resolution == DisputeResolution.CREDIT_NOTE:
        if not credit_note_number:
            raise DomainError(_("Give the credit note a number."), field="credit_note_number")
        amount = dispute.amount if credit_amount in (None, "") else parse_amount(credit_amount)
        ledger.credit_note_create(organization=organization, actor=actor, customer=dispute.customer,
                                  number=credit_note_number, issued_on=today, amount=amount,
                                  currency=dispute.currency, reason=_("Dispute %(id)s") % {"id": dispute.pk},
                                  invoice=dispute.invoice)
    dispute.status, dispute.resolution, dispute.resolution_notes, dispute.resolved_on = (
        DisputeStatus.RESOLVED, resolution, notes, today)
    dispute.save()
    payload = _dispute_payload(dispute)
    audit_record(organization=organization, actor=actor, action="dispute.resolved", obj=dispute, after=payload)
    timeline_add(organization=organization, customer=dispute.customer, kind=EventKind.DISPUTE_RESOLVED,
                 summary=_("Dispute on %(number)s resolved: %(resolution)s")
                 % {"number": dispute.invoice.number, "resolution": dispute.get_resolution_display()},
                 data={**payload, "notes": notes}, actor_label=_actor_label(actor))
    _emit(organization, "dispute.resolved", payload)
    return dispute


# --- promises to pay -----------------------------------------------------------------------

def _customer_invoices(organization: Organization, customer: Customer, invoices: Sequence[Invoice]) -> list[Invoice]:
    if not invoices:
        raise DomainError(_("Choose at least one invoice."), field="invoices")
    for invoice in invoices:
        same_organization_check(organization, invoice)
        if invoice.customer_id != customer.pk:
            raise DomainError(_("Invoice %(number)s belongs to another customer.") % {"number": invoice.number},
                              code=ErrorCode.CUSTOMER_MISMATCH, field="invoices")
    locked = list(Invoice.objects.select_for_update(of=("self",), no_key=True).filter(pk__in=[i.pk for i in invoices])
                  .order_by("pk"))
    currencies = {i.currency for i in locked}
    if len(currencies) > 1:
        raise DomainError(_("The invoices must share one currency."), code=ErrorCode.CURRENCY_MISMATCH,
                          field="invoices")
    for invoice in locked:
        if invoice.balance <= 0:
            raise DomainError(_("Invoice %(number)s is not open.") % {"number": invoice.number},
                              code=ErrorCode.INVOICE_NOT_OPEN, field="invoices")
    return locked


def _promise_payload(promise: PromiseToPay) -> dict:
    return {"id": promise.pk, "customer": promise.customer_id, "amount": promise.amount, "currency": promise.currency,
            "promised_date": promise.promised_date, "pause_until": promise.pause_until, "status": promise.status,
            "paid_amount": promise.paid_amount, "source": promise.source,
            "invoices": sorted(promise.invoices.values_list("number", flat=True))}


@transaction.atomic
def promise_create(*, organization: Organization, actor: Actor, customer: Customer, invoices: Sequence[Invoice],
                   amount: Decimal | str, promised_date: dt.date, grace_days: int = 3, notes: str = "",
                   source: str = Source.COLLECTOR, actor_label: str | None = None) -> PromiseToPay:
    """Record a promise to pay: the invoices are not dunned until the date plus the grace days."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    locked = _customer_invoices(organization, customer, invoices)
    amount = parse_amount(amount)
    total = sum((i.balance for i in locked), ZERO)
    currency = locked[0].currency
    if amount > total:
        raise DomainError(_("The promise of %(amount)s is more than the %(total)s these invoices owe.")
                          % {"amount": Money(amount, currency), "total": Money(total, currency)}, field="amount")
    today = local_today(organization.timezone)
    if promised_date < today:
        raise DomainError(_("The promised date cannot be in the past."), field="promised_date")
    if not 0 <= grace_days <= 60:
        raise DomainError(_("Grace days must be between 0 and 60."), field="grace_days")
    busy = PromiseToPay.objects.filter(organization=organization, status=PromiseStatus.OPEN,
                                       invoices__in=locked).values_list("invoices__number", flat=True).first()
    if busy:
        raise DomainError(_("Invoice %(number)s already has an open promise.") % {"number": busy},
                          code=ErrorCode.DUPLICATE, field="invoices")
    promise = PromiseToPay.objects.create(
        organization=organization, customer=customer, amount=amount, currency=currency, promised_date=promised_date,
        grace_days=grace_days, pause_until=promised_date + dt.timedelta(days=grace_days), made_on=today, notes=notes,
        source=source, created_by=actor)
    promise.invoices.set(locked)
    payload = _promise_payload(promise)
    audit_record(organization=organization, actor=actor, action="promise.created", obj=promise, after=payload,
                 actor_label=actor_label)
    timeline_add(organization=organization, customer=customer,
                 kind=EventKind.PORTAL_PROMISE if source == Source.PORTAL else EventKind.PROMISE_MADE,
                 summary=_("Promise to pay %(amount)s by %(date)s")
                 % {"amount": Money(amount, currency), "date": promised_date.isoformat()},
                 data={**payload, "notes": notes}, actor_label=actor_label or _actor_label(actor))
    return promise


def promises_evaluate(*, organization: Organization, today: dt.date) -> dict[str, int]:
    """Decide open promises from payments received: kept once the promised amount came in
    (between the promise and its deadline), broken once the deadline passed without it."""
    counts = {"kept": 0, "broken": 0}
    for promise in PromiseToPay.objects.filter(organization=organization, status=PromiseStatus.OPEN) \
            .select_related("customer").order_by("pk"):
        paid = selectors.payments_between(organization, {promise.customer_id}, promise.made_on,
                                          min(today, promise.pause_until)).get(
            (promise.customer_id, promise.currency), ZERO)
        settled = not Invoice.objects.filter(pk__in=promise.invoices.values("pk"), voided_on__isnull=True,
                                             applied_amount__lt=F("total_amount")).exists()
        if paid >= promise.amount or settled:
            _promise_decide(organization, promise, PromiseStatus.KEPT, min(paid, promise.amount), today)
            counts["kept"] += 1
        elif today > promise.pause_until:
            _promise_decide(organization, promise, PromiseStatus.BROKEN, paid, today)
            counts["broken"] += 1
    return counts


@transaction.atomic
def _promise_decide(organization: Organization, promise: PromiseToPay, status: str, paid: Decimal,
                    today: dt.date) -> None:
    promise.status, promise.paid_amount, promise.settled_on = status, paid, today
    promise.save(update_fields=["status", "paid_amount", "settled_on"])
    payload = _promise_payload(promise)
    audit_record(organization=organization, actor=None, action=f"promise.{status}", obj=promise, after=payload)
    if status == PromiseStatus.KEPT:
        timeline_add(organization=organization, customer=promise.customer, kind=EventKind.PROMISE_KEPT,
                     summary=_("Promise of %(amount)s kept") % {"amount": Money(promise.amount, promise.currency)},
                     data=payload)
        return
    setting, _created = CustomerDunning.objects.get_or_create(organization=organization, customer=promise.customer)
    CustomerDunning.objects.filter(pk=setting.pk).update(broken_promises=F("broken_promises") + 1)
    timeline_add(organization=organization, customer=promise.customer, kind=EventKind.PROMISE_BROKEN,
                 summary=_("Promise of %(amount)s by %(date)s broken: %(paid)s received")
                 % {"amount": Money(promise.amount, promise.currency), "date": promise.promised_date.isoformat(),
                    "paid": Money(paid, promise.currency)}, data=payload)
    _follow_up(organization, promise.customer, _("Broken promise: call %(customer)s") % {
        "customer": promise.customer.name}, today, setting.collector_id)
    _emit(organization, "promise.broken", payload)


def _follow_up(organization: Organization, customer: Customer, title: str, today: dt.date,
               collector_id: int | None) -> CollectionTask:
    return CollectionTask.objects.create(organization=organization, customer=customer, kind=TaskKind.FOLLOW_UP,
                                         title=title, assigned_to_id=collector_id, due_on=today,
                                         created_at=timezone.now())


# --- payment plans -------------------------------------------------------------------------

@transaction.atomic
def payment_plan_create(*, organization: Organization, actor: Actor, customer: Customer,
                        invoices: Sequence[Invoice], installments: Sequence[tuple[dt.date, Decimal | str]],
                        interest_rate: Decimal | str = "0", grace_days: int = 3, notes: str = "") -> PaymentPlan:
    """Agree installments over invoices; they must add up to the covered balance plus interest."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, customer)
    locked = _customer_invoices(organization, customer, invoices)
    currency = locked[0].currency
    busy = PaymentPlan.objects.filter(organization=organization, status=PlanStatus.ACTIVE,
                                      invoices__in=locked).values_list("invoices__number", flat=True).first()
    if busy:
        raise DomainError(_("Invoice %(number)s is already in an active payment plan.") % {"number": busy},
                          code=ErrorCode.DUPLICATE, field="invoices")
    if not installments:
        raise DomainError(_("A plan needs at least one installment."), field="installments")
    today = local_today(organization.timezone)
    schedule = sorted((due, parse_amount(amount, field="installments")) for due, amount in installments)
    if schedule[0][0] < today:
        raise DomainError(_("Installments cannot fall due in the past."), field="installments")
    if len({due for due, _a in schedule}) != len(schedule):
        raise DomainError(_("Two installments cannot fall due on the same day."), field="installments")
    covered = sum((i.balance for i in locked), ZERO)
    rate = parse_amount(interest_rate, field="interest_rate", allow_zero=True)
    interest = selectors.late_interest(covered, currency, rate, (schedule[-1][0] - today).days)
    needed = covered + interest
    given = sum((amount for _due, amount in schedule), ZERO)
    if given != needed:
        raise DomainError(
            _("The installments add up to %(given)s; the plan needs %(needed)s (covered balance %(covered)s "
              "plus interest %(interest)s).")
            % {"given": Money(given, currency), "needed": Money(needed, currency),
               "covered": Money(covered, currency), "interest": Money(interest, currency)}, field="installments")
    plan = PaymentPlan.objects.create(organization=organization, customer=customer, currency=currency,
                                      covered_amount=covered, interest_rate=rate, interest_amount=interest,
                                      total_amount=needed, start_date=today, grace_days=grace_days, notes=notes)
    plan.invoices.set(locked)
    Installment.objects.bulk_create([Installment(organization=organization, plan=plan, sequence=n, due_date=due,
                                                 amount=amount) for n, (due, amount) in enumerate(schedule, 1)])
    payload = {"id": plan.pk, "customer": customer.pk, "currency": currency, "covered": covered,
               "interest": interest, "total": needed, "invoices": sorted(i.number for i in locked),
               "installments": [{"due": due, "amount": amount} for due, amount in schedule]}
    audit_record(organization=organization, actor=actor, action="plan.created", obj=plan, after=payload)
    timeline_add(organization=organization, customer=customer, kind=EventKind.PLAN_CREATED,
                 summary=_("Payment plan: %(count)s installments, %(total)s")
                 % {"count": len(schedule), "total": Money(needed, currency)}, data=payload,
                 actor_label=_actor_label(actor))
    return plan


def plans_evaluate(*, organization: Organization, today: dt.date) -> dict[str, int]:
    """Completed when paid in full; defaulted (dunning resumes) when an installment is missed
    past its grace days. Payments count from the day the plan was agreed."""
    counts = {"completed": 0, "defaulted": 0}
    for plan in PaymentPlan.objects.filter(organization=organization, status=PlanStatus.ACTIVE) \
            .select_related("customer").prefetch_related("installments").order_by("pk"):
        paid = selectors.payments_between(organization, {plan.customer_id}, plan.start_date, today).get(
            (plan.customer_id, plan.currency), ZERO)
        owed = sum((i.amount for i in plan.installments.all()
                    if i.due_date + dt.timedelta(days=plan.grace_days) < today), ZERO)
        if paid >= plan.total_amount:
            _plan_end(organization, plan, PlanStatus.COMPLETED, paid, owed, today)
            counts["completed"] += 1
        elif paid < owed:
            _plan_end(organization, plan, PlanStatus.DEFAULTED, paid, owed, today)
            counts["defaulted"] += 1
    return counts


@transaction.atomic
def _plan_end(organization: Organization, plan: PaymentPlan, status: str, paid: Decimal, owed: Decimal,
              today: dt.date) -> None:
    plan.status, plan.ended_on = status, today
    plan.save(update_fields=["status", "ended_on"])
    payload = {"id": plan.pk, "status": status, "paid": paid, "owed_by_now": owed, "total": plan.total_amount}
    audit_record(organization=organization, actor=None, action=f"plan.{status}", obj=plan, after=payload)
    if status == PlanStatus.COMPLETED:
        timeline_add(organization=organization, customer=plan.customer, kind=EventKind.PLAN_COMPLETED,
                     summary=_("Payment plan completed"), data=payload)
        return
    timeline_add(organization=organization, customer=plan.customer, kind=EventKind.PLAN_DEFAULTED,
                 summary=_("Installment missed: %(paid)s paid of %(owed)s due")
                 % {"paid": Money(paid, plan.currency), "owed": Money(owed, plan.currency)}, data=payload)
    setting = CustomerDunning.objects.filter(organization=organization, customer=plan.customer).first()
    _follow_up(organization, plan.customer, _("Missed installment: call %(customer)s") % {
        "customer": plan.customer.name}, today, setting.collector_id if setting else None)


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


# --- portal actions ------------------------------------------------------------------------

def portal_visit_record(*, organization: Organization, customer: Customer, client: str) -> None:
    """Note on the timeline that the customer opened its portal link (once a day)."""
    today = local_today(organization.timezone)
    if CustomerEvent.objects.filter(organization=organization, customer=customer, kind=EventKind.PORTAL_VIEW,
                                    data__day=today.isoformat()).exists():
        return
    timeline_add(organization=organization, customer=customer, kind=EventKind.PORTAL_VIEW,
                 summary=_("Opened the portal link"), data={"day": today.isoformat(), "client": client},
                 actor_label=f"portal:{customer.name}"[:200])


@transaction.atomic
def portal_dispute_open(*, organization: Organization, customer: Customer, invoice: Invoice, reason: str,
                        amount: Decimal | None, description: str, actor_label: str) -> Dispute:
    """A dispute from the customer portal: pauses dunning and tells the collector."""
    dispute = dispute_open(organization=organization, actor=None, invoice=invoice, reason=reason, amount=amount,
                           description=description, source=Source.PORTAL, actor_label=actor_label)
    collector_notify(organization=organization, customer=customer,
                     title=_("%(customer)s disputes invoice %(number)s") % {"customer": customer.name,
                                                                            "number": invoice.number},
                     body=_("Reason: %(reason)s\nAmount: %(amount)s\n\n%(description)s")
                     % {"reason": dispute.get_reason_display(), "amount": Money(dispute.amount, dispute.currency),
                        "description": description})
    return dispute


@transaction.atomic
def portal_promise_create(*, organization: Organization, customer: Customer, invoice: Invoice, amount: Decimal,
                          promised_date: dt.date, notes: str, actor_label: str) -> PromiseToPay:
    """A promise from the customer portal: pauses dunning and tells the collector."""
    promise = promise_create(organization=organization, actor=None, customer=customer, invoices=[invoice],
                             amount=amount, promised_date=promised_date, notes=notes, source=Source.PORTAL,
                             actor_label=actor_label)
    collector_notify(organization=organization, customer=customer,
                     title=_("%(customer)s promises to pay %(amount)s by %(date)s")
                     % {"customer": customer.name, "amount": Money(promise.amount, promise.currency),
                        "date": promised_date.isoformat()},
                     body=_("Invoice %(number)s. %(notes)s") % {"number": invoice.number, "notes": notes})
    return promise


# --- early-payment discount ----------------------------------------------------------------

@transaction.atomic
def payment_record_with_discount(*, organization: Organization, actor: Actor, invoice: Invoice,
                                 received_on: dt.date, amount: Decimal | str, reference: str = ""):
    """Record a payment on one invoice; inside the policy's discount window (e.g. 2/10 net 30) a
    payment of the discounted balance settles it, the discount booked as a credit note."""
    role_require(organization=organization, actor=actor, role=Role.COLLECTOR)
    same_organization_check(organization, invoice)
    amount = parse_amount(amount)
    customer = invoice.customer
    policy = policy_for_customer(organization, customer)
    balance = invoice.balance
    discount = ZERO
    window_end = invoice.issue_date + dt.timedelta(days=policy.discount_days)
    if policy.discount_percent and received_on <= window_end:
        discount = quantize(balance * policy.discount_percent / 100, invoice.currency)
    payment = ledger.payment_record(organization=organization, actor=actor, customer=customer,
                                    received_on=received_on, amount=amount, currency=invoice.currency,
                                    reference=reference, auto_allocate=False)
    ledger.payment_allocate(organization=organization, actor=actor, payment=payment,
                            allocations=[(invoice, min(amount, balance))])
    if discount and amount >= balance - discount and amount < balance:
        ledger.credit_note_create(organization=organization, actor=actor, customer=customer,
                                  number=f"DISC-{invoice.number}", issued_on=received_on, amount=balance - amount,
                                  currency=invoice.currency, invoice=invoice,
                                  reason=_("Early-payment discount %(pct)s%%") % {"pct": policy.discount_percent})
        discount = balance - amount
    else:
        discount = ZERO
    invoice.refresh_from_db()
    return payment, discount


# --- late charges --------------------------------------------------------------------------

@transaction.atomic
def late_charges_invoice(*, organization: Organization, actor: Actor, customer: Customer,
                         number: str) -> Invoice | None:
    """Raise one invoice for the fees and interest of the notices sent and not yet charged."""
    role_require(organization=organization, actor=actor, role=Role.CREDIT_MANAGER)
    same_organization_check(organization, customer)
    pending = list(DunningNotice.objects.select_for_update(no_key=True).filter(
        organization=organization, customer=customer, currency=customer.currency, charges_invoice__isnull=True,
    ).exclude(fee_amount=0, interest_amount=0).order_by("pk"))
    total = sum((n.fee_amount + n.interest_amount for n in pending), ZERO)
    if not total:
        return None
    today = local_today(organization.timezone)
    invoice = ledger.invoice_create(organization=organization, actor=actor, customer=customer, number=number,
                                    issue_date=today, due_date=today + dt.timedelta(days=14), net_amount=total,
                                    currency=customer.currency, description=_("Late-payment fees and interest"))
    DunningNotice.objects.filter(pk__in=[n.pk for n in pending]).update(charges_invoice=invoice)
    audit_record(organization=organization, actor=actor, action="dunning.charges_invoiced", obj=invoice,
                 after={"notices": [n.pk for n in pending], "total": total})
    return invoice
