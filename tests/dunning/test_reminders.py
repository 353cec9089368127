"""One-off reminders (issue 14 item 4): the step's wording for the oldest overdue invoice, edited
by the collector, recorded with its exact text, sent once through real SMTP, in the timeline."""

import datetime as dt
import email
from email import policy as email_policy

import pytest
from django.urls import reverse

from dunning import services
from dunning.models import (
    CustomerEvent,
    DunningMessage,
    DunningNotice,
    DunningRun,
    EventKind,
    MessageStatus,
    OneOffReminder,
    RunStatus,
    StepTemplate,
)
from dunning.tasks import organizations_due
from tenancy.errors import DomainError, PermissionDenied
from tenancy.models import AuditEntry
from tests.dunning.conftest import at_local, travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 20)  # a Friday


@pytest.fixture
def overdue(organization, english):
    # 47 days late on TODAY: the +30 step ("second reminder") of the default policy
    make_invoice(organization, english, amount="1000.00", issue_date=dt.date(2026, 1, 1),
                 due_date=dt.date(2026, 2, 1), number="INV-OLD")
    make_invoice(organization, english, amount="250.00", issue_date=dt.date(2026, 2, 20),
                 due_date=dt.date(2026, 3, 15), number="INV-NEW")
    return english


def logged_in(client, user):
    client.force_login(user)
    return client


def parsed(envelope):
    return email.message_from_bytes(envelope.content, policy=email_policy.default)


def test_the_draft_uses_the_step_of_the_oldest_overdue_invoice(organization, overdue):
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)

    assert draft.oldest_days == 47
    assert draft.step.template == StepTemplate.SECOND
    assert draft.language == "en"
    assert "second reminder" in draft.subject
    assert "INV-OLD" in draft.text and "INV-NEW" in draft.text
    assert "more than 30 days past due" in draft.text


def test_another_step_and_language_can_be_chosen(organization, overdue):
    with travel(TODAY, organization.timezone):
        first = services.reminder_draft(organization, overdue)
        final = next(s for s in first.steps if s.template == StepTemplate.FINAL_NOTICE)
        draft = services.reminder_draft(organization, overdue, step=final, language="zh-hans")

    assert draft.step == final
    assert draft.subject == "Acme Trading：最后催款通知"
    assert "INV-OLD" in draft.text


def test_a_sent_reminder_keeps_the_edited_text_and_arrives_once_by_smtp(
        organization, overdue, collector, smtp_inbox, django_capture_on_commit_callbacks):
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)
        with django_capture_on_commit_callbacks(execute=True):
            message = services.send_one_off(
                organization=organization, customer=overdue, user=collector, step=draft.step,
                subject="Acme Trading: about INV-OLD", body=draft.text + "\nPlease call me back. — Li",
                language="en", key="k1")
        with django_capture_on_commit_callbacks(execute=True):
            again = services.send_one_off(
                organization=organization, customer=overdue, user=collector, step=draft.step,
                subject="Acme Trading: about INV-OLD", body="double click", language="en", key="k1")

    message.refresh_from_db()
    assert again.pk == message.pk
    assert message.status == MessageStatus.SENT
    assert message.subject == "Acme Trading: about INV-OLD"
    assert message.body_text.endswith("Please call me back. — Li\n")
    assert "<script" not in message.body_html
    assert message.run.status == RunStatus.ONE_OFF
    assert OneOffReminder.objects.get(message=message).template == StepTemplate.SECOND
    [envelope] = smtp_inbox.envelopes
    sent = parsed(envelope)
    assert sent["Subject"] == "Acme Trading: about INV-OLD"
    assert "Please call me back" in sent.get_body(("plain",)).get_content()
    event = CustomerEvent.objects.get(customer=overdue, kind=EventKind.NOTICE_SENT)
    assert event.summary == "Acme Trading: about INV-OLD"
    assert event.content_hash == message.content_hash
    assert AuditEntry.objects.filter(organization=organization, action="dunning.one_off").count() == 1


def test_a_one_off_neither_records_notices_nor_stops_the_daily_run(
        organization, overdue, collector, smtp_inbox, django_capture_on_commit_callbacks):
    with travel(TODAY, organization.timezone, hour=8):
        draft = services.reminder_draft(organization, overdue)
        with django_capture_on_commit_callbacks(execute=True):
            services.send_one_off(organization=organization, customer=overdue, user=collector, step=draft.step,
                                  subject=draft.subject, body=draft.text, language="en", key="k2")

    assert not DunningNotice.objects.filter(customer=overdue).exists()
    due = organizations_due(at_local(TODAY, organization.timezone, hour=23))
    assert (organization.pk, TODAY) in due
    with travel(TODAY, organization.timezone, hour=10), django_capture_on_commit_callbacks(execute=True):
        run = services.dunning_run(organization=organization)
    assert run.status == RunStatus.DONE and run.notices_count == 2


def test_an_unedited_reminder_keeps_the_steps_html(
        organization, overdue, collector, smtp_inbox, django_capture_on_commit_callbacks):
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)
        with django_capture_on_commit_callbacks(execute=True):
            message = services.send_one_off(organization=organization, customer=overdue, user=collector,
                                            step=draft.step, subject=draft.subject, body=draft.text,
                                            language="en", key="k3")
    assert 'data-testid="notice-items"' in message.body_html


def test_a_viewer_cannot_send_a_reminder(organization, overdue, viewer):
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)
        with pytest.raises(PermissionDenied):
            services.send_one_off(organization=organization, customer=overdue, user=viewer, step=draft.step,
                                  subject="x", body="y", language="en", key="k4")
    assert not DunningMessage.objects.exists()


@pytest.mark.parametrize(("subject", "body", "field", "text"), [
    ("", "body", "subject", "Write a subject."),
    ("subject", "   ", "body", "Write the message."),
    ("s" * 301, "body", "subject", "The subject is longer than 300 characters."),
])
def test_bad_text_is_refused_and_nothing_is_written(organization, overdue, collector, subject, body, field, text):
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)
        with pytest.raises(DomainError) as raised:
            services.send_one_off(organization=organization, customer=overdue, user=collector, step=draft.step,
                                  subject=subject, body=body, language="en", key="k5")
    assert (raised.value.field, raised.value.message) == (field, text)
    assert not DunningRun.objects.exists() and not DunningMessage.objects.exists()


def test_a_customer_without_email_is_refused(organization, collector):
    customer = CustomerFactory(organization=organization, name="No Mail Ltd", contact_emails=[])
    make_invoice(organization, customer, amount="10.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, customer)
        with pytest.raises(DomainError, match="no contact email"):
            services.send_one_off(organization=organization, customer=customer, user=collector, step=draft.step,
                                  subject="s", body="b", language="en", key="k6")
    assert not DunningMessage.objects.exists()


def test_another_organizations_step_or_customer_is_not_found(organization, other_organization, overdue, collector):
    theirs = CustomerFactory(organization=other_organization)
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)
        with pytest.raises(DomainError, match="Not found"):
            services.send_one_off(organization=organization, customer=theirs, user=collector, step=draft.step,
                                  subject="s", body="b", language="en", key="k7")


# --- the page ---------------------------------------------------------------------------------

def test_the_page_previews_and_sends_an_edited_reminder(
        client, organization, overdue, collector, smtp_inbox, django_capture_on_commit_callbacks):
    url = reverse("dunning:reminder_send", args=[overdue.pk])
    with travel(TODAY, organization.timezone):
        page = logged_in(client, collector).get(url)
        assert page.status_code == 200
        form = page.context["form"]
        data = {name: form.initial[name] for name in ("subject", "body", "step", "language", "key")}
        data["body"] = data["body"] + "\n<script>alert(1)</script>"
        preview = client.post(url, {**data, "action": "preview"})
        assert preview.status_code == 200
        html = preview.content.decode()
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html
        with django_capture_on_commit_callbacks(execute=True):
            sent = client.post(url, {**data, "action": "send"})
        timeline = client.get(reverse("dunning:timeline", args=[overdue.pk])).content.decode()
    assert sent.status_code == 302 and sent["Location"] == reverse("dunning:timeline", args=[overdue.pk])
    message = DunningMessage.objects.get(customer=overdue)
    assert message.body_text.endswith("<script>alert(1)</script>\n")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in message.body_html
    assert "<script>" not in message.body_html
    assert len(smtp_inbox.envelopes) == 1
    assert message.subject in timeline


def test_the_page_changes_step_by_query(client, organization, overdue, collector):
    with travel(TODAY, organization.timezone):
        draft = services.reminder_draft(organization, overdue)
        final = next(s for s in draft.steps if s.template == StepTemplate.FINAL_NOTICE)
        page = logged_in(client, collector).get(reverse("dunning:reminder_send", args=[overdue.pk]),
                                                {"step": final.pk, "language": "zh-hans"})
    assert page.context["draft"].step == final
    assert "最后催款通知" in page.context["form"].initial["subject"]


def test_a_customer_name_with_script_is_escaped_on_the_page(client, organization, collector):
    customer = CustomerFactory(organization=organization, name="<script>alert('x')</script>",
                               contact_emails=["a@example.com"])
    make_invoice(organization, customer, amount="10.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
    with travel(TODAY, organization.timezone):
        html = logged_in(client, collector).get(reverse("dunning:reminder_send", args=[customer.pk])).content.decode()
    assert "<script>alert('x')" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html


def test_a_viewer_sees_the_draft_without_a_form_and_cannot_post(client, organization, overdue, viewer):
    url = reverse("dunning:reminder_send", args=[overdue.pk])
    with travel(TODAY, organization.timezone):
        html = logged_in(client, viewer).get(url).content.decode()
        assert 'data-testid="reminder-form"' not in html and 'data-testid="reminder-draft"' in html
        response = client.post(url, {"subject": "s", "body": "b", "step": "1", "language": "en", "key": "k",
                                     "action": "send"})
    assert response.status_code == 403
    assert not DunningMessage.objects.exists()


def test_another_organizations_customer_is_a_404(client, other_organization, collector):
    theirs = CustomerFactory(organization=other_organization)
    response = logged_in(client, collector).get(reverse("dunning:reminder_send", args=[theirs.pk]))
    assert response.status_code == 404
