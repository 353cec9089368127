"""A weekly report is mailed at most once: it is marked "sending" (sent_at set while rendering) and
that is committed before the SMTP call, so when recording "sent" fails after the mail went out,
neither a retry nor the stuck-report sweep mails it again."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from receivables.models import WeeklyReport, WeeklyReportStatus
from receivables.reporting import services
from tests.receivables.reporting.conftest import (  # noqa: F401 - fixtures
    book,
    eager_tasks,
    report_files,
    schedule,
    smtp_server,
    smtp_settings,
)

from ..receivables.reporting.conftest import free_port


@pytest.fixture
def report(organization):
    return WeeklyReport.objects.create(organization=organization, week_start=dt.date(2026, 3, 2),
                                       as_of=dt.date(2026, 3, 2))


def test_a_report_whose_sent_mark_failed_after_the_mail_is_never_mailed_again(
        organization, customer, book, schedule, smtp_settings, report, monkeypatch):  # noqa: F811
    # given recording "sent" fails once the mail has gone out (the database went away)
    def database_gone(**kwargs):
        raise RuntimeError("server closed the connection unexpectedly")

    with monkeypatch.context() as patch:
        patch.setattr(services, "audit_record", database_gone)
        with pytest.raises(RuntimeError):
            services.weekly_report_deliver(report_id=report.pk)
    assert len(smtp_settings.envelopes) == 1
    report.refresh_from_db()
    assert report.status == WeeklyReportStatus.RENDERING and report.sent_at is not None  # "sending"

    # when the task is retried, and later the stuck-report sweep runs past the stale-claim time
    assert services.weekly_report_deliver(report_id=report.pk) is None
    with time_machine.travel(timezone.now() + dt.timedelta(hours=2)):
        assert report.pk not in services.weekly_reports_requeue_stuck()
        assert services.weekly_report_deliver(report_id=report.pk) is None

    # then the mail went out once
    assert len(smtp_settings.envelopes) == 1


def test_a_refused_smtp_call_clears_the_mark_and_the_retry_sends(
        organization, customer, book, schedule, settings, smtp_server, report):  # noqa: F811
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", free_port(), 5
    with pytest.raises(ConnectionRefusedError):
        services.weekly_report_deliver(report_id=report.pk)
    report.refresh_from_db()
    assert report.status == WeeklyReportStatus.FAILED and report.sent_at is None

    settings.EMAIL_PORT = controller.port
    assert services.weekly_report_deliver(report_id=report.pk) is not None
    report.refresh_from_db()
    assert report.status == WeeklyReportStatus.SENT and len(inbox.envelopes) == 1
