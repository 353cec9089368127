"""The daily alert digest mailed to an organization's credit managers."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import Organization
from tenancy.text import render_text

from .models import CreditAlert


def alert_digest_send(*, organization: Organization, alerts: list[CreditAlert], recipients: list[str]) -> None:
    with translation.override(organization.default_language):
        context = {"organization": organization, "alerts": alerts}
        subject = render_text("emails/credit/alert_digest_subject.txt", context).strip()
        text = render_text("emails/credit/alert_digest_body.txt", context)
        html = render_to_string("emails/credit/alert_digest_body.html", context)
    message = EmailMultiAlternatives(subject=subject, body=text, from_email=settings.DEFAULT_FROM_EMAIL,
                                     to=recipients, headers={ORGANIZATION_HEADER: str(organization.pk)})
    message.attach_alternative(html, "text/html")
    message.send()
