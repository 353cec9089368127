"""The HTTP connector against a simulated insurer on 127.0.0.1: job id, polling until processed,
the callback, refusals, retries (5xx, 429 with Retry-After, connection failures); the manual adapter."""

import datetime as dt
import json
from decimal import Decimal

import pytest

from insurance import services
from insurance.callbacks import callback_path
from insurance.connectors import HttpConnector, InsurerError, ManualConnector, connector_for
from insurance.models import ConnectorKind, CoverRequest, Decision, RequestStatus
from tenancy.errors import DomainError

from .conftest import invoice
from .fake_insurer import FakeInsurer

D = dt.date


@pytest.fixture
def insurer():
    with FakeInsurer() as fake:
        yield fake


def _http_policy(organization, policy, url):
    return services.policy_update(organization=organization, actor=None, policy=policy, connector=ConnectorKind.HTTP,
                                  connector_url=url)


def _request(organization, policy, buyer):
    return services.cover_request_create(organization=organization, actor=None, policy=policy, customer=buyer,
                                         request_type="new", amount=Decimal("300000"), requested_on=D(2026, 2, 1))


@pytest.mark.django_db
def test_submit_then_poll_until_processed(organization, policy, buyer, insurer):
    policy = _http_policy(organization, policy, insurer.url)
    request = services.cover_request_submit(organization=organization, actor=None,
                                            request=_request(organization, policy, buyer))
    assert (request.status, request.external_reference) == (RequestStatus.SUBMITTED, "job-1")
    method, path, payload = insurer.requests[0]
    assert (method, path, payload["requestType"], payload["amount"], payload["buyer"]["name"]) == (
        "POST", "/v1/cover-requests", "new", "300000.0000", buyer.name)
    assert services.cover_requests_poll(organization=organization) == 0  # processing
    assert services.cover_requests_poll(organization=organization) == 0  # processing
    assert services.cover_requests_poll(organization=organization) == 1  # processed
    request.refresh_from_db()
    assert (request.status, request.decision, request.decided_amount, request.valid_until,
            request.external_reference) == (RequestStatus.DECIDED, Decision.APPROVED, Decimal("300000"),
                                            D(2026, 12, 31), "DEC-1")
    assert services.cover_requests_poll(organization=organization) == 0  # nothing left to ask


@pytest.mark.django_db
def test_retries_5xx_and_429_then_succeeds(insurer, settings):
    slept = []
    connector = HttpConnector(insurer.url, attempts=4, backoff=0.01, sleep=slept.append)
    insurer.failures += [(503, {}, b"maintenance"), (429, {"Retry-After": "2"}, b"slow down"),
                         (502, {}, b"bad gateway")]
    job = connector.cover_request_submit({"buyer": {"name": "X"}, "amount": "1"})
    assert job == "job-1"
    assert slept == [0.01, 2.0, 4.0]  # doubling, raised to the 429's Retry-After


@pytest.mark.django_db
def test_gives_up_after_the_attempts_and_refuses_4xx_at_once(insurer):
    slept = []
    connector = HttpConnector(insurer.url, attempts=3, backoff=0.01, sleep=slept.append)
    insurer.failures += [(500, {}, b"boom")] * 3
    with pytest.raises(InsurerError, match="Insurer error 500") as failed:
        connector.cover_decision_poll("job-9")
    assert failed.value.retryable and len(slept) == 2
    with pytest.raises(InsurerError, match=r"refused the call \(400\): .*buyer missing") as refused:
        connector.cover_request_submit({"amount": "1"})
    assert refused.value.status == 400 and not refused.value.retryable
    insurer.failures.append((200, {}, b"<html>not json</html>"))
    with pytest.raises(InsurerError, match="not JSON"):
        connector.cover_decision_poll("job-1")


@pytest.mark.django_db
def test_unreachable_insurer_is_retried_then_reported(insurer):
    url = insurer.url
    insurer.server.shutdown()
    insurer.server.server_close()
    slept = []
    with pytest.raises(InsurerError, match="unreachable") as failed:
        HttpConnector(url, attempts=2, backoff=0.01, sleep=slept.append, timeout=1).claim_file({})
    assert failed.value.retryable and slept == [0.01]


def test_only_allowed_hosts_are_called(settings):
    settings.INSURER_API_ALLOWED_HOSTS = ("127.0.0.1",)
    with pytest.raises(InsurerError, match="not in INSURER_API_ALLOWED_HOSTS"):
        HttpConnector("https://api.insurer.example/v1")


@pytest.mark.django_db
def test_a_failed_submission_changes_nothing(organization, policy, buyer, insurer):
    policy = _http_policy(organization, policy, insurer.url)
    request = _request(organization, policy, buyer)
    insurer.failures += [(422, {}, b'{"error": "policy suspended"}')]
    with pytest.raises(DomainError, match="did not take the request.*policy suspended"):
        services.cover_request_submit(organization=organization, actor=None, request=request)
    assert CoverRequest.objects.get(pk=request.pk).status == RequestStatus.PENDING


@pytest.mark.django_db
def test_declarations_and_claims_go_to_the_insurer(organization, policy, covered_buyer, insurer):
    policy = _http_policy(organization, policy, insurer.url)
    inv = invoice(organization, covered_buyer, "1000.00", issued=D(2026, 1, 1), due=D(2026, 1, 31))
    import time_machine

    with time_machine.travel(dt.datetime(2026, 3, 1, 4, tzinfo=dt.UTC), tick=False):
        declaration = services.declaration_create(organization=organization, actor=None, policy=policy,
                                                  customer=covered_buyer, kind="overdue", invoices=[inv])
    _method, path, payload = insurer.requests[-1]
    assert (path, payload["type"], payload["invoices"][0]["number"]) == ("/v1/overdues", "OVD", inv.number)
    assert declaration.reference.startswith("OVD-")
    claim = services.claim_create(organization=organization, actor=None, policy=policy, customer=covered_buyer,
                                  invoices=[inv], as_of=D(2026, 3, 2))
    claim = services.claim_file(organization=organization, actor=None, claim=claim, filed_on=D(2026, 3, 2))
    assert insurer.requests[-1][1] == "/v1/claims" and claim.reference.startswith("CLM-")


def test_manual_adapter_sends_nothing():
    manual = ManualConnector()
    assert (manual.cover_request_submit({}), manual.cover_decision_poll("x"), manual.overdue_declare({}),
            manual.claim_file({})) == (None, None, None, None)


@pytest.mark.django_db
def test_manual_policy_keeps_the_request_pending(organization, policy, buyer):
    assert isinstance(connector_for(policy), ManualConnector)
    request = services.cover_request_submit(organization=organization, actor=None,
                                            request=_request(organization, policy, buyer))
    assert request.status == RequestStatus.PENDING


@pytest.mark.django_db(transaction=True)
def test_the_insurer_calls_back_with_the_decision(live_server, insurer):
    from tests.factories import CustomerFactory, OrganizationFactory

    from .conftest import POLICY_TERMS

    organization = OrganizationFactory()
    buyer = CustomerFactory(organization=organization, currency="CNY")
    policy = services.policy_create(organization=organization, actor=None, **POLICY_TERMS,
                                    connector=ConnectorKind.HTTP, connector_url=insurer.url)
    insurer.decision = {"decision": "PARTIAL", "amount": "120000.00", "reasonCode": "7",
                        "reasonText": "Limited financial information", "validUntil": "2026-09-30",
                        "decidedOn": "2026-02-04"}
    request = services.cover_request_submit(
        organization=organization, actor=None, request=_request(organization, policy, buyer),
        callback_url=live_server.url + callback_path(policy.pk))
    insurer._callback(request.external_reference)
    assert insurer.callbacks == [204]
    request.refresh_from_db()
    assert (request.decision, request.decided_amount, request.reason_code, request.valid_until) == (
        Decision.PARTIAL, Decimal("120000.00"), "7", D(2026, 9, 30))
    insurer._callback(request.external_reference)  # a repeated callback is harmless
    assert insurer.callbacks == [204, 204]
    wrong = live_server.url + callback_path(policy.pk)[:-3] + "xx/"
    import urllib.error
    import urllib.request

    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(  # noqa: S310 - loopback test server
            wrong, data=json.dumps({"jobId": "job-1"}).encode(), method="POST"), timeout=10)
    assert refused.value.code == 404
