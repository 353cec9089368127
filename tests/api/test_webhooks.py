"""Webhooks against a real HTTP server started by the test: signed deliveries, retries with
back-off, the delivery log, redelivery from the UI, and the once-per-transition overdue event."""

from __future__ import annotations

import datetime as dt
import json
import queue
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import time_machine
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from receivables import services
from tenancy.errors import DomainError
from tenancy.models import WebhookDelivery, WebhookDeliveryStatus, WebhookEndpoint, WebhookEvent
from tenancy.tasks import invoice_overdue_events_task, webhook_deliveries_retry_task
from tenancy.webhooks import (
    webhook_backoff,
    webhook_endpoint_create,
    webhook_endpoint_set_active,
    webhook_signature,
    webhook_signature_verify,
)
from tests.factories import PASSWORD, make_invoice

pytestmark = pytest.mark.django_db


class Receiver:
    """A real HTTP server: records every request, answers with the queued status codes (then 200),
    with a Location header when `location` is set, after calling `on_request` if set."""

    def __init__(self):
        self.requests: list[tuple[dict, bytes]] = []
        self.statuses: queue.Queue[int] = queue.Queue()
        self.location: str | None = None
        self.on_request = None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                if receiver.on_request is not None:
                    receiver.on_request()
                status = 200 if receiver.statuses.empty() else receiver.statuses.get()
                self.send_response(status)
                if receiver.location:
                    self.send_header("Location", receiver.location)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hooks/inflow"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list[dict]:
        return [json.loads(body) for _headers, body in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # The receiver listens on 127.0.0.1, which production refuses (tests below check that).
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = True
    server = Receiver()
    yield server
    server.close()


def _retry_sweep_after(seconds: float) -> int:
    """Run the retry sweep `seconds` from now (the clock moved on, as beat's would)."""
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=seconds), tick=False):
        return webhook_deliveries_retry_task()


@pytest.fixture
def endpoint(organization, receiver):
    return webhook_endpoint_create(organization=organization, actor=None, url=receiver.url, event_types=[])


def test_invoice_created_is_delivered_signed(organization, acme_customer, endpoint, receiver, api,
                                             django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/invoices/", {"customer": acme_customer.pk, "number": "INV-7",
                                                  "issue_date": "2026-01-10", "net_amount": "10.00"}, format="json")
    assert response.status_code == 201
    (headers, body), = receiver.requests
    payload = json.loads(body)
    assert payload["type"] == "invoice.created" and headers["Inflow-Event-Type"] == "invoice.created"
    assert payload["data"]["number"] == "INV-7" and payload["data"]["total_amount"] == "10.0000"
    assert payload["organization"] == organization.pk
    assert headers["Inflow-Event-Id"] == payload["id"]
    assert webhook_signature_verify(endpoint.secret, headers["Inflow-Signature"], body)
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.attempts) == (WebhookDeliveryStatus.SUCCEEDED, 200, 1)
    assert delivery.latency_ms is not None and delivery.delivered_at is not None
    assert str(delivery.event.event_id) == payload["id"]


def test_failed_deliveries_are_retried_until_accepted(organization, acme_customer, endpoint, receiver,
                                                      django_capture_on_commit_callbacks):
    receiver.statuses.put(500)
    receiver.statuses.put(503)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    assert _retry_sweep_after(webhook_backoff(1)) == 1
    assert _retry_sweep_after(webhook_backoff(1) + webhook_backoff(2)) == 1
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED
    assert [attempt["response_code"] for attempt in delivery.attempt_log] == [500, 503, 200]
    # The same event every time, so the receiver can deduplicate.
    assert len({body["id"] for body in receiver.bodies()}) == 1


@override_settings(WEBHOOK_MAX_ATTEMPTS=2)
def test_gives_up_after_the_last_attempt(organization, acme_customer, endpoint, receiver,
                                         django_capture_on_commit_callbacks):
    for _ in range(5):
        receiver.statuses.put(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    assert _retry_sweep_after(webhook_backoff(1)) == 1
    assert _retry_sweep_after(7 * 3600) == 0  # given up: nothing left to retry
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (WebhookDeliveryStatus.FAILED, 2, 500)
    assert delivery.error == "HTTP 500"
    assert len(receiver.requests) == 2


@override_settings(WEBHOOK_MAX_ATTEMPTS=1)
def test_unreachable_endpoint_is_logged(organization, acme_customer, receiver, django_capture_on_commit_callbacks):
    url = receiver.url
    receiver.close()  # nothing listens there any more
    webhook_endpoint_create(organization=organization, actor=None, url=url, event_types=[])
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.response_code is None
    assert "refused" in delivery.error.lower()


def test_backoff_is_exponential_and_capped(settings):
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    assert [webhook_backoff(n) for n in (1, 2, 3, 4)] == [30, 60, 120, 240]
    assert webhook_backoff(30) == 6 * 3600


def test_endpoint_gets_only_its_event_types(organization, acme_customer, receiver,
                                            django_capture_on_commit_callbacks):
    webhook_endpoint_create(organization=organization, actor=None, url=receiver.url,
                            event_types=["payment.received", "invoice.paid"])
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer, amount="50.00")
        services.payment_record(organization=organization, actor=None, customer=acme_customer,
                                received_on=dt.date(2026, 1, 20), amount="50.00")
    assert sorted(body["type"] for body in receiver.bodies()) == ["invoice.paid", "payment.received"]


def test_paused_endpoint_gets_nothing(organization, acme_customer, endpoint, receiver,
                                      django_capture_on_commit_callbacks):
    webhook_endpoint_set_active(organization=organization, actor=None, endpoint=endpoint, active=False)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    assert receiver.requests == []
    assert WebhookEvent.objects.filter(type="invoice.created").count() == 1  # still listed at /events/


def test_rolled_back_write_sends_nothing(organization, acme_customer, endpoint, receiver, api,
                                         django_capture_on_commit_callbacks):
    make_invoice(organization, acme_customer, number="INV-1")
    receiver.requests.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post("/api/v1/invoices/", {"customer": acme_customer.pk, "number": "INV-1",
                                                  "issue_date": "2026-01-10", "net_amount": "10.00"}, format="json")
    assert response.status_code == 409
    assert receiver.requests == []


def test_redeliver_from_the_ui(organization, acme_customer, endpoint, receiver, admin_user,
                               django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    delivery = WebhookDelivery.objects.get()
    client = APIClient()
    client.login(username=admin_user.username, password=PASSWORD)
    page = client.get(f"/settings/integrations/webhooks/{endpoint.pk}/")
    assert page.status_code == 200
    assert str(delivery.event.event_id) in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/settings/integrations/deliveries/{delivery.pk}/redeliver/")
    assert response.status_code == 302
    first, second = receiver.bodies()
    assert first["id"] == second["id"]
    delivery.refresh_from_db()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED and len(delivery.attempt_log) == 2


def test_another_organizations_delivery_cannot_be_redelivered(other_organization, organization, acme_customer,
                                                              endpoint, django_capture_on_commit_callbacks):
    from tests.factories import MembershipFactory

    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    delivery = WebhookDelivery.objects.get()
    rival_admin = MembershipFactory(organization=other_organization).user
    client = APIClient()
    client.login(username=rival_admin.username, password=PASSWORD)
    assert client.post(f"/settings/integrations/deliveries/{delivery.pk}/redeliver/").status_code == 404
    assert client.get(f"/settings/integrations/webhooks/{endpoint.pk}/").status_code == 404


def test_signature_verification_refuses_tampering_and_old_timestamps():
    body = b'{"id":"1"}'
    header = webhook_signature("whsec_test", 1_700_000_000, body)
    assert webhook_signature_verify("whsec_test", header, body, now=1_700_000_100)
    assert not webhook_signature_verify("whsec_test", header, body + b" ", now=1_700_000_100)
    assert not webhook_signature_verify("whsec_other", header, body, now=1_700_000_100)
    assert not webhook_signature_verify("whsec_test", header, body, now=1_700_000_000 + 301)
    assert not webhook_signature_verify("whsec_test", "garbage", body)


def test_overdue_event_once_per_invoice_and_due_date(organization, acme_customer, endpoint, receiver,
                                                     django_capture_on_commit_callbacks):
    invoice = make_invoice(organization, acme_customer, issue_date=dt.date(2026, 1, 1))  # due 01-31
    receiver.requests.clear()
    # 09:00 in Shanghai on the first day past due.
    with (time_machine.travel(dt.datetime(2026, 2, 1, 1, 0, tzinfo=dt.UTC), tick=False),
          django_capture_on_commit_callbacks(execute=True)):
        assert invoice_overdue_events_task() == 1
        assert invoice_overdue_events_task() == 0  # beat firing twice: nothing new
    assert [body["type"] for body in receiver.bodies()] == ["invoice.overdue"]
    services.invoice_update(organization=organization, invoice=invoice, actor=None, due_date=dt.date(2026, 2, 15))
    with time_machine.travel(dt.datetime(2026, 2, 10, 1, 0, tzinfo=dt.UTC), tick=False):
        assert invoice_overdue_events_task() == 0  # no longer overdue
    with time_machine.travel(dt.datetime(2026, 2, 16, 1, 0, tzinfo=dt.UTC), tick=False):
        assert invoice_overdue_events_task() == 1  # overdue again: a new transition
    assert WebhookEvent.objects.filter(type="invoice.overdue").count() == 2


def test_events_are_listed_for_pull(api, organization, acme_customer):
    make_invoice(organization, acme_customer, amount="20.00")
    services.payment_record(organization=organization, actor=None, customer=acme_customer,
                            received_on=dt.date(2026, 1, 20), amount="20.00")
    events = api.get("/api/v1/events/").json()["results"]
    assert [e["type"] for e in events] == ["invoice.created", "invoice.paid", "payment.received"]
    assert api.get("/api/v1/events/", {"type": "invoice.paid"}).json()["results"][0]["data"]["status"] == "paid"


# --- where deliveries may go (no server-side request forgery) ---------------------------------

@pytest.mark.parametrize("url", [
    "http://127.0.0.1:8000/hooks",
    "http://localhost/hooks",  # a name is resolved: localhost is loopback
    "http://169.254.169.254/latest/meta-data/",  # cloud metadata (link-local)
    "http://10.0.0.5/hooks",
    "http://192.168.1.20/hooks",
    "http://[::1]/hooks",
    "http://[::ffff:127.0.0.1]/hooks",
    "http://0.0.0.0/hooks",
    "http://224.0.0.1/hooks",  # multicast
    "http://240.0.0.1/hooks",  # reserved
])
def test_private_loopback_link_local_reserved_and_multicast_urls_are_refused(organization, settings, url):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    with pytest.raises(DomainError) as refused:
        webhook_endpoint_create(organization=organization, actor=None, url=url, event_types=[])
    assert refused.value.field == "url"
    assert refused.value.message == (
        "Webhooks go to public addresses only: this URL's host is, or resolves to, a private, loopback, "
        "link-local, reserved or multicast address.")
    assert not WebhookEndpoint.objects.exists()


def test_a_public_address_is_accepted(organization, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    endpoint = webhook_endpoint_create(organization=organization, actor=None, url="https://93.184.215.14/hooks",
                                       event_types=[])
    assert WebhookEndpoint.objects.get().url == endpoint.url == "https://93.184.215.14/hooks"


def test_the_address_is_checked_again_before_each_attempt(organization, acme_customer, endpoint, receiver, settings,
                                                          django_capture_on_commit_callbacks):
    # given an endpoint registered while allowed (or a name that now resolves somewhere private)
    settings.WEBHOOK_ALLOW_PRIVATE_URLS = False
    # when an event is delivered
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    # then nothing is sent, and the attempt is logged as failed with the reason
    assert receiver.requests == []
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (WebhookDeliveryStatus.PENDING, 1, None)
    assert delivery.error == "127.0.0.1 resolves to 127.0.0.1: not a public address"


@override_settings(WEBHOOK_MAX_ATTEMPTS=1)
def test_redirects_are_not_followed(organization, acme_customer, endpoint, receiver,
                                    django_capture_on_commit_callbacks):
    elsewhere = Receiver()
    try:
        receiver.statuses.put(302)
        receiver.location = elsewhere.url
        with django_capture_on_commit_callbacks(execute=True):
            make_invoice(organization, acme_customer)
        assert elsewhere.requests == []
    finally:
        elsewhere.close()
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.response_code, delivery.error) == (WebhookDeliveryStatus.FAILED, 302, "HTTP 302")


# --- retries: one attempt per call in-process, the sweep makes the next ones ------------------

def test_in_process_delivery_makes_one_attempt_and_leaves_it_pending(organization, acme_customer, endpoint,
                                                                     receiver, django_capture_on_commit_callbacks):
    for _ in range(3):
        receiver.statuses.put(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    assert len(receiver.requests) == 1
    delivery = WebhookDelivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == (WebhookDeliveryStatus.PENDING, 1, 500)
    assert delivery.leased_until is None


def test_retry_sweep_waits_for_the_backoff(organization, acme_customer, endpoint, receiver,
                                           django_capture_on_commit_callbacks):
    receiver.statuses.put(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    assert _retry_sweep_after(webhook_backoff(1) - 1) == 0
    assert len(receiver.requests) == 1
    assert _retry_sweep_after(webhook_backoff(1)) == 1
    assert len(receiver.requests) == 2
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.SUCCEEDED
    assert _retry_sweep_after(7 * 3600) == 0  # delivered: never sent again


def test_retry_sweep_leaves_a_delivery_another_worker_holds(organization, acme_customer, endpoint, receiver,
                                                            django_capture_on_commit_callbacks):
    receiver.statuses.put(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    held_until = timezone.now() + dt.timedelta(seconds=webhook_backoff(1) + 60)
    WebhookDelivery.objects.update(leased_until=held_until)
    assert _retry_sweep_after(webhook_backoff(1)) == 0
    assert len(receiver.requests) == 1
    # A lease runs out only when its worker died: then the delivery is picked up again.
    assert _retry_sweep_after(webhook_backoff(1) + 61) == 1
    assert len(receiver.requests) == 2
    delivery = WebhookDelivery.objects.get()
    assert delivery.status == WebhookDeliveryStatus.SUCCEEDED and delivery.leased_until is None


def test_the_embedded_scheduler_runs_the_retry_sweep(organization, acme_customer, endpoint, receiver, settings,
                                                     django_capture_on_commit_callbacks):
    from config.scheduler import EmbeddedScheduler

    (name, entry), = [(n, e) for n, e in settings.CELERY_BEAT_SCHEDULE.items()
                      if e["task"] == "tenancy.tasks.webhook_deliveries_retry_task"]
    receiver.statuses.put(500)
    with django_capture_on_commit_callbacks(execute=True):
        make_invoice(organization, acme_customer)
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=webhook_backoff(1)), tick=False):
        EmbeddedScheduler({name: entry}).tick()
    assert [attempt["response_code"] for attempt in WebhookDelivery.objects.get().attempt_log] == [500, 200]


@pytest.mark.django_db(transaction=True)
def test_the_post_is_made_with_no_row_lock_held(organization, acme_customer, endpoint, receiver):
    # While the receiver handles the request, another connection can lock the delivery row: the
    # attempt holds a lease, not a transaction, for as long as the receiver takes.
    seen = []

    def lock_the_delivery():
        from django.db import OperationalError, connection, transaction

        try:
            with transaction.atomic():
                seen.append(len(WebhookDelivery.objects.select_for_update(nowait=True).all()))
        except OperationalError as exc:
            seen.append(str(exc).strip())
        finally:
            connection.close()

    receiver.on_request = lock_the_delivery
    make_invoice(organization, acme_customer)  # committed: the delivery runs on commit
    assert seen == [1]
    assert WebhookDelivery.objects.get().status == WebhookDeliveryStatus.SUCCEEDED


def test_event_ids_are_time_ordered_rfc_9562_uuids():
    import time
    import uuid

    from tenancy.webhooks import event_ids

    before = time.time_ns() // 1_000_000
    texts = event_ids(5000)
    after = time.time_ns() // 1_000_000
    ids = [uuid.UUID(text) for text in texts]

    assert all(i.version == 7 and i.variant == uuid.RFC_4122 for i in ids)
    assert len(set(ids)) == 5000 and [str(i) for i in ids] == texts  # canonical text form
    assert all(before <= i.int >> 80 <= after for i in ids)  # the first 48 bits: the creation's millisecond
    # Every random bit is used: across many ids each of the 74 random bit positions takes both values.
    random_bits = [(i.int >> 64 & 0xFFF) << 62 | (i.int & (2 ** 62 - 1)) for i in ids]
    assert all(any(b >> n & 1 for b in random_bits) and not all(b >> n & 1 for b in random_bits) for n in range(74))
