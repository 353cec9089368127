"""Fixtures of the weekly report tests: a ledger with a Chinese customer, a schedule, a real
SMTP server (aiosmtpd) and a private report folder per test."""

import datetime as dt
import socket
from decimal import Decimal

import pytest
from aiosmtpd.controller import Controller

from receivables import services as ledger
from receivables.models import WeeklyReportSchedule
from tests.factories import CustomerFactory, make_invoice, make_payment

AS_OF = dt.date(2026, 3, 2)  # a Monday


class Inbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.envelopes = []

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def smtp_server():
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        yield controller, inbox
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    controller, inbox = smtp_server
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = controller.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    return inbox


@pytest.fixture(autouse=True)
def eager_tasks():
    """Tasks run in-process here, whatever REDIS_URL says (settings may be read before the
    root conftest's environment defaults); the two-worker test sends to Redis explicitly."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture(autouse=True)
def report_files(settings, tmp_path):
    """Reports are written under a per-test folder (REPORTS_ROOT)."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.REPORTS_ROOT = str(tmp_path / "reports")
    return tmp_path / "reports"


def build_ledger(organization, customer):
    """A small book on AS_OF: a Chinese and an English customer, a USD invoice, something in
    every bucket, a payment during the week."""
    english = CustomerFactory(organization=organization, name="Northwind Traders", currency="CNY")
    usd = CustomerFactory(organization=organization, name="Globex Corporation", currency="USD")
    ledger.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2025, 1, 1),
                       rate=Decimal("7.1"))
    make_invoice(organization, customer, amount="120000.00", issue_date=dt.date(2025, 11, 1),
                 due_date=dt.date(2025, 11, 20), number="INV-CN-1")  # 90+
    make_invoice(organization, customer, amount="8000.50", issue_date=dt.date(2026, 2, 1),
                 due_date=dt.date(2026, 2, 26), number="INV-CN-2")  # 1-30, newly overdue this week
    make_invoice(organization, english, amount="5000.00", issue_date=dt.date(2026, 2, 20),
                 due_date=dt.date(2026, 3, 20), number="INV-EN-1")  # current
    make_invoice(organization, english, amount="3000.00", issue_date=dt.date(2025, 12, 1),
                 due_date=dt.date(2026, 1, 15), number="INV-EN-2")  # 31-60
    make_invoice(organization, usd, amount="1000.00", issue_date=dt.date(2025, 12, 1),
                 due_date=dt.date(2025, 12, 31), number="INV-US-1", currency="USD")  # 61-90
    make_payment(organization, english, amount="1000.00", received_on=dt.date(2026, 2, 27))
    return {"english": english, "usd": usd}


@pytest.fixture
def book(organization, customer):
    return build_ledger(organization, customer)


def make_schedule(organization, *, users=(), external=("cfo@example.com",), **fields):
    defaults = {"enabled": True, "weekday": 0, "send_time": dt.time(8, 0), "timezone": organization.timezone,
                "language": "en", "external_recipients": list(external)}
    defaults.update(fields)
    schedule, _ = WeeklyReportSchedule.objects.update_or_create(organization=organization, defaults=defaults)
    schedule.recipients.set(users)
    return schedule


@pytest.fixture
def schedule(organization, admin_user):
    return make_schedule(organization, users=[admin_user])
