"""Higher apps add sections to the weekly PDF and the dashboard through reporting/sections.py."""

import io

import pytest
from pypdf import PdfReader

from receivables.reporting import sections
from receivables.reporting.pdf import weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data

from .conftest import AS_OF

SECTION_TEMPLATE = "tests_section.html"


@pytest.fixture
def registered(monkeypatch, settings, tmp_path):
    """A section like factoring's: a position when the organization has a facility, else nothing."""
    (tmp_path / SECTION_TEMPLATE).write_text(
        "{% load i18n %}<h2>{% translate 'Position' %}</h2><p>Facility {{ section.name }}: {{ section.amount }}</p>")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [*settings.TEMPLATES[0]["DIRS"], tmp_path]}]  # resets engines
    calls = []

    def build(organization, as_of, language):
        calls.append((organization.pk, as_of, language))
        return {"name": "Bank of Ningbo", "amount": "80,000.00"} if organization.slug != "quiet" else None

    monkeypatch.setattr(sections, "_registry", {})
    sections.section_register(sections.ReportSection(key="facility", order=50, build=build, template=SECTION_TEMPLATE,
                                                     dashboard_template=SECTION_TEMPLATE))
    return calls


def test_a_registered_section_is_in_the_weekly_pdf(organization, customer, book, registered):
    data = weekly_report_data(organization, AS_OF)
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(weekly_report_pdf(data, "en").content)).pages)
    assert "Facility Bank of Ningbo: 80,000.00" in text
    assert [call[:2] for call in registered] == [(organization.pk, AS_OF)]


def test_a_section_with_nothing_to_say_is_left_out(organization, customer, book, registered):
    organization.slug = "quiet"
    data = weekly_report_data(organization, AS_OF)
    assert data.sections == []
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(weekly_report_pdf(data, "en").content)).pages)
    assert "Bank of Ningbo" not in text


def test_sections_come_in_order_and_only_where_they_have_a_template(monkeypatch):
    monkeypatch.setattr(sections, "_registry", {})
    for key, order, template, dashboard in [("b", 20, "b.html", None), ("a", 10, None, "a.html"), ("c", 10, "c.html", "c.html")]:
        sections.section_register(sections.ReportSection(key=key, order=order, build=lambda *args: {}, template=template,
                                                         dashboard_template=dashboard))
    assert [section.key for section in sections.sections_registered()] == ["a", "c", "b"]
    assert [s.key for s in sections.sections_build(None, AS_OF, "en")] == ["c", "b"]
    assert [s.key for s in sections.sections_build(None, AS_OF, "en", where="dashboard")] == ["a", "c"]
