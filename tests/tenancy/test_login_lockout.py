"""Brute force on /login/: after AXES_FAILURE_LIMIT failures for one username or from one address,
sign-ins are refused (even the right password) with a clear message, and the lockout is audited."""

import datetime as dt

import pytest
import time_machine
from axes.models import AccessAttempt, AccessFailureLog
from django.urls import reverse
from django.utils import timezone

from tenancy.models import AuditEntry
from tests.factories import PASSWORD, UserFactory


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.AXES_FAILURE_LIMIT = 5
    settings.AXES_COOLOFF_TIME = dt.timedelta(minutes=15)


def sign_in(client, username, password, address="198.51.100.7"):
    return client.post(reverse("login"), {"username": username, "password": password}, REMOTE_ADDR=address)


def test_the_right_password_after_too_many_failures_is_refused(client, admin_user, organization):
    for _ in range(4):
        assert sign_in(client, admin_user.username, "wrong").status_code == 200
    assert sign_in(client, admin_user.username, "wrong").status_code == 429  # the limit reached
    response = sign_in(client, admin_user.username, PASSWORD)
    assert response.status_code == 429
    assert "Too many failed sign-in attempts for this account or from this address. Try again in 15 minutes" \
        in response.content.decode()
    assert "_auth_user_id" not in client.session
    # the trail: axes keeps the attempts, the organization's audit chain has the lockout once
    assert AccessAttempt.objects.filter(username=admin_user.username).exists()
    assert AccessFailureLog.objects.filter(username=admin_user.username).count() >= 5
    entries = AuditEntry.objects.filter(organization=organization, action="user.login_locked_out")
    assert entries.count() == 1
    assert entries.get().after["ip_address"] == "198.51.100.7"


def test_a_locked_user_is_locked_from_any_address(client, admin_user):
    for i in range(5):
        sign_in(client, admin_user.username, "wrong", address=f"203.0.113.{i + 1}")
    assert sign_in(client, admin_user.username, PASSWORD, address="192.0.2.200").status_code == 429


def test_an_address_trying_many_usernames_is_locked(client, admin_user):
    for i in range(5):
        sign_in(client, f"guess{i}", "wrong")
    assert sign_in(client, admin_user.username, PASSWORD).status_code == 429
    # another address still signs in
    assert sign_in(client, admin_user.username, PASSWORD, address="192.0.2.50").status_code == 302


def test_the_lockout_ends_after_the_cool_off(client, admin_user):
    for _ in range(5):
        sign_in(client, admin_user.username, "wrong")
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=16)):
        assert sign_in(client, admin_user.username, PASSWORD).status_code == 302


def test_fewer_failures_than_the_limit_do_not_lock(client, admin_user):
    for _ in range(4):
        sign_in(client, admin_user.username, "wrong")
    assert sign_in(client, admin_user.username, PASSWORD).status_code == 302


def test_the_lockout_message_is_translated(client, admin_user):
    for _ in range(5):
        sign_in(client, admin_user.username, "wrong")
    response = client.post(reverse("login"), {"username": admin_user.username, "password": PASSWORD},
                           REMOTE_ADDR="198.51.100.7", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 429
    assert "登录失败次数过多" in response.content.decode()


def test_behind_a_trusted_proxy_the_client_address_is_counted(settings, client, admin_user):
    settings.TRUSTED_PROXY_COUNT = 1
    user = UserFactory()
    for _ in range(5):
        client.post(reverse("login"), {"username": "nobody", "password": "x"}, REMOTE_ADDR="10.0.0.2",
                    HTTP_X_FORWARDED_FOR="198.51.100.9")
    # another client behind the same proxy is not locked out
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD},
                           REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="198.51.100.10")
    assert response.status_code == 302
