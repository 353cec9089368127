"""Property-based fuzzing of the whole API from its own OpenAPI schema (schemathesis): whatever
it sends, no 5xx, and every response matches the documented status codes, types and bodies."""

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests.api.conftest import key_client
from tests.factories import CustomerFactory, make_invoice, make_payment

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture
def _keep_connection():
    # Calls go straight to the WSGI app; like Django's test client, keep the test's connection
    # (and its transaction) open across requests.
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def token(organization, _keep_connection):
    customer = CustomerFactory(organization=organization, external_id="C-1")
    make_invoice(organization, customer, external_id="I-1")
    make_payment(organization, customer, amount="10.00", external_id="P-1")
    return key_client(organization, rate_limit_per_minute=100_000).token


@pytest.mark.django_db
@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_schema(case, token):
    case.call_and_validate(headers={"Authorization": f"Bearer {token}"}, checks=CHECKS)
