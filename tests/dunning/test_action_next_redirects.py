"""The collection action pages go back to `?next=` only when it is a page of this site: an
off-site, scheme-relative or javascript: target falls back to the page's own default (no open
redirect, no link to it on the form)."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils.html import escape

from dunning.models import CollectionTask, PromiseToPay
from tests.dunning.conftest import travel
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 3, 4)
HOSTILE = ["https://evil.example/", "//evil.example/x", "/\\evil.example", "javascript:alert(1)",
           "http:///evil.example"]


@pytest.fixture
def owing(organization):
    customer = CustomerFactory(organization=organization, name="Huadong Trading", currency="CNY",
                               contact_emails=["ap@huadong.example"])
    invoice = make_invoice(organization, customer, amount="300.00", issue_date=dt.date(2026, 1, 1),
                           due_date=dt.date(2026, 1, 10), number="A-1")
    return customer, invoice


@pytest.mark.parametrize("target", HOSTILE)
def test_an_offsite_next_is_neither_linked_nor_followed(client, collector, owing, target):
    customer, invoice = owing
    client.force_login(collector)
    url = reverse("dunning:customer_promise", kwargs={"customer_pk": customer.pk})
    with travel(TODAY):
        page = client.get(url, {"next": target}).content.decode()
        response = client.post(url, {"invoices": [invoice.pk], "promised_date": "2026-03-20", "amount": "",
                                     "grace_days": "2", "notes": "", "next": target})
    # neither the form's hidden `next` nor its Cancel link carries the target (the language switch
    # links the current path, URL-encoded, which is harmless)
    assert f'value="{escape(target)}"' not in page and f'href="{escape(target)}"' not in page
    assert response.status_code == 302
    assert response["Location"] == reverse("dunning:timeline", kwargs={"customer_pk": customer.pk})
    assert PromiseToPay.objects.count() == 1


@pytest.mark.parametrize("target", HOSTILE)
def test_the_worklist_outcome_never_redirects_offsite(client, collector, owing, target):
    client.force_login(collector)
    with travel(TODAY):
        client.get(reverse("dunning:worklist"))  # makes the customer's call task
        task = CollectionTask.objects.get()
        response = client.post(reverse("dunning:task_log", kwargs={"pk": task.pk}),
                               {"outcome": "no_answer", "notes": "", "next": target})
    assert response.status_code == 302
    assert response["Location"] == reverse("dunning:worklist")
