"""Safe retries (Idempotency-Key) and optimistic concurrency (ETag / If-Match), including the
concurrent cases with two real database connections."""

import datetime as dt
import threading
import time

import pytest
import time_machine
from django.db import connection, transaction

from receivables.models import Invoice
from tenancy.models import AuditChainHead, IdempotencyRecord
from tests.api.conftest import error_of, key_client
from tests.factories import CustomerFactory, make_invoice

CUSTOMER = {"name": "Hangzhou Tea Co", "external_id": "C-42"}


# --- Idempotency-Key ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_same_key_same_body_replays_without_doing_the_work_again(api):
    first = api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    second = api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == second.status_code == 201
    assert second.json() == first.json()
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    from receivables.models import Customer

    assert Customer.objects.filter(external_id="C-42").count() == 1


@pytest.mark.django_db
def test_same_key_different_body_is_422(api):
    api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    response = api.post("/api/v1/customers/", {**CUSTOMER, "name": "Other"}, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-2")
    assert response.status_code == 422
    assert error_of(response) == {"code": "idempotency_key_mismatch", "fields": {},
                                  "message": "This Idempotency-Key was used with a different request; use a new key."}


@pytest.mark.django_db
def test_json_spacing_does_not_change_the_fingerprint(api):
    api.post("/api/v1/customers/", '{"name": "A", "external_id": "Z"}', content_type="application/json",
             HTTP_IDEMPOTENCY_KEY="k-3")
    again = api.post("/api/v1/customers/", '{"external_id":"Z","name":"A"}', content_type="application/json",
                     HTTP_IDEMPOTENCY_KEY="k-3")
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"


@pytest.mark.django_db
def test_rejected_request_is_not_stored_so_a_corrected_retry_runs(api):
    bad = api.post("/api/v1/customers/", {"external_id": "C-43"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="k-4").exists()
    good = api.post("/api/v1/customers/", {"external_id": "C-43", "name": "Fixed"}, format="json",
                    HTTP_IDEMPOTENCY_KEY="k-4")
    assert good.status_code == 201
    assert "Idempotent-Replayed" not in good.headers


@pytest.mark.django_db
def test_replay_window_is_24_hours(api):
    with time_machine.travel(dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC), tick=False):
        first = api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    with time_machine.travel(dt.datetime(2026, 3, 2, 7, 59, tzinfo=dt.UTC), tick=False):
        assert api.post("/api/v1/customers/", CUSTOMER, format="json",
                        HTTP_IDEMPOTENCY_KEY="k-5").headers.get("Idempotent-Replayed") == "true"
    with time_machine.travel(dt.datetime(2026, 3, 2, 8, 1, tzinfo=dt.UTC), tick=False):
        late = api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-5")
    # Past the window the key is new again: the request runs (and meets the duplicate external id).
    assert first.status_code == 201
    assert late.status_code == 409
    assert error_of(late)["code"] == "duplicate"


@pytest.mark.django_db
def test_keys_are_per_organization(api, other_api):
    assert api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="shared").status_code == 201
    other = other_api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    assert other.status_code == 201
    assert "Idempotent-Replayed" not in other.headers
    assert other.json()["id"] != api.get("/api/v1/customers/by-external-id/C-42/").json()["id"]


@pytest.mark.django_db
def test_invalid_idempotency_key_is_400(api):
    response = api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="has space")
    assert response.status_code == 400
    assert error_of(response)["fields"]["Idempotency-Key"][0]["message"].startswith("An Idempotency-Key is 1 to 255")


def _hold_row_lock(model, pk, acquired: threading.Event, release: threading.Event):
    """In its own connection: lock one row until told to release (a slow request's stand-in)."""
    try:
        with transaction.atomic():
            model.objects.select_for_update().get(pk=pk)
            acquired.set()
            release.wait(30)
    finally:
        connection.close()


def _in_thread(results: dict, name: str, fn):
    def run():
        try:
            results[name] = fn()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _wait_for(predicate, timeout=20.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached")
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_one_runs_the_other_gets_409(organization):
    client_a, client_b = key_client(organization), key_client(organization)
    client_b.credentials(HTTP_AUTHORIZATION=f"Bearer {client_a.token}")
    head, _created = AuditChainHead.objects.get_or_create(organization=organization)
    acquired, release = threading.Event(), threading.Event()
    locker = threading.Thread(target=_hold_row_lock, args=(AuditChainHead, head.pk, acquired, release))
    locker.start()
    acquired.wait(10)
    results: dict = {}
    # A claims the key, then blocks writing its audit entry behind the lock.
    first = _in_thread(results, "a", lambda: client_a.post("/api/v1/customers/", CUSTOMER, format="json",
                                                           HTTP_IDEMPOTENCY_KEY="race"))
    _wait_for(lambda: IdempotencyRecord.objects.filter(key="race").exists())
    results["b"] = client_b.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="race")
    release.set()
    first.join(30)
    locker.join(30)
    assert results["b"].status_code == 409
    assert error_of(results["b"])["code"] == "idempotency_key_in_use"
    assert results["a"].status_code == 201
    retry = client_b.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="race")
    assert retry.status_code == 201 and retry.json() == results["a"].json()


# --- ETag / If-Match ---------------------------------------------------------------------------

@pytest.mark.django_db
def test_stale_if_match_is_412_and_changes_nothing(api, organization):
    invoice = make_invoice(organization, CustomerFactory(organization=organization))
    etag = api.get(f"/api/v1/invoices/{invoice.pk}/").headers["ETag"]
    changed = api.patch(f"/api/v1/invoices/{invoice.pk}/", {"description": "first"}, format="json",
                        HTTP_IF_MATCH=etag)
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    stale = api.patch(f"/api/v1/invoices/{invoice.pk}/", {"description": "second"}, format="json",
                      HTTP_IF_MATCH=etag)
    assert stale.status_code == 412
    assert error_of(stale)["code"] == "precondition_failed"
    assert Invoice.objects.get(pk=invoice.pk).description == "first"
    fresh = api.patch(f"/api/v1/invoices/{invoice.pk}/", {"description": "second"}, format="json",
                      HTTP_IF_MATCH=changed.headers["ETag"])
    assert fresh.status_code == 200


@pytest.mark.django_db
def test_etag_changes_when_a_payment_changes_the_invoice(api, organization):
    customer = CustomerFactory(organization=organization)
    invoice = make_invoice(organization, customer, amount="100.00")
    before = api.get(f"/api/v1/invoices/{invoice.pk}/").headers["ETag"]
    from tests.factories import make_payment

    make_payment(organization, customer, amount="10.00")
    after = api.get(f"/api/v1/invoices/{invoice.pk}/").headers["ETag"]
    assert before != after
    response = api.patch(f"/api/v1/invoices/{invoice.pk}/", {"due_date": "2026-04-30"}, format="json",
                         HTTP_IF_MATCH=before)
    assert response.status_code == 412


@pytest.mark.django_db(transaction=True)
def test_two_concurrent_patches_with_one_etag_only_one_wins(organization):
    client_a, client_b = key_client(organization), key_client(organization)
    invoice = make_invoice(organization, CustomerFactory(organization=organization))
    etag = client_a.get(f"/api/v1/invoices/{invoice.pk}/").headers["ETag"]
    acquired, release = threading.Event(), threading.Event()
    locker = threading.Thread(target=_hold_row_lock, args=(Invoice, invoice.pk, acquired, release))
    locker.start()
    acquired.wait(10)
    results: dict = {}
    threads = [
        _in_thread(results, name, lambda c=client, d=desc: c.patch(
            f"/api/v1/invoices/{invoice.pk}/", {"description": d}, format="json", HTTP_IF_MATCH=etag))
        for name, client, desc in (("a", client_a, "from A"), ("b", client_b, "from B"))
    ]
    # Both PATCHes queue behind the row lock, each holding the same ETag.
    _wait_for(lambda: _waiting_on_locks() >= 2)
    release.set()
    for thread in [*threads, locker]:
        thread.join(30)
    statuses = sorted(r.status_code for r in results.values())
    assert statuses == [200, 412]
    winner = next(name for name, r in results.items() if r.status_code == 200)
    assert Invoice.objects.get(pk=invoice.pk).description == f"from {winner.upper()}"


def _waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE NOT granted AND locktype IN ('transactionid', 'tuple')")
        return cursor.fetchone()[0]


# --- the key answers only the caller whose request ran -----------------------------------------

@pytest.mark.django_db
def test_a_viewer_replaying_a_collectors_key_gets_422_and_nothing_runs(organization, collector, viewer):
    from rest_framework.test import APIClient

    from receivables.models import Customer
    from tests.factories import PASSWORD

    collector_client, viewer_client = APIClient(), APIClient()
    assert collector_client.login(username=collector.username, password=PASSWORD)
    assert viewer_client.login(username=viewer.username, password=PASSWORD)
    first = collector_client.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-shared")
    assert first.status_code == 201
    replay = viewer_client.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-shared")
    assert replay.status_code == 422
    assert error_of(replay)["code"] == "idempotency_key_mismatch"
    assert "Idempotent-Replayed" not in replay.headers
    assert Customer.objects.filter(external_id="C-42").count() == 1
    # The collector's own retry is still answered from the record.
    again = collector_client.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-shared")
    assert (again.status_code, again.headers["Idempotent-Replayed"]) == (201, "true")


@pytest.mark.django_db
def test_another_api_key_of_the_organization_with_the_same_key_gets_422(api, organization):
    assert api.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-keys").status_code == 201
    writer = key_client(organization)
    response = writer.post("/api/v1/customers/", CUSTOMER, format="json", HTTP_IDEMPOTENCY_KEY="k-keys")
    assert response.status_code == 422
    assert error_of(response)["code"] == "idempotency_key_mismatch"
