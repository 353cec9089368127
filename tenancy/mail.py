"""The embedded mail backend: keep every message in the database for the Outbox page.

Senders mark which organization a message belongs to with the X-Inflow-Organization header;
the Outbox shows a member only their organization's messages."""

from django.core.mail.backends.base import BaseEmailBackend

ORGANIZATION_HEADER = "X-Inflow-Organization"


class OutboxEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from .models import OutboxMessage

        sent = 0
        for message in email_messages:
            html = next((content for content, mime in getattr(message, "alternatives", []) if mime == "text/html"), "")
            org_id = message.extra_headers.get(ORGANIZATION_HEADER)
            OutboxMessage.objects.create(
                organization_id=int(org_id) if org_id else None,
                from_email=message.from_email,
                to=list(message.to) + list(message.cc) + list(message.bcc),
                subject=message.subject,
                body=message.body,
                html_body=html,
                raw=message.message().as_bytes(),
                attachment_names=[a[0] if isinstance(a, tuple) else a.get_filename() for a in message.attachments],
            )
            sent += 1
        return sent
