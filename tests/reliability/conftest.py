"""A seeded demo book shared by the reliability sweeps (seeded once per module, rolled back after)."""

import datetime as dt
import io
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command
from django.db import transaction

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 3, 16, 10, 0, tzinfo=SHANGHAI)  # a Monday: the dunning run sends


def seed_demo() -> None:
    with time_machine.travel(NOW, tick=False):
        call_command("seed_demo", stdout=io.StringIO())


@pytest.fixture(scope="module")
def seeded_book(django_db_setup, django_db_blocker):
    """The demo organizations, seeded once for the module inside a transaction rolled back at the end."""
    with django_db_blocker.unblock(), transaction.atomic():
        seed_demo()
        yield
        transaction.set_rollback(True)
