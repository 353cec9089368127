"""Authentication, scopes and the uniform error body."""

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from tenancy.api.keys import api_key_create, api_key_revoke, token_hash
from tenancy.models import ApiKey, AuditEntry
from tests.api.conftest import error_of
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CUSTOMER = {"name": "Beijing North Steel", "external_id": "C-9"}


def test_no_credentials_is_401_with_bearer_challenge():
    response = APIClient().get("/api/v1/customers/")
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == 'Bearer realm="api"'
    assert error_of(response) == {"code": "not_authenticated",
                                  "message": "Authentication credentials were not provided.", "fields": {}}


def test_unknown_key_is_401(api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer ifk_00000000_not-a-real-key")
    response = client.get("/api/v1/customers/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"
    assert error_of(response)["message"] == "Invalid or revoked API key."


def test_right_prefix_wrong_secret_is_401(api):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api.api_key.prefix}_wrong-secret")
    assert client.get("/api/v1/customers/").status_code == 401


def test_revoked_key_is_401(api, organization):
    api_key_revoke(organization=organization, actor=None, key=api.api_key)
    response = api.get("/api/v1/customers/")
    assert response.status_code == 401
    assert error_of(response)["message"] == "Invalid or revoked API key."


def test_only_the_hash_of_the_token_is_stored(api):
    key = ApiKey.objects.get(pk=api.api_key.pk)
    assert key.secret_hash == token_hash(api.token)
    assert api.token not in str(ApiKey.objects.values().get(pk=key.pk))
    assert api.token.startswith(key.prefix + "_")


def test_read_scope_cannot_write(read_api):
    response = read_api.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 403
    assert error_of(response) == {"code": "insufficient_scope", "message": "This API key lacks the write scope.",
                                  "fields": {}}


def test_read_scope_can_read(read_api):
    assert read_api.get("/api/v1/customers/").status_code == 200


def test_last_used_is_recorded(organization):
    created = api_key_create(organization=organization, actor=None, name="ERP", scopes=["read"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {created.token}")
    with time_machine.travel(dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC), tick=False):
        client.get("/api/v1/customers/")
    created.key.refresh_from_db()
    assert created.key.last_used_at == dt.datetime(2026, 3, 1, 9, 0, tzinfo=dt.UTC)


def test_write_scope_implies_read(organization):
    created = api_key_create(organization=organization, actor=None, name="ERP", scopes=["write"])
    assert created.key.scopes == ["read", "write"]


def test_writes_by_key_are_audited_under_the_key(api):
    response = api.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 201
    entry = AuditEntry.objects.get(action="customer.created", object_id=str(response.json()["id"]))
    assert entry.actor_label == f"api-key:{api.api_key.prefix} (ERP)"


def test_session_auth_works_for_members(organization, collector):
    client = APIClient()
    assert client.login(username=collector.username, password=PASSWORD)
    assert client.get("/api/v1/customers/").status_code == 200
    response = client.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 201, response.json()


def test_session_viewer_cannot_write(organization, viewer):
    client = APIClient()
    client.login(username=viewer.username, password=PASSWORD)
    response = client.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 403
    assert error_of(response) == {"code": "permission_denied",
                                  "message": "This needs the Collector role in Acme Trading.", "fields": {}}


def test_session_user_without_membership_gets_404(user_factory):
    user = user_factory()
    client = APIClient()
    client.login(username=user.username, password=PASSWORD)
    response = client.get("/api/v1/customers/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


def test_session_writes_need_csrf(organization, collector):
    client = APIClient(enforce_csrf_checks=True)
    client.login(username=collector.username, password=PASSWORD)
    response = client.post("/api/v1/customers/", CUSTOMER, format="json")
    assert response.status_code == 403
    assert "CSRF" in error_of(response)["message"]


def test_json_only(api):
    response = api.post("/api/v1/customers/", "name=x", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert error_of(response)["code"] == "unsupported_media_type"


def test_malformed_json_is_parse_error(api):
    response = api.post("/api/v1/customers/", "{nope", content_type="application/json")
    assert response.status_code == 400
    assert error_of(response)["code"] == "parse_error"


@pytest.mark.parametrize("verb", ["CREATE", "GET_OBJECT", "PERFORM_CREATE", "LIST"])
def test_a_method_that_is_not_an_http_verb_is_405_and_runs_nothing(api, verb):
    # The view's own methods (create, get_object...) must not be reachable as HTTP methods.
    from receivables.models import Customer

    response = api.generic(verb, "/api/v1/customers/", '{"name": "Sneaky", "external_id": "C-X"}',
                           content_type="application/json")
    assert response.status_code == 405
    assert error_of(response) == {"code": "method_not_allowed", "fields": {},
                                  "message": f'Method "{verb}" not allowed.'}
    assert not Customer.objects.exists()
