"""The evidence bundle of a customer, for legal action or an insurance claim: a ZIP of its
invoices, every notice sent (exact content and hash), the demand letters, the timeline, the
audit entries about them, and a manifest with the sha256 of every file."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import zipfile

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone

from receivables.models import Customer, Invoice
from tenancy.models import AuditEntry, Organization
from tenancy.spreadsheet import spreadsheet_rows

from .models import CustomerEvent, DunningMessage


def _csv(rows: list[list]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(spreadsheet_rows(rows))
    return buffer.getvalue().encode("utf-8-sig")


def evidence_bundle(organization: Organization, customer: Customer) -> bytes:
    """The ZIP bytes of one customer's evidence bundle."""
    files: dict[str, bytes] = {}
    invoices = Invoice.objects.filter(organization=organization, customer=customer).order_by("issue_date", "pk")
    files["invoices.csv"] = _csv([["number", "issue_date", "due_date", "currency", "total", "applied", "status"]] + [
        [i.number, i.issue_date, i.due_date, i.currency, i.total_amount, i.applied_amount, i.status]
        for i in invoices])
    messages = (DunningMessage.objects.filter(organization=organization, customer=customer).select_related("run")
                .order_by("created_at", "pk"))
    for message in messages:
        # Named by the run's date (the organization's calendar day), as the letter itself is dated.
        stem = f"{message.run.run_date:%Y-%m-%d}-{message.pk}"
        files[f"notices/{stem}.txt"] = (
            f"Subject: {message.subject}\nTo: {', '.join(message.to)}\nStatus: {message.status}\n"
            f"Sent at: {message.sent_at}\nContent sha256: {message.content_hash}\n\n{message.body_text}").encode()
        files[f"notices/{stem}.html"] = message.body_html.encode()
        if message.letter_pdf:
            files[f"letters/{stem}.pdf"] = bytes(message.letter_pdf)
    events = CustomerEvent.objects.filter(organization=organization, customer=customer).order_by("occurred_at", "pk")
    files["timeline.csv"] = _csv([["occurred_at", "kind", "summary", "actor", "content_sha256"]] + [
        [e.occurred_at.isoformat(), e.kind, e.summary, e.actor_label, e.content_hash] for e in events])
    entries = AuditEntry.objects.filter(
        organization=organization, action="dunning.sent", object_type=DunningMessage._meta.label_lower,
        object_id__in=[str(m.pk) for m in messages]).order_by("sequence")
    files["audit.json"] = json.dumps([{"sequence": e.sequence, "created_at": e.created_at, "action": e.action,
                                       "object": f"{e.object_type}:{e.object_id}", "after": e.after,
                                       "previous_hash": e.previous_hash, "entry_hash": e.entry_hash}
                                      for e in entries], cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()
    manifest = {"organization": organization.name, "customer": customer.name, "generated_at": timezone.now(),
                "files": {name: hashlib.sha256(data).hexdigest() for name, data in sorted(files.items())}}
    files["manifest.json"] = json.dumps(manifest, cls=DjangoJSONEncoder, ensure_ascii=False, indent=1).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return buffer.getvalue()
