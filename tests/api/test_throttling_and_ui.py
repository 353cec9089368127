"""Throttling per API key, and the admins' Integrations page (keys shown once, revocation)."""

import pytest
from django.test import Client

from tenancy.api.keys import token_hash
from tenancy.models import ApiKey, WebhookEndpoint
from tests.api.conftest import error_of, key_client
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def test_key_over_its_rate_gets_429_with_retry_after(organization):
    client = key_client(organization, rate_limit_per_minute=2)
    assert [client.get("/api/v1/customers/").status_code for _ in range(2)] == [200, 200]
    response = client.get("/api/v1/customers/")
    assert response.status_code == 429
    assert 0 < int(response.headers["Retry-After"]) <= 60
    assert error_of(response)["code"] == "throttled"


def test_throttling_counts_per_key(organization):
    busy, quiet = key_client(organization, rate_limit_per_minute=1), key_client(organization, rate_limit_per_minute=1)
    busy.get("/api/v1/customers/")
    assert busy.get("/api/v1/customers/").status_code == 429
    assert quiet.get("/api/v1/customers/").status_code == 200


def _admin_client(user) -> Client:
    client = Client()
    client.login(username=user.username, password=PASSWORD)
    return client


def test_admin_creates_a_key_and_sees_the_token_once(admin_user):
    client = _admin_client(admin_user)
    response = client.post("/settings/integrations/keys/", {"name": "SAP sync", "scopes": ["read", "write"]})
    assert response.status_code == 200
    token = response.context["new_token"]
    key = ApiKey.objects.get(name="SAP sync")
    assert key.secret_hash == token_hash(token) and key.scopes == ["read", "write"] and key.created_by == admin_user
    assert token in response.content.decode()
    page = client.get("/settings/integrations/").content.decode()
    assert token not in page and key.prefix in page
    api = key_client(admin_user.memberships.get().organization)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.get("/api/v1/customers/").status_code == 200


def test_key_form_errors(admin_user):
    response = _admin_client(admin_user).post("/settings/integrations/keys/", {"name": ""})
    assert response.status_code == 400
    assert response.context["key_form"].errors == {"name": ["This field is required."],
                                                   "scopes": ["This field is required."]}


def test_admin_revokes_a_key(admin_user, organization):
    api = key_client(organization)
    response = _admin_client(admin_user).post(f"/settings/integrations/keys/{api.api_key.pk}/revoke/")
    assert response.status_code == 302
    assert api.get("/api/v1/customers/").status_code == 401


def test_admin_adds_a_webhook_endpoint_and_sees_the_secret_once(admin_user):
    client = _admin_client(admin_user)
    response = client.post("/settings/integrations/webhooks/", {"url": "https://erp.example.com/hooks",
                                                                "event_types": ["invoice.paid"]})
    assert response.status_code == 200
    endpoint = WebhookEndpoint.objects.get()
    assert response.context["new_secret"] == endpoint.secret and endpoint.event_types == ["invoice.paid"]
    assert endpoint.secret not in client.get("/settings/integrations/").content.decode()


def test_non_admins_cannot_manage_integrations(collector):
    client = _admin_client(collector)
    assert client.get("/settings/integrations/").status_code == 403
    assert client.post("/settings/integrations/keys/", {"name": "x", "scopes": ["read"]}).status_code == 403
    assert not ApiKey.objects.exists()


def test_another_organizations_key_cannot_be_revoked(admin_user, other_organization):
    foreign = key_client(other_organization)
    assert _admin_client(admin_user).post(f"/settings/integrations/keys/{foreign.api_key.pk}/revoke/").status_code == 404
    assert foreign.get("/api/v1/customers/").status_code == 200
