"""The weekly report's subject and plain-text body are not HTML: names keep their & and <."""

import pytest

from receivables.models import WeeklyReport
from receivables.reporting.mail import weekly_report_email
from receivables.reporting.selectors import weekly_report_data

from .conftest import AS_OF

NAME = "Smith & Sons <HK>"


@pytest.fixture
def smith(organization):
    organization.name = NAME
    organization.save(update_fields=["name"])
    return organization


def test_subject_and_text_body_keep_an_ampersand_and_angle_brackets(smith, customer, book):
    report = WeeklyReport(organization=smith, week_start=AS_OF, as_of=AS_OF, language="en")

    message = weekly_report_email(report, weekly_report_data(smith, AS_OF), recipients=["cfo@example.com"],
                                  pdf=b"%PDF", xlsx=b"PK")

    english, chinese = message.subject.split(" / ")
    assert english == f"{NAME}: weekly aging report as of March 2, 2026"
    assert chinese.startswith(NAME)
    assert f"Weekly aging report for {NAME}, as of March 2, 2026." in message.body
    assert "&amp;" not in message.body and "&lt;" not in message.body
    html, _mime = message.alternatives[0]
    assert "Smith &amp; Sons &lt;HK&gt;" in html  # the HTML part stays escaped
