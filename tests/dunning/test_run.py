"""The daily run: steps reached, one message per customer, exactly once, catch-up, order,
time zones, month ends, weekends, mail through a real SMTP server."""

import datetime as dt
import email
import io
from decimal import Decimal
from email import policy as email_policy

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from dunning import services
from dunning.models import (
    CollectionTask,
    CustomerEvent,
    DunningMessage,
    DunningNotice,
    DunningPolicy,
    EventKind,
    MessageStatus,
)
from dunning.rendering import content_hash
from tenancy.mail import ORGANIZATION_HEADER
from tenancy.models import AuditEntry
from tests.dunning.conftest import highest_catch_up, travel
from tests.factories import CustomerFactory, OrganizationFactory, make_invoice, make_payment

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def locmem_mail(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


def run_on(organization, day, capture, tz=None, hour=9):
    with travel(day, tz or organization.timezone, hour), capture(execute=True):
        return services.dunning_run(organization=organization)


def steps_of(invoice):
    return sorted(DunningNotice.objects.filter(invoice=invoice).values_list("step_days", flat=True))


def test_one_message_per_customer_lists_every_invoice_at_its_step(
        organization, english, django_capture_on_commit_callbacks):
    highest_catch_up(organization)
    # given: three overdue invoices at three different steps, and one not yet near due
    a = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))
    b = make_invoice(organization, english, amount="250.50", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
    c = make_invoice(organization, english, amount="80.00", issue_date=dt.date(2026, 3, 1), due_date=dt.date(2026, 3, 9))
    far = make_invoice(organization, english, amount="70.00", issue_date=dt.date(2026, 3, 1), due_date=dt.date(2026, 4, 30))

    run = run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)

    assert (run.messages_count, run.notices_count) == (1, 3)
    assert (steps_of(a), steps_of(b), steps_of(c), steps_of(far)) == ([1], [30], [-7], [])
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["ap@northwind.example"]
    assert sent.subject == "Acme Trading: second reminder, payment overdue"
    assert sent.extra_headers[ORGANIZATION_HEADER] == str(organization.pk)
    for invoice in (a, b, c):
        assert invoice.number in sent.body
    assert far.number not in sent.body
    assert "open 500.50, overdue 350.50" in sent.body  # the statement in the message
    assert "/portal/" in sent.body


def test_chinese_customer_gets_the_chinese_template(organization, chinese, django_capture_on_commit_callbacks):
    make_invoice(organization, chinese, amount="1200.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 3))

    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)

    sent = mail.outbox[0]
    assert sent.subject == "Acme Trading：付款提醒"
    assert "根据我们的记录，以下发票已逾期" in sent.body
    assert "1,200.00 CNY" in sent.body


def test_content_is_recorded_before_sending_and_hash_matches_what_was_sent(
        organization, english, django_capture_on_commit_callbacks):
    make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))
    with travel(dt.date(2026, 3, 4)), django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.dunning_run(organization=organization)

    # recorded, not yet sent: nothing has gone out before the transaction committed
    message = DunningMessage.objects.get()
    assert message.status == MessageStatus.PENDING and mail.outbox == []
    assert message.content_hash == content_hash(message.subject, message.body_text, message.body_html)

    for callback in callbacks:
        callback()
    message.refresh_from_db()
    assert message.status == MessageStatus.SENT
    assert mail.outbox[0].body == message.body_text
    entry = AuditEntry.objects.get(organization=organization, action="dunning.sent")
    assert entry.after["content_hash"] == message.content_hash
    event = CustomerEvent.objects.get(customer=english, kind=EventKind.NOTICE_SENT)
    assert event.content_hash == message.content_hash


def test_a_second_run_the_same_day_and_a_retried_send_never_send_twice(
        organization, english, django_capture_on_commit_callbacks):
    make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))
    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    message = DunningMessage.objects.get()

    second = run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    retried = services.dunning_message_send(message_id=message.pk)

    assert (second.notices_count, second.messages_count) == (0, 0)
    assert retried is None
    assert len(mail.outbox) == 1


def test_duplicate_notice_is_refused_by_the_database(organization, english, django_capture_on_commit_callbacks):
    from django.db import IntegrityError, transaction

    invoice = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 3, 1))
    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    notice = DunningNotice.objects.get(invoice=invoice)

    notice.pk = None
    with pytest.raises(IntegrityError, match="dunning_notice_once_per_step"), transaction.atomic():
        notice.save()


def test_missed_days_catch_up_with_the_first_missed_step_and_never_go_back(
        organization, english, django_capture_on_commit_callbacks):
    invoice = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2025, 12, 1),
                           due_date=dt.date(2026, 1, 5))
    run_on(organization, dt.date(2025, 12, 29), django_capture_on_commit_callbacks)  # -7 courtesy
    # the worker was down from Jan 6 to Feb 9: +1 and +30 were both reached meanwhile
    run_on(organization, dt.date(2026, 2, 9), django_capture_on_commit_callbacks)
    run_on(organization, dt.date(2026, 2, 10), django_capture_on_commit_callbacks)

    # the first missed step (+1), then the sequence continues 29 days later, not the next day
    assert steps_of(invoice) == [-7, 1]
    assert len(mail.outbox) == 2
    assert mail.outbox[1].subject == "Acme Trading: payment reminder"
    run_on(organization, dt.date(2026, 3, 10), django_capture_on_commit_callbacks)
    assert steps_of(invoice) == [-7, 1, 30]


def test_missed_days_catch_up_with_the_highest_step_when_the_policy_says_so(
        organization, english, django_capture_on_commit_callbacks):
    highest_catch_up(organization)
    invoice = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2025, 12, 1),
                           due_date=dt.date(2026, 1, 5))
    run_on(organization, dt.date(2025, 12, 29), django_capture_on_commit_callbacks)  # -7 courtesy
    run_on(organization, dt.date(2026, 2, 9), django_capture_on_commit_callbacks)
    run_on(organization, dt.date(2026, 2, 10), django_capture_on_commit_callbacks)

    assert steps_of(invoice) == [-7, 30]
    assert mail.outbox[1].subject == "Acme Trading: second reminder, payment overdue"


def test_month_end_due_date_reaches_plus_30_on_the_right_day(organization, english, admin_user,
                                                             django_capture_on_commit_callbacks):
    policy = services.dunning_policy_default(organization=organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy, business_days_only=False)
    # due Jan 31; February 2026 has 28 days, so +30 is March 2, not March 1 or 3
    invoice = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 1, 31))
    run_on(organization, dt.date(2026, 2, 1), django_capture_on_commit_callbacks)
    run_on(organization, dt.date(2026, 3, 1), django_capture_on_commit_callbacks)
    assert steps_of(invoice) == [1]
    run_on(organization, dt.date(2026, 3, 2), django_capture_on_commit_callbacks)
    assert steps_of(invoice) == [1, 30]


def test_the_step_is_decided_on_the_organizations_local_date(django_capture_on_commit_callbacks):
    shanghai = OrganizationFactory(name="East", timezone="Asia/Shanghai")
    new_york = OrganizationFactory(name="West", timezone="America/New_York")
    due = dt.date(2026, 3, 31)
    east = make_invoice(shanghai, CustomerFactory(organization=shanghai), issue_date=dt.date(2026, 3, 1), due_date=due)
    west = make_invoice(new_york, CustomerFactory(organization=new_york), issue_date=dt.date(2026, 3, 1), due_date=due)

    # 2026-04-01 02:00 in Shanghai is still March 31 (14:00) in New York
    with travel(dt.date(2026, 4, 1), "Asia/Shanghai", 2), django_capture_on_commit_callbacks(execute=True):
        services.dunning_run(organization=shanghai)
        services.dunning_run(organization=new_york)

    assert steps_of(east) == [1]  # April 1 in Shanghai: one day late
    assert steps_of(west) == [-7]  # still March 31 in New York: due today, only the courtesy step


def test_weekend_runs_wait_and_monday_catches_up(organization, english, django_capture_on_commit_callbacks):
    invoice = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 3, 6))  # a Friday: +1 is Saturday
    run_on(organization, dt.date(2026, 3, 7), django_capture_on_commit_callbacks)  # Saturday
    run_on(organization, dt.date(2026, 3, 8), django_capture_on_commit_callbacks)  # Sunday
    assert steps_of(invoice) == []
    run_on(organization, dt.date(2026, 3, 9), django_capture_on_commit_callbacks)  # Monday
    assert steps_of(invoice) == [1]
    assert DunningNotice.objects.get(invoice=invoice).days_overdue == 3


def test_a_policy_may_also_send_on_weekends(organization, english, admin_user, django_capture_on_commit_callbacks):
    policy = services.dunning_policy_default(organization=organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy, business_days_only=False)
    invoice = make_invoice(organization, english, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 6))
    run_on(organization, dt.date(2026, 3, 7), django_capture_on_commit_callbacks)
    assert steps_of(invoice) == [1]


def test_paid_void_and_written_off_invoices_are_never_dunned(organization, english,
                                                            django_capture_on_commit_callbacks):
    from receivables import services as ledger

    paid = make_invoice(organization, english, amount="100.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 2, 1))
    make_payment(organization, english, amount="100.00", received_on=dt.date(2026, 2, 20))
    void = make_invoice(organization, english, amount="50.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 2, 1))
    ledger.invoice_void(organization=organization, invoice=void, actor=None, reason="duplicate")
    gone = make_invoice(organization, english, amount="60.00", issue_date=dt.date(2026, 1, 1),
                        due_date=dt.date(2026, 2, 1))
    ledger.invoice_write_off(organization=organization, invoice=gone, actor=None, reason="bankrupt")

    run = run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)

    assert run.notices_count == 0 and mail.outbox == []
    assert (steps_of(paid), steps_of(void), steps_of(gone)) == ([], [], [])


def test_excluded_customer_and_segment_policy(organization, english, chinese, admin_user, credit_manager,
                                             django_capture_on_commit_callbacks):
    gentle = services.dunning_policy_create(
        organization=organization, actor=admin_user, name="Strategic", tone="gentle",
        steps=[{"days_from_due": 15, "channel": "email", "template": "reminder"}])
    services.segment_policy_set(organization=organization, actor=admin_user, segment="strategic", policy=gentle)
    english.segment = "strategic"
    english.save()
    services.customer_dunning_set(organization=organization, actor=credit_manager, customer=chinese, excluded=True)
    a = make_invoice(organization, english, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))
    b = make_invoice(organization, chinese, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))

    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)
    assert (steps_of(a), steps_of(b)) == ([], [])  # gentle waits 15 days; excluded never

    run_on(organization, dt.date(2026, 3, 16), django_capture_on_commit_callbacks)
    assert steps_of(a) == [15]
    assert "Could you let us know when we can expect it?" in mail.outbox[0].body


def test_only_admins_change_policies(organization, collector):
    from tenancy.errors import PermissionDenied

    with pytest.raises(PermissionDenied, match="This needs the Admin role in Acme Trading."):
        services.dunning_policy_create(organization=organization, actor=collector, name="X",
                                       steps=[{"days_from_due": 1}])
    assert not DunningPolicy.objects.filter(name="X").exists()


def test_fees_and_interest_are_computed_and_shown(organization, english, admin_user,
                                                 django_capture_on_commit_callbacks):
    policy = highest_catch_up(organization)
    services.dunning_policy_update(organization=organization, actor=admin_user, policy=policy,
                                   interest_mode="statutory", statutory_base_rate=Decimal("3.45"),
                                   interest_margin=Decimal("4.55"))
    policy.steps.filter(days_from_due=30).update(fee_amount=Decimal("40"))
    invoice = make_invoice(organization, english, amount="10000.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 1, 30))

    run_on(organization, dt.date(2026, 3, 3), django_capture_on_commit_callbacks)  # 32 days late

    notice = DunningNotice.objects.get(invoice=invoice)
    # 10,000 x 8% x 32 / 365 = 70.136... -> 70.14
    assert (notice.fee_amount, notice.interest_amount) == (Decimal("40.00"), Decimal("70.14"))
    assert "late fee 40.00, late interest 70.14" in mail.outbox[0].body

    charges = services.late_charges_invoice(organization=organization, actor=admin_user, customer=english,
                                            number="LATE-1")
    assert charges.total_amount == Decimal("110.14")
    assert services.late_charges_invoice(organization=organization, actor=admin_user, customer=english,
                                         number="LATE-2") is None


def test_customer_without_email_gets_a_call_task_instead(organization, django_capture_on_commit_callbacks):
    silent = CustomerFactory(organization=organization, name="No Mail Ltd", contact_emails=[])
    make_invoice(organization, silent, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))

    run_on(organization, dt.date(2026, 3, 4), django_capture_on_commit_callbacks)

    message = DunningMessage.objects.get()
    assert message.status == MessageStatus.NO_RECIPIENT and mail.outbox == []
    assert CollectionTask.objects.get().title.startswith("Call No Mail Ltd")


def test_preview_shows_what_would_go_out_without_writing(organization, english, chinese):
    highest_catch_up(organization)
    make_invoice(organization, english, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))
    make_invoice(organization, chinese, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))

    with travel(dt.date(2026, 3, 4)):
        everyone = services.dunning_preview(organization)
        one = services.dunning_preview(organization, customer=chinese)

    assert sorted(c.name for c, *_rest in everyone) == sorted([english.name, chinese.name])
    assert [c.name for c, *_rest in one] == [chinese.name]
    assert one[0][3].subject == "Acme Trading：第二次催款通知（款项已逾期）"
    assert not DunningNotice.objects.exists() and not DunningMessage.objects.exists()


def test_query_count_does_not_grow_with_the_number_of_invoices(organization, django_capture_on_commit_callbacks):
    def book(n, prefix):
        for i in range(n):
            customer = CustomerFactory(organization=organization, name=f"{prefix}{i}")
            make_invoice(organization, customer, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
            make_invoice(organization, customer, issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 3, 1))

    def counted(day):
        with travel(day), CaptureQueriesContext(connection) as queries, \
                django_capture_on_commit_callbacks(execute=False):
            run = services.dunning_run(organization=organization)
        return len(queries), run

    services.dunning_policy_default(organization=organization)
    book(3, "small")
    small, run_small = counted(dt.date(2026, 3, 4))
    book(15, "large")
    large, run_large = counted(dt.date(2026, 3, 5))  # the 15 new customers' invoices are new to dunning

    assert run_small.notices_count == 6 and run_large.notices_count == 30
    assert small == large


def test_real_smtp_server_receives_the_final_demand_with_the_letter(organization, chinese, smtp_inbox,
                                                                   django_capture_on_commit_callbacks):
    highest_catch_up(organization)
    invoice = make_invoice(organization, chinese, amount="88000.00", issue_date=dt.date(2025, 10, 1),
                           due_date=dt.date(2025, 11, 1), number="INV-90")

    run_on(organization, dt.date(2026, 2, 2), django_capture_on_commit_callbacks)

    assert steps_of(invoice) == [90]
    assert len(smtp_inbox.envelopes) == 1
    envelope = smtp_inbox.envelopes[0]
    assert envelope.rcpt_tos == ["cw@huadong.example"]
    parsed = email.message_from_bytes(envelope.content, policy=email_policy.default)
    assert parsed["Subject"] == "Acme Trading：正式催款函"
    assert parsed[ORGANIZATION_HEADER] == str(organization.pk)
    attachments = [(part.get_filename(), part.get_content()) for part in parsed.iter_attachments()]
    assert len(attachments) == 1 and attachments[0][0].startswith("demand-letter-")
    assert attachments[0][1][:5] == b"%PDF-"
    message = DunningMessage.objects.get()
    import hashlib

    assert message.letter_hash == hashlib.sha256(attachments[0][1]).hexdigest()


def test_demand_letter_is_dated_on_the_run_day_in_the_organizations_zone(django_capture_on_commit_callbacks):
    from pypdf import PdfReader

    tokyo = OrganizationFactory(name="Tokyo Trading", timezone="Asia/Tokyo", base_currency="JPY")
    buyer = CustomerFactory(organization=tokyo, name="Osaka Buyer", language="en", currency="JPY",
                            contact_emails=["ap@osaka.example"])
    make_invoice(tokyo, buyer, amount="500000", issue_date=dt.date(2025, 10, 1), due_date=dt.date(2025, 11, 1),
                 number="INV-JP-90")
    highest_catch_up(tokyo)

    # 08:00 on 2026-02-02 in Tokyo (UTC+9) is still 2026-02-01, 23:00, in UTC.
    run_on(tokyo, dt.date(2026, 2, 2), django_capture_on_commit_callbacks, hour=8)

    message = DunningMessage.objects.select_related("run").get(organization=tokyo)
    assert (message.run.run_date, message.created_at.date()) == (dt.date(2026, 2, 2), dt.date(2026, 2, 1))
    [sent] = mail.outbox
    [(filename, content, _mimetype)] = sent.attachments
    assert filename == f"demand-letter-{buyer.pk}-2026-02-02.pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
    assert "Tokyo Trading · 2026-02-02" in text
    assert "by 2026-02-12" in text  # the deadline: ten days from the letter's date
    assert "2026-02-01" not in text
