"""The report pages: archive, downloads scoped to the organization, preview, send now, schedule."""

import datetime as dt
import io

import pytest
import time_machine
from pypdf import PdfReader

from receivables.models import WeeklyReport, WeeklyReportSchedule
from tenancy.models import OutboxMessage, Role
from tests.factories import MembershipFactory


def stored_report(organization):
    report = WeeklyReport.objects.create(organization=organization, week_start=dt.date(2026, 3, 2),
                                         as_of=dt.date(2026, 3, 2), status="sent",
                                         sent_at=dt.datetime(2026, 3, 2, tzinfo=dt.UTC))
    from django.core.files.base import ContentFile

    report.pdf.save("x/report.pdf", ContentFile(b"%PDF-1.7 test"), save=True)
    return report


def test_a_member_downloads_a_report_of_their_organization(client, organization, viewer):
    report = stored_report(organization)
    client.force_login(viewer)
    response = client.get(f"/reports/weekly/{report.pk}/pdf/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"%PDF-1.7 test"


def test_another_organizations_report_is_404(client, organization, other_organization):
    report = stored_report(organization)
    outsider = MembershipFactory(organization=other_organization, role=Role.ADMIN).user
    client.force_login(outsider)
    assert client.get(f"/reports/weekly/{report.pk}/pdf/").status_code == 404
    assert f"report-{report.pk}" not in client.get("/reports/").content.decode()


def test_preview_renders_the_pdf_inline_and_sends_nothing(client, organization, customer, admin_user, settings):
    settings.EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"
    from .conftest import build_ledger

    build_ledger(organization, customer)
    client.force_login(admin_user)
    with time_machine.travel(dt.datetime(2026, 3, 2, 4, 0, tzinfo=dt.UTC), tick=False):
        response = client.get("/reports/weekly/preview/?language=zh-hans")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("inline;")
    text = PdfReader(io.BytesIO(response.content)).pages[0].extract_text()
    assert "2026年3月2日" in text and "142,100.50" in text
    assert OutboxMessage.objects.count() == 0 and WeeklyReport.objects.count() == 0


def test_preview_is_for_admins(client, organization, viewer):
    client.force_login(viewer)
    response = client.get("/reports/weekly/preview/")
    assert response.status_code == 403
    assert response.content.decode() == "Only admins can preview the weekly report."


def test_an_admin_saves_the_schedule(client, organization, admin_user):
    client.force_login(admin_user)
    response = client.post("/reports/weekly/schedule/", {
        "enabled": "on", "weekday": "4", "send_time": "09:30", "timezone": "Asia/Shanghai",
        "language": "zh-hans", "recipients": [admin_user.pk], "external_recipients": "a@x.cn, b@y.cn"})
    assert response.status_code == 302
    schedule = WeeklyReportSchedule.objects.get(organization=organization)
    assert (schedule.weekday, schedule.send_time, schedule.external_recipients) == (4, dt.time(9, 30), ["a@x.cn", "b@y.cn"])
    assert list(schedule.recipients.all()) == [admin_user]


def test_a_viewer_cannot_save_the_schedule(client, organization, viewer):
    client.force_login(viewer)
    response = client.post("/reports/weekly/schedule/", {
        "weekday": "0", "send_time": "08:00", "timezone": "Asia/Shanghai", "language": "en"})
    assert response.status_code == 400
    assert "This needs the Admin role in Acme Trading." in response.content.decode()
    assert not WeeklyReportSchedule.objects.exists()


def test_send_now_in_the_embedded_default_lands_in_the_outbox(
        client, organization, customer, admin_user, settings, django_capture_on_commit_callbacks):
    settings.EMAIL_BACKEND = "tenancy.mail.OutboxEmailBackend"
    from .conftest import build_ledger, make_schedule

    build_ledger(organization, customer)
    make_schedule(organization, users=[admin_user], language="zh-hans")
    client.force_login(admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/reports/weekly/send-now/")
    assert response.status_code == 302
    message = OutboxMessage.objects.get()
    assert message.organization_id == organization.pk
    assert message.attachment_names[0].endswith(".pdf")
    assert WeeklyReport.objects.get().status == "sent"


@pytest.mark.parametrize("role", ["viewer", "collector"])
def test_send_now_is_refused_below_admin(client, organization, admin_user, role, request,
                                         django_capture_on_commit_callbacks):
    from receivables.reporting import services
    from tenancy.errors import DomainError

    from .conftest import make_schedule

    make_schedule(organization, users=[admin_user])
    member = request.getfixturevalue(role)
    with pytest.raises(DomainError, match="^This needs the Admin role in Acme Trading.$"):
        services.weekly_report_request(organization=organization, actor=member)
    client.force_login(member)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = client.post("/reports/weekly/send-now/", follow=True)
    assert "This needs the Admin role in Acme Trading." in response.content.decode()
    assert not WeeklyReport.objects.exists() and callbacks == []
