"""One-off reminders (a collector writes to one customer outside the daily run) and the
organization's own wording of each step's message (issue 14 item 4)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from receivables.models import Customer
from receivables.selectors import open_invoices
from tenancy.dates import local_today
from tenancy.errors import DomainError, ErrorCode
from tenancy.models import Language, Organization, Role
from tenancy.money import ZERO
from tenancy.services import Actor, audit_record, role_require, same_organization_check

from .. import financing, rendering, selectors, wording
from ..models import (
    Dispute,
    DisputeStatus,
    DunningMessage,
    DunningRun,
    DunningStep,
    MessageStatus,
    MessageTemplate,
    OneOffReminder,
    RunStatus,
    StepTemplate,
)
from .common import _actor_label
from .policies import policy_for_customer
from .sending import _queue_send

SUBJECT_MAX = 300
BODY_MAX = 20000


@dataclass(frozen=True)
class Draft:
    """A one-off reminder as the step's wording renders it today, before the collector edits it."""

    customer: Customer
    steps: list[DunningStep]
    step: DunningStep
    language: str
    oldest_days: int
    today: dt.date
    rendered: rendering.Rendered

    @property
    def subject(self) -> str:
        return self.rendered.subject

    @property
    def text(self) -> str:
        return self.rendered.text


def _matching_step(steps: list[DunningStep], days: int) -> DunningStep:
    """The policy's step for an invoice `days` past due: the latest one reached, else the first."""
    reached = [s for s in steps if s.days_from_due <= days]
    return reached[-1] if reached else steps[0]


def reminder_draft(organization: Organization, customer: Customer, *, step: DunningStep | None = None,
                   language: str | None = None, today: dt.date | None = None) -> Draft:
    """The reminder the customer's policy would write today: its overdue invoices (all open ones
    when none is overdue), worded by the step matching the oldest of them unless `step` is given."""
    same_organization_check(organization, customer)
    today = today or local_today(organization.timezone)
    policy = policy_for_customer(organization, customer)
    steps = list(policy.steps.order_by("days_from_due"))
    if not steps:
        raise DomainError(_("The dunning policy %(policy)s has no steps.") % {"policy": policy.name})
    invoices = list(open_invoices(organization).filter(customer=customer).order_by("due_date", "pk"))
    overdue = [i for i in invoices if i.due_date < today]
    listed = overdue or invoices
    oldest = max(((today - i.due_date).days for i in listed), default=0)
    if step is None:
        step = _matching_step(steps, oldest)
    else:
        same_organization_check(organization, step)
    if language is None:
        language = rendering.customer_language(customer)
    elif language not in Language.values:
        raise DomainError(_("Choose a language."), field="language")
    disputed = dict(Dispute.objects.filter(organization=organization, invoice__in=listed, status=DisputeStatus.OPEN)
                    .values("invoice_id").annotate(total=Sum("amount")).values_list("invoice_id", "total"))
    candidates = [selectors.Candidate(
        invoice_id=i.pk, number=i.number, customer_id=customer.pk, issue_date=i.issue_date, due_date=i.due_date,
        currency=i.currency, balance=i.total_amount - i.applied_amount, disputed=disputed.get(i.pk, ZERO),
        step=step, days_overdue=(today - i.due_date).days) for i in listed]
    no_charges = {c.invoice_id: selectors.NO_CHARGES for c in candidates}
    totals: dict[str, tuple[Decimal, Decimal]] = defaultdict(lambda: (ZERO, ZERO))
    for i in invoices:
        balance = i.total_amount - i.applied_amount
        open_amount, late = totals[i.currency]
        totals[i.currency] = (open_amount + balance, late + (balance if i.due_date < today else ZERO))
    rendered = rendering.message_render(
        organization=organization, customer=customer, items=rendering.items_for(candidates, no_charges),
        tone=policy.tone, open_totals=dict(totals), today=today,
        portal_link=rendering.portal_url(organization, customer),
        on_account=selectors.on_account(organization, {customer.pk}).get(customer.pk, {}),
        pay_to=financing.pay_to(organization, [c.invoice_id for c in candidates]),
        headline=step.template, language=language)
    return Draft(customer, steps, step, language, oldest, today, rendered)


def _text_check(subject: str, body: str) -> tuple[str, str]:
    subject = " ".join((subject or "").split())
    body = (body or "").replace("\r\n", "\n").strip()
    if not subject:
        raise DomainError(_("Write a subject."), field="subject")
    if not body:
        raise DomainError(_("Write the message."), field="body")
    if len(subject) > SUBJECT_MAX:
        raise DomainError(_("The subject is longer than %(n)s characters.") % {"n": SUBJECT_MAX}, field="subject")
    if len(body) > BODY_MAX:
        raise DomainError(_("The message is longer than %(n)s characters.") % {"n": BODY_MAX}, field="body")
    if "\x00" in subject or "\x00" in body:
        raise DomainError(_("The text contains a NUL character."), field="body")
    return subject, body + "\n"


def send_one_off(*, organization: Organization, customer: Customer, user: Actor, step: DunningStep, subject: str,
                 body: str, language: str, key: str, today: dt.date | None = None) -> DunningMessage:
    """Record a reminder to one customer with the exact text the collector approved and send it
    once the record is committed (claimed 'sending' before SMTP, like the daily run's messages).
    The same `key` (one per form) twice is one reminder: the second call returns the first."""
    existing = OneOffReminder.objects.filter(organization=organization, key=key).select_related("message").first()
    if existing is not None:
        return existing.message
    try:
        return _one_off_record(organization=organization, customer=customer, user=user, step=step, subject=subject,
                               body=body, language=language, key=key, today=today)
    except IntegrityError:
        existing = OneOffReminder.objects.filter(organization=organization, key=key).select_related("message").first()
        if existing is None:
            raise
        return existing.message


@transaction.atomic
def _one_off_record(*, organization: Organization, customer: Customer, user: Actor, step: DunningStep, subject: str,
                    body: str, language: str, key: str, today: dt.date | None) -> DunningMessage:
    role_require(organization=organization, actor=user, role=Role.COLLECTOR)
    same_organization_check(organization, customer, step)
    if not key or len(key) > 64:
        raise DomainError(_("The form has expired; open it again."), code=ErrorCode.INVALID)
    subject, body = _text_check(subject, body)
    recipients = [e for e in (customer.contact_emails or []) if e]
    if not recipients:
        raise DomainError(_("The customer has no contact email."), field="body")
    draft = reminder_draft(organization, customer, step=step, language=language, today=today)
    if subject == draft.subject and body.strip() == draft.text.strip():
        html = draft.rendered.html  # unedited: the step's own HTML, tables and all
    else:
        html = wording.text_html(subject=subject, text=body, language=language)
    now = timezone.now()
    label = _actor_label(user)
    run = DunningRun.objects.create(organization=organization, run_date=draft.today,
                                    status=RunStatus.ONE_OFF, messages_count=1, triggered_by=label,
                                    started_at=now, finished_at=now)
    message = DunningMessage.objects.create(
        organization=organization, run=run, customer=customer, language=language, to=recipients, subject=subject,
        body_text=body, body_html=html, content_hash=rendering.content_hash(subject, body, html), has_letter=False,
        status=MessageStatus.PENDING, created_at=now)
    with transaction.atomic():
        OneOffReminder.objects.create(organization=organization, customer=customer, message=message,
                                      template=step.template, key=key, created_by=user, created_at=now)
    audit_record(organization=organization, actor=user, action="dunning.one_off", obj=message,
                 after={"customer": customer.pk, "step": step.pk, "template": step.template, "language": language,
                        "to": recipients, "subject": subject, "content_hash": message.content_hash,
                        "edited": html != draft.rendered.html})
    transaction.on_commit(lambda: _queue_send([message.pk]))
    return message



# --- the organization's own wording of each step ------------------------------------------

def _wording_check(template: str, language: str, subject: str, body: str) -> tuple[str, str]:
    if template not in StepTemplate.values:
        raise DomainError(_("Choose a step template."), field="template")
    if language not in Language.values:
        raise DomainError(_("Choose a language."), field="language")
    subject, body = _text_check(subject, body)
    for field, text in (("subject", subject), ("body", body)):
        unknown = wording.unknown_variables(text)
        if unknown:
            raise DomainError(_("Unknown variable: %(names)s. Use only the variables listed.")
                              % {"names": ", ".join(unknown)}, field=field)
    return subject, body


@transaction.atomic
def message_template_set(*, organization: Organization, actor: Actor, template: str, language: str, subject: str,
                         body: str) -> MessageTemplate:
    """Save the organization's own wording of a step in a language (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    subject, body = _wording_check(template, language, subject, body)
    row = (MessageTemplate.objects.select_for_update(no_key=True)
           .filter(organization=organization, template=template, language=language).first())
    before = {"subject": row.subject, "body": row.body} if row is not None else None
    if row is None:
        row = MessageTemplate(organization=organization, template=template, language=language)
    row.subject, row.body, row.updated_by = subject, body, actor
    row.full_clean(exclude=["organization", "updated_by"])
    row.save()
    audit_record(organization=organization, actor=actor, action="dunning.message_template_set", obj=row,
                 before=before, after={"template": template, "language": language, "subject": subject, "body": body})
    return row


@transaction.atomic
def message_template_reset(*, organization: Organization, actor: Actor, template: str, language: str) -> None:
    """Go back to the built-in wording of a step in a language (admins)."""
    role_require(organization=organization, actor=actor, role=Role.ADMIN)
    row = (MessageTemplate.objects.select_for_update(no_key=True)
           .filter(organization=organization, template=template, language=language).first())
    if row is None:
        return
    audit_record(organization=organization, actor=actor, action="dunning.message_template_reset", obj=row,
                 before={"template": template, "language": language, "subject": row.subject, "body": row.body})
    row.delete()
