"""The insurance section of the weekly PDF (English and Chinese) and the dashboard."""

import datetime as dt
import io

import pytest
from django.utils import translation
from pypdf import PdfReader

from insurance.reporting import insurance_section
from receivables.reporting.pdf import weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data

pytestmark = pytest.mark.django_db
AS_OF = dt.date(2026, 3, 25)


def _pdf_text(organization, language):
    with translation.override(language):
        data = weekly_report_data(organization, AS_OF)
        pdf = weekly_report_pdf(data, language).content
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_section_figures(organization, policy, three_invoices):
    section = insurance_section(organization, AS_OF, "en")
    assert (section["buyers"], section["total_cover"], section["cover_used"], section["used_share"]) == (
        1, 200000, 200000, 100)
    assert [(d["deadline"], d["row"].invoice_number) for d in section["due"]] == [(dt.date(2026, 4, 1), "A")]


def test_no_policy_no_section(organization):
    assert insurance_section(organization, AS_OF, "en") is None


def test_section_in_the_weekly_pdf_in_both_languages(organization, policy, three_invoices):
    english = _pdf_text(organization, "en")
    assert "Trade credit insurance" in english and "Notify the overdue" in english
    chinese = _pdf_text(organization, "zh-hans")
    assert "贸易信用保险" in chinese and "申报逾期" in chinese


def test_section_on_the_dashboard(organization, credit_manager, policy, three_invoices):
    import time_machine
    from django.test import Client
    from django.urls import reverse

    from tests.factories import PASSWORD

    client = Client()
    assert client.login(username=credit_manager.username, password=PASSWORD)
    with time_machine.travel(dt.datetime(2026, 3, 25, 4, tzinfo=dt.UTC), tick=False):
        page = client.get(reverse("dashboard")).content.decode()
    assert 'data-testid="insurance-dashboard"' in page and "200,000.00" in page
