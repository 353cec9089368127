"""Each error is shown once, where it belongs, and names fields by their labels (issue 14 item 9)."""

import datetime as dt

import pytest
import time_machine
from django.contrib.messages import get_messages
from django.urls import reverse

from tests.factories import CustomerFactory


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(dt.datetime(2026, 3, 15, 12, 0, tzinfo=dt.UTC), tick=False):
        yield


@pytest.fixture
def member_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_amount_error_is_shown_once_beside_its_field_without_the_field_name(member_client, customer):
    response = member_client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-0", "issue_date": "2026-03-10", "net_amount": "0",
        "tax_amount": "0"})
    page = response.content.decode()
    assert response.context["form"].errors["net_amount"] == ["Must be more than zero."]
    assert page.count("ust be more than zero.") == 1
    assert "net_amount:" not in page and "Net amount: " not in page  # the label is beside it already
    assert list(get_messages(response.wsgi_request)) == []  # and not repeated in the page messages


def test_a_date_error_is_shown_once(member_client, customer):
    response = member_client.post(reverse("invoice_create"), {
        "customer": customer.pk, "number": "INV-1", "issue_date": "2026-03-10", "due_date": "2026-03-01",
        "net_amount": "10.00", "tax_amount": "0"})
    assert response.content.decode().count("The due date cannot be before the issue date.") == 1


def test_a_duplicate_external_id_is_shown_once(member_client, organization, customer):
    CustomerFactory(organization=organization, external_id="ERP-1")
    response = member_client.post(reverse("customer_update", args=[customer.pk]), {
        "name": customer.name, "currency": "CNY", "payment_terms_days": "30", "language": "en",
        "segment": "standard", "status": "active", "external_id": "ERP-1",
        "updated_at": customer.updated_at.isoformat()})
    assert response.content.decode().count("A customer with this external id already exists.") == 1


def test_the_api_keeps_the_key_and_says_the_label(organization, customer):
    from tests.api.conftest import key_client

    response = key_client(organization).post("/api/v1/invoices/", {
        "customer": customer.pk, "number": "INV-2", "issue_date": "2026-03-10", "net_amount": "0",
        "tax_amount": "0"}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert "net_amount" in str(body)  # the field key is unchanged
    assert "net_amount:" not in str(body)  # no message text starts with the raw name


def test_a_credit_form_message_names_fields_by_label(member_client, customer):
    response = member_client.post(reverse("credit:customer_action", args=[customer.pk, "financials"]), {})
    texts = [str(m) for m in get_messages(response.wsgi_request)]
    assert texts and texts[0].startswith("Fiscal year: ")
    assert not any("year:" in text.split("Fiscal year:")[0] for text in texts)


def test_an_error_on_a_hidden_field_is_shown_once_not_lost():
    from django import forms
    from django.template.loader import render_to_string

    class Versioned(forms.Form):
        name = forms.CharField(label="Name")
        version = forms.CharField(widget=forms.HiddenInput)

    form = Versioned(data={"name": "x", "version": "1"})
    form.is_valid()
    form.add_error("version", "Someone changed this meanwhile; here are the current values.")
    html = render_to_string("tenancy/_form.html", {"form": form})
    assert html.count("Someone changed this meanwhile") == 1
