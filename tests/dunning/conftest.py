"""Fixtures of the dunning tests: a small book, a real SMTP server, helpers to run the day."""

import datetime as dt
import socket
from zoneinfo import ZoneInfo

import pytest
import time_machine
from aiosmtpd.controller import Controller

from tests.factories import CustomerFactory


def at_local(day: dt.date, tz: str = "Asia/Shanghai", hour: int = 9) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hour, tzinfo=ZoneInfo(tz))


def travel(day: dt.date, tz: str = "Asia/Shanghai", hour: int = 9):
    """Freeze the clock at `hour` o'clock of `day` in `tz`."""
    return time_machine.travel(at_local(day, tz, hour), tick=False)


@pytest.fixture
def english(organization):
    return CustomerFactory(organization=organization, name="Northwind Traders", language="en",
                           contact_emails=["ap@northwind.example"])


@pytest.fixture
def chinese(organization):
    return CustomerFactory(organization=organization, name="上海华东贸易有限公司", language="zh-hans",
                           contact_emails=["cw@huadong.example"])


class Inbox:
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
def smtp_inbox(settings):
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", controller.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 10
    try:
        yield inbox
    finally:
        controller.stop()


@pytest.fixture(autouse=True)
def eager_celery():
    """Tasks run in-process, whatever the environment said when Celery read its settings
    (tests that start real workers switch this off themselves)."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield app
    app.conf.task_always_eager = before


def highest_catch_up(organization):
    """The default policy jumps to the highest step reached (the option that keeps the old
    behaviour), for tests about a particular step rather than about the catch-up rule."""
    from dunning import services

    policy = services.dunning_policy_default(organization=organization)
    return services.dunning_policy_update(organization=organization, actor=None, policy=policy, catch_up="highest")
