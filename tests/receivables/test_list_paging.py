"""The invoice list's default order (open first, most overdue first) read in two indexed parts, and
the long customer drop-down rendered without a template per option: same rows and markup as before."""

import datetime as dt
import re

import pytest
from django import forms
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from receivables import services
from receivables.models import Customer
from receivables.views.lists import ChainedRows, LongSelect
from tenancy.views import PAGE_SIZE
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db


def test_chained_rows_count_and_slice_across_the_parts(organization):
    for name in ("a1", "a2", "a3", "b1", "b2"):
        CustomerFactory(organization=organization, name=name)
    rows = Customer.objects.filter(organization=organization)
    first, second = rows.filter(name__startswith="a").order_by("name"), rows.filter(name__startswith="b").order_by("name")
    for chained in (ChainedRows(first, second), ChainedRows(first, second, whole=rows)):
        assert chained.count() == len(chained) == 5
        assert [c.name for c in chained[0:2]] == ["a1", "a2"]
        assert [c.name for c in chained[2:4]] == ["a3", "b1"]
        assert [c.name for c in chained[4:25]] == ["b2"]
        assert [c.name for c in chained[0:5]] == ["a1", "a2", "a3", "b1", "b2"]
    with pytest.raises(TypeError):
        ChainedRows(first, second)[0]


def test_the_default_invoice_order_holds_across_pages_without_sorting_every_row(client, admin_user, organization,
                                                                                 customer):
    start = dt.date(2026, 1, 1)
    numbers = [make_invoice(organization, customer, issue_date=start, due_date=start + dt.timedelta(days=n),
                            number=f"OPEN-{n:02d}").number for n in range(PAGE_SIZE + 1)]
    voided = make_invoice(organization, customer, issue_date=start, due_date=start, number="VOID-1")
    services.invoice_void(organization=organization, invoice=voided, actor=None)  # closed, due first: listed last
    client.force_login(admin_user)
    first = client.get(reverse("invoice_list")).context["page"]
    with CaptureQueriesContext(connection) as queries:
        second = client.get(reverse("invoice_list"), {"page": 2}).context["page"]
    assert [i.number for i in first] == numbers[:PAGE_SIZE]
    assert [i.number for i in second] == [numbers[PAGE_SIZE], "VOID-1"]
    assert first.paginator.count == PAGE_SIZE + 2
    invoice_reads = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('SELECT "receivables_invoice"."id"')]
    assert invoice_reads and not any("CASE WHEN" in sql for sql in invoice_reads)


def test_long_select_renders_what_django_select_renders():
    choices = [("", "Any customer"), (1, "A & B <x>"), (2, "C")]

    def html(widget, data):
        class Form(forms.Form):
            customer = forms.TypedChoiceField(choices=choices, required=False, coerce=int, empty_value=None,
                                              widget=widget)
        return re.sub(r"\s+", " ", str(Form(data)["customer"]))

    for data in (None, {"customer": "2"}):
        assert html(LongSelect, data) == html(forms.Select, data)
    assert '<option value="2" selected>C</option>' in html(LongSelect, {"customer": "2"})
    assert "A &amp; B &lt;x&gt;" in html(LongSelect, None)


def test_outstanding_sums_the_open_balance_only(organization):
    from decimal import Decimal

    from receivables.selectors import customer_list
    from tests.factories import make_payment

    paid, partly, voided = (CustomerFactory(organization=organization, name=n, currency="CNY")
                            for n in ("paid", "partly", "voided"))
    make_invoice(organization, paid, amount="100.00")
    make_payment(organization, paid, amount="100.00")
    make_invoice(organization, partly, amount="100.00")
    make_invoice(organization, partly, amount="50.00")
    make_payment(organization, partly, amount="120.00")
    services.invoice_void(organization=organization, invoice=make_invoice(organization, voided, amount="70.00"),
                          actor=None)
    outstanding = dict(customer_list(organization).values_list("name", "outstanding"))
    assert outstanding == {"paid": Decimal("0"), "partly": Decimal("30.00"), "voided": Decimal("0")}
