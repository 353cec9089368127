"""API test helpers: clients authenticated with real API keys of two organizations."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tenancy.api.keys import api_key_create
from tenancy.models import ApiScope
from tests.factories import CustomerFactory


def key_client(organization, scopes=(ApiScope.READ, ApiScope.WRITE), **kwargs) -> APIClient:
    created = api_key_create(organization=organization, actor=None, name="ERP", scopes=list(scopes), **kwargs)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.token}")
    client.api_key = created.key
    client.token = created.token
    return client


@pytest.fixture(autouse=True)
def _clear_throttle_cache():
    # Throttle counters live in Redis; each test starts with a clean slate.
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(autouse=True)
def _eager_celery(monkeypatch):
    # Webhook deliveries run in-process, as under `make test` (CELERY_TASK_ALWAYS_EAGER=true).
    from config.celery import app

    monkeypatch.setattr(app.conf, "task_always_eager", True)
    monkeypatch.setattr(app.conf, "task_eager_propagates", True)


@pytest.fixture
def api(organization):
    """Read + write key of `organization` (Acme)."""
    return key_client(organization)


@pytest.fixture
def read_api(organization):
    return key_client(organization, scopes=[ApiScope.READ])


@pytest.fixture
def other_api(other_organization):
    """Read + write key of `other_organization` (Rival)."""
    return key_client(other_organization)


@pytest.fixture
def acme_customer(organization):
    return CustomerFactory(organization=organization, name="Shanghai East Trading", currency="CNY",
                           external_id="C-1", payment_terms_days=30)


def error_of(response) -> dict:
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]
