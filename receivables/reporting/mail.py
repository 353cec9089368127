"""The weekly report email: bilingual subject and body, the PDF and XLSX attached."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils import translation

from receivables.exports import XLSX_MEDIA_TYPE
from receivables.models import WeeklyReport
from tenancy.checkpoints import audit_head
from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import Language
from tenancy.text import render_text

from .pdf import amount, long_date
from .selectors import WeeklyReportData


def _languages(primary: str) -> list[str]:
    """The report's language first, then the other one."""
    return [primary, *(code for code in Language.values if code != primary)]


def _section(data: WeeklyReportData, language: str) -> dict:
    with translation.override(language):
        return {
            "language": language,
            "as_of": long_date(data.as_of),
            "total": amount(data.aging.total, data.currency),
            "overdue": amount(data.aging.overdue, data.currency),
            "overdue_ratio": data.aging.overdue_ratio,
            "dso": data.dso.standard,
            "collected": amount(data.changes.collected.amount, data.currency),
            "fx_warnings": [gap.message for gap in data.fx_gaps],
            "subject": render_text("emails/weekly_report_subject.txt",
                                        {"organization": data.organization, "as_of": long_date(data.as_of)}).strip(),
        }


def weekly_report_email(report: WeeklyReport, data: WeeklyReportData, *, recipients: list[str], pdf: bytes,
                        xlsx: bytes) -> EmailMultiAlternatives:
    """The message for one report, marked with its organization for the outbox."""
    sections = [_section(data, code) for code in _languages(report.language)]
    # The chain's head leaves the database in every report mail: a later removal of entries is provable.
    context = {"organization": data.organization, "currency": data.currency, "sections": sections,
               "audit_head": audit_head(data.organization)}
    subject = " / ".join(section["subject"] for section in sections)
    message = EmailMultiAlternatives(
        subject=" ".join(subject.split()),
        body=render_text("emails/weekly_report_body.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=recipients,
        headers={ORGANIZATION_HEADER: str(data.organization.pk)},
    )
    message.attach_alternative(render_to_string("emails/weekly_report_body.html", context), "text/html")
    stem = f"aging-{data.organization.slug}-{data.as_of.isoformat()}"
    message.attach(f"{stem}.pdf", pdf, "application/pdf")
    message.attach(f"{stem}.xlsx", xlsx, XLSX_MEDIA_TYPE)
    return message
