"""Delivery: the email through a real SMTP server, the archive, retries and failures."""

import datetime as dt
import email
import io
from email import policy

import pytest
import time_machine
from pypdf import PdfReader

from receivables.models import WeeklyReport, WeeklyReportStatus
from receivables.reporting import services, tasks
from tenancy.mail import ORGANIZATION_HEADER

from .conftest import free_port

MONDAY_NOON_SHANGHAI = dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC)


def claim_this_week(organization, capture):
    with time_machine.travel(MONDAY_NOON_SHANGHAI, tick=False), capture(execute=True):
        report = services.weekly_report_claim(organization=organization, week_start=dt.date(2026, 3, 2))
    report.refresh_from_db()
    return report


def test_the_report_is_mailed_through_smtp_with_the_pdf_attached(
        organization, customer, book, schedule, admin_user, smtp_settings, django_capture_on_commit_callbacks):
    report = claim_this_week(organization, django_capture_on_commit_callbacks)

    assert report.status == WeeklyReportStatus.SENT and report.attempts == 1
    [envelope] = smtp_settings.envelopes
    assert sorted(envelope.rcpt_tos) == sorted([admin_user.email, "cfo@example.com"])
    message = email.message_from_bytes(envelope.content, policy=policy.default)
    assert message[ORGANIZATION_HEADER] == str(organization.pk)
    english, chinese = str(message["Subject"]).strip().split(" / ")
    assert english == "Acme Trading: weekly aging report as of March 2, 2026"
    assert "2026年3月2日" in chinese
    body = message.get_body(preferencelist=("plain",)).get_content()
    assert "Total receivables: 142,100.50 CNY" in body
    attachments = {part.get_filename(): part for part in message.iter_attachments()}
    assert set(attachments) == {"aging-acme-2026-03-02.pdf", "aging-acme-2026-03-02.xlsx"}
    pdf = attachments["aging-acme-2026-03-02.pdf"].get_content()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert "上海华东贸易有限公司" in text and "142,100.50" in text and "March 2, 2026" in text
    # the archive keeps the same file
    with report.pdf.open("rb") as stored:
        assert stored.read() == pdf


@pytest.fixture
def eager_retries():
    """Let Celery's eager mode run the retries in-process (it does not when it propagates)."""
    from config.celery import app

    before = app.conf.task_eager_propagates
    app.conf.task_eager_propagates = False
    yield
    app.conf.task_eager_propagates = before


def test_a_failed_delivery_is_retried_then_shown_as_failed(
        client, organization, customer, book, schedule, admin_user, settings, django_capture_on_commit_callbacks,
        eager_retries):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()  # nothing listens there
    settings.EMAIL_TIMEOUT = 5

    report = claim_this_week(organization, django_capture_on_commit_callbacks)

    assert report.status == WeeklyReportStatus.FAILED
    assert report.attempts == tasks.DELIVERY_RETRY["max_retries"] + 1
    assert "ConnectionRefusedError" in report.error
    client.force_login(admin_user)
    page = client.get("/reports/").content.decode()
    assert f'data-testid="status-{report.pk}">Failed<' in page
    assert "ConnectionRefusedError" in page


def test_a_failed_report_succeeds_when_retried_and_is_never_sent_twice(
        organization, customer, book, schedule, settings, smtp_server, django_capture_on_commit_callbacks,
        eager_retries):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", free_port()
    report = claim_this_week(organization, django_capture_on_commit_callbacks)
    assert report.status == WeeklyReportStatus.FAILED

    settings.EMAIL_PORT = controller.port  # the mail server is back
    assert tasks.weekly_report_deliver_task.delay(report.pk).get() == report.pk
    assert tasks.weekly_report_deliver_task.delay(report.pk).get() is None  # already sent: nothing to do
    report.refresh_from_db()
    assert report.status == WeeklyReportStatus.SENT and len(inbox.envelopes) == 1


def test_a_report_being_rendered_is_not_taken_by_a_second_worker(organization, schedule):
    report = WeeklyReport.objects.create(organization=organization, week_start=dt.date(2026, 3, 2),
                                         as_of=dt.date(2026, 3, 2))
    assert services.weekly_report_start(report_id=report.pk) is True
    assert services.weekly_report_start(report_id=report.pk) is False
    report.refresh_from_db()
    assert (report.status, report.attempts) == (WeeklyReportStatus.RENDERING, 1)


def test_send_now_makes_a_manual_report_beside_the_weekly_one(
        organization, customer, book, schedule, admin_user, smtp_settings, django_capture_on_commit_callbacks):
    claim_this_week(organization, django_capture_on_commit_callbacks)
    with time_machine.travel(MONDAY_NOON_SHANGHAI, tick=False), django_capture_on_commit_callbacks(execute=True):
        manual = services.weekly_report_request(organization=organization, actor=admin_user)
    manual.refresh_from_db()
    assert (manual.kind, manual.status, manual.as_of) == ("manual", "sent", dt.date(2026, 3, 2))
    assert len(smtp_settings.envelopes) == 2


def test_send_now_twice_while_one_is_in_flight_is_refused(organization, schedule, admin_user):
    from tenancy.errors import DomainError

    services.weekly_report_request(organization=organization, actor=admin_user)  # on_commit never runs here
    with pytest.raises(DomainError, match="A report is already being produced; wait for it to finish."):
        services.weekly_report_request(organization=organization, actor=admin_user)
