"""The ERP quickstart of docs/api.md (linked from the README), run as written: every request between the quickstart markers, in
order, with a write key of a fresh organization. `{id}` and `{etag}` are the previous response's."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from decimal import Decimal
from pathlib import Path

import pytest

from receivables.models import Allocation, Customer, Invoice, Payment
from receivables.services import fx_rate_set
from tests.api.conftest import key_client

README = Path(__file__).resolve().parents[2] / "docs" / "api.md"  # the API manual, linked from the README
BLOCK = re.compile(r"```http\n(.*?)```", re.S)

pytestmark = pytest.mark.django_db


def quickstart_requests() -> list[tuple[str, str, dict[str, str], str]]:
    text = README.read_text(encoding="utf-8")
    section = text.split("<!-- quickstart:start -->", 1)[1].split("<!-- quickstart:end -->", 1)[0]
    requests = []
    for block in BLOCK.findall(section):
        head, _, body = block.partition("\n\n")
        request_line, *header_lines = head.strip().splitlines()
        method, path = request_line.split(" ", 1)
        headers = dict(line.split(": ", 1) for line in header_lines)
        requests.append((method, path.strip(), headers, body.strip()))
    return requests


def test_the_quickstart_has_every_step():
    methods = [(method, path.split("?")[0]) for method, path, _h, _b in quickstart_requests()]
    assert methods == [
        ("POST", "/api/v1/customers/bulk/"), ("POST", "/api/v1/customers/bulk/"), ("POST", "/api/v1/invoices/bulk/"),
        ("POST", "/api/v1/payments/bulk/"), ("GET", "/api/v1/invoices/by-external-id/SAP-90002/"),
        ("PATCH", "/api/v1/invoices/{id}/"), ("GET", "/api/v1/invoices/"), ("GET", "/api/v1/reports/aging/"),
        ("GET", "/api/v1/reports/aging/"), ("GET", "/api/v1/invoices/by-external-id/SAP-90002/"),
        ("POST", "/api/v1/payments/"), ("GET", "/api/v1/reports/realized-fx/"),
        ("GET", "/api/v1/payments/by-external-id/BANK-5001/"), ("POST", "/api/v1/payments/{id}/reverse/"),
        ("GET", "/api/v1/events/")]


def test_the_readme_quickstart_runs_as_written(organization):
    api = key_client(organization)  # Acme: base currency CNY
    fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 1, 1),
                rate=Decimal("7.1"))
    responses = []
    last = None
    for method, path, headers, body in quickstart_requests():
        if "{id}" in path:
            path = path.replace("{id}", str(last.json()["id"]))
        if "{id}" in body:  # an id in the body (an allocation's invoice): the previous response's
            body = body.replace("{id}", str(last.json()["id"]))
        if last is not None:
            headers = {k: v.replace("{etag}", last.headers.get("ETag", "")) for k, v in headers.items()}
        extra = {f"HTTP_{name.upper().replace('-', '_')}": value for name, value in headers.items()}
        if method == "GET":
            response = api.get(path, **extra)
        else:
            response = getattr(api, method.lower())(path, json.loads(body), format="json", **extra)
        assert 200 <= response.status_code < 300, (method, path, response.status_code, response.content[:500])
        responses.append(response)
        last = response

    (customers, replay, invoices, payments, read, patched, sync, aging, aging_csv, usd_invoice, cny_receipt, realized,
     _bank_5001, bounced, events) = responses
    assert customers.json()["created"] == 2 and replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json() == customers.json()
    assert Customer.objects.filter(organization=organization).count() == 2
    assert invoices.json()["created"] == 2 and payments.json()["created"] == 1
    # The payment's own allocation (the bounce at the end adds its reversal row).
    assert Allocation.objects.get(payment=Payment.objects.get(external_id="BANK-5001"),
                                  reverses__isnull=True).invoice.number == "INV-2026-0001"
    assert patched.json()["due_date"] == "2026-04-10" and read.headers["ETag"] != patched.headers["ETag"]
    assert {row["number"] for row in sync.json()["results"]} == {"INV-2026-0001", "INV-2026-0002"}
    # 11,300 - 5,000 paid (CNY) + 2,500 USD x 7.1 = 6,300 + 17,750
    assert aging.json()["currency"] == "CNY" and aging.json()["total"] == "24050.0000"
    rows = list(csv.reader(io.StringIO(aging_csv.content.decode("utf-8-sig"))))
    assert "Northwind Traders" in {cell for row in rows for cell in row}
    assert {event["type"] for event in events.json()["results"]} >= {"invoice.created", "payment.received"}
    # USD 2,500.00 issued at 7.1 (CNY 17,750.00), paid with CNY 18,000.00: a realized gain of CNY 250.00.
    [line] = cny_receipt.json()["allocations"]
    assert line["invoice"] == usd_invoice.json()["id"] and line["payment_currency"] == "CNY"
    assert (line["amount"], line["payment_amount"], line["fx_difference"]) == ("2500.0000", "18000.0000", "250.0000")
    assert Invoice.objects.get(number="INV-2026-0002").status == "paid"
    assert realized.json()["total"] == "250.0000" and realized.json()["periods"][-1]["amount"] == "250.0000"
    # The bounced payment: INV-2026-0001 open again from 2026-03-12 (with a 50.00 fee invoice); before it, unchanged.
    assert bounced.json()["status"] == "reversed" and bounced.json()["reversed_on"] == "2026-03-12"
    assert Invoice.objects.get(number="INV-2026-0001").status == "open"
    assert Invoice.objects.get(pk=bounced.json()["reversal_fee_invoice"]).kind == "charges"
    assert api.get("/api/v1/reports/aging/?as_of=2026-03-11").json()["total"] == "24050.0000"
    assert {event["type"] for event in events.json()["results"]} >= {"payment.reversed", "invoice.reopened"}
    assert Invoice.objects.filter(organization=organization).count() == 3  # the two pushed + the returned-payment fee
