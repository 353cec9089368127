"""Sending recorded messages at most once, with their demand letters."""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from tenancy.mail import ORGANIZATION_HEADER
from tenancy.services import audit_record

from .. import rendering
from ..models import (
    DunningMessage,
    DunningNotice,
    EventKind,
    MessageStatus,
    StepTemplate,
)
from .common import _emit, timeline_add

MAX_SEND_ATTEMPTS = 5


SEND_BATCH = 50


def _queue_send(message_ids: list[int]) -> None:
    from ..tasks import dunning_messages_send_task

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
    # The letter demands what its step says: the invoices at the formal-demand step, not the
    # earlier reminders that share the message.
    notices = list(DunningNotice.objects.filter(message=message, step__template=StepTemplate.FINAL_DEMAND)
                   .select_related("invoice").order_by("invoice__due_date", "invoice_id"))
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
