"""Bulk actions of the invoice and customer lists: download the selection, assign a collector,
send reminders. POST with CSRF, the organization's rows only (another organization's id refuses
the whole selection and changes nothing), the role checked, each change audited."""

import csv
import datetime as dt
import io

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from dunning.models import CustomerDunning, DunningMessage, OneOffReminder
from tenancy.models import AuditEntry
from tests.factories import CustomerFactory, make_invoice

pytestmark = pytest.mark.django_db

TODAY = dt.datetime(2026, 3, 20, 1, 0, tzinfo=dt.UTC)  # 09:00 in Asia/Shanghai


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(TODAY, tick=False):
        yield


@pytest.fixture
def book(organization):
    customers = [CustomerFactory(organization=organization, name=f"Buyer {n}", contact_emails=[f"ap@b{n}.example"])
                 for n in range(3)]
    invoices = [make_invoice(organization, c, amount="500.00", issue_date=dt.date(2026, 1, 1),
                             due_date=dt.date(2026, 2, 1), number=f"INV-{n}") for n, c in enumerate(customers)]
    return {"customers": customers, "invoices": invoices}


@pytest.fixture
def stranger(other_organization):
    customer = CustomerFactory(organization=other_organization, currency="USD", name="Rival buyer")
    return {"customer": customer, "invoice": make_invoice(other_organization, customer, amount="1.00", number="RIVAL-1")}


def signed_in(client, user):
    client.force_login(user)
    return client


def _collector_url():
    return reverse("dunning:customers_assign_collector")


def _collectors():
    return dict(CustomerDunning.objects.values_list("customer_id", "collector_id"))


# --- download the selection ----------------------------------------------------------------

def test_the_selected_invoices_download_as_csv(client, collector, book):
    first, _second, third = book["invoices"]
    response = signed_in(client, collector).post(reverse("invoice_bulk_export"),
                                                 {"ids": [third.pk, first.pk], "export": "csv"})
    assert response["Content-Disposition"] == 'attachment; filename="invoices-acme-2026-03-20.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode().lstrip("\ufeff"))))
    assert sorted(row[0] for row in rows[1:]) == ["INV-0", "INV-2"]


def test_the_selected_customers_download_as_xlsx(client, collector, book):
    import openpyxl

    ids = [c.pk for c in book["customers"][:2]]
    response = signed_in(client, collector).post(reverse("customer_bulk_export"), {"ids": ids, "export": "xlsx"})
    rows = list(openpyxl.load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert sorted(r[0] for r in rows[1:]) == ["Buyer 0", "Buyer 1"]


def test_a_selection_with_another_organizations_row_downloads_nothing(client, collector, book, stranger):
    response = signed_in(client, collector).post(
        reverse("invoice_bulk_export"), {"ids": [book["invoices"][0].pk, stranger["invoice"].pk], "export": "csv"},
        follow=True)
    assert response.redirect_chain[-1][0] == reverse("invoice_list")
    assert "The selection holds rows that do not exist; nothing was done." in response.content.decode()
    assert not response.get("Content-Disposition")


def test_a_selection_that_is_not_numbers_downloads_nothing(client, collector, book):
    response = signed_in(client, collector).post(reverse("invoice_bulk_export"), {"ids": ["1 OR 1=1"], "export": "csv"})
    assert response.status_code == 302 and not response.get("Content-Disposition")


def test_bulk_endpoints_refuse_get_and_a_post_without_csrf(collector, book):
    client = Client(enforce_csrf_checks=True)
    client.force_login(collector)
    assert client.get(reverse("invoice_bulk_export")).status_code == 405
    assert client.get(_collector_url()).status_code == 405
    data = {"ids": [book["customers"][0].pk], "collector": str(collector.pk)}
    assert client.post(_collector_url(), data).status_code == 403
    assert _collectors() == {}


# --- assign a collector ----------------------------------------------------------------------

def test_a_credit_manager_assigns_a_collector_to_the_selected_customers_audited(client, credit_manager, collector,
                                                                               book):
    chosen = book["customers"][:2]
    response = signed_in(client, credit_manager).post(
        _collector_url(), {"ids": [c.pk for c in chosen], "collector": str(collector.pk),
                           "next": reverse("customer_list") + "?search=Buyer"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("customer_list") + "?search=Buyer"
    assert "2 customers assigned to" in response.content.decode()
    assert _collectors() == {chosen[0].pk: collector.pk, chosen[1].pk: collector.pk}
    audited = AuditEntry.objects.filter(action="dunning.customer_set").order_by("sequence")
    assert [entry.after["collector"] for entry in audited] == [collector.pk, collector.pk]
    # and "nobody" takes them off again
    signed_in(client, credit_manager).post(_collector_url(), {"ids": [chosen[0].pk], "collector": "none"})
    assert _collectors()[chosen[0].pk] is None


def test_another_organizations_customer_in_the_selection_changes_nothing(client, credit_manager, collector, book,
                                                                        stranger):
    response = signed_in(client, credit_manager).post(
        _collector_url(), {"ids": [book["customers"][0].pk, stranger["customer"].pk], "collector": str(collector.pk)},
        follow=True)
    assert "The selection holds customers that do not exist; nothing was done." in response.content.decode()
    assert _collectors() == {}
    assert not AuditEntry.objects.filter(action="dunning.customer_set").exists()


def test_a_collector_of_another_organization_is_refused(client, credit_manager, book, other_organization):
    from tests.factories import MembershipFactory

    outsider = MembershipFactory(organization=other_organization, role="collector").user
    response = signed_in(client, credit_manager).post(
        _collector_url(), {"ids": [book["customers"][0].pk], "collector": str(outsider.pk)}, follow=True)
    assert "nothing was done" in response.content.decode()
    assert _collectors() == {}


def test_a_collector_may_not_assign_collectors(client, collector, book):
    response = signed_in(client, collector).post(
        _collector_url(), {"ids": [book["customers"][0].pk], "collector": str(collector.pk)}, follow=True)
    assert response.status_code == 200
    assert _collectors() == {}
    assert "This needs the Credit manager role in Acme Trading." in response.content.decode()


def test_the_customer_list_shows_each_role_the_bulk_actions_it_may_use(client, viewer, collector, credit_manager,
                                                                      book):
    def html(user):
        return signed_in(Client(), user).get(reverse("customer_list")).content.decode()

    assert 'data-testid="bulk-form"' not in html(viewer)
    as_collector = html(collector)
    assert 'data-testid="bulk-send_reminders"' in as_collector
    assert 'data-testid="bulk-assign_collector"' not in as_collector
    as_manager = html(credit_manager)
    assert 'data-testid="bulk-assign_collector"' in as_manager and 'data-testid="bulk-send_reminders"' in as_manager
    assert f'value="{collector.pk}"' in as_manager  # the collectors to choose from


# --- send reminders --------------------------------------------------------------------------

def test_reminders_go_to_the_selected_customers_once_per_form(client, collector, organization, book):
    silent = CustomerFactory(organization=organization, name="No Mail Ltd", contact_emails=[])
    make_invoice(organization, silent, amount="10.00", issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1))
    settled = CustomerFactory(organization=organization, name="Nothing Open Ltd")
    chosen = [*book["customers"][:2], silent, settled]
    data = {"ids": [c.pk for c in chosen], "batch": "0123456789abcdef0123456789abcdef"}
    response = signed_in(client, collector).post(reverse("dunning:customers_send_reminders"), data, follow=True)
    page = response.content.decode()
    assert "Reminders sent to 2 customers." in page
    assert "No reminder to No Mail Ltd" in page and "No reminder to Nothing Open Ltd" in page
    sent = DunningMessage.objects.filter(organization=organization)
    assert sorted(m.customer_id for m in sent) == sorted(c.pk for c in book["customers"][:2])
    assert all("INV-" in m.body_text for m in sent)
    assert AuditEntry.objects.filter(action="dunning.one_off").count() == 2
    # the same form posted again (a double click) sends nothing more
    signed_in(client, collector).post(reverse("dunning:customers_send_reminders"), data)
    assert DunningMessage.objects.filter(organization=organization).count() == 2
    assert OneOffReminder.objects.count() == 2


def test_a_viewer_cannot_send_reminders(client, viewer, book):
    data = {"ids": [book["customers"][0].pk], "batch": "0123456789abcdef0123456789abcdef"}
    response = signed_in(client, viewer).post(reverse("dunning:customers_send_reminders"), data, follow=True)
    assert "This needs the Collector role in Acme Trading." in response.content.decode()
    assert not DunningMessage.objects.exists()


def test_reminders_to_another_organizations_customer_send_nothing(client, collector, book, stranger):
    data = {"ids": [book["customers"][0].pk, stranger["customer"].pk], "batch": "0123456789abcdef0123456789abcdef"}
    signed_in(client, collector).post(reverse("dunning:customers_send_reminders"), data)
    assert not DunningMessage.objects.exists()


def test_reminders_from_the_invoice_list_go_once_to_each_invoices_customer(client, collector, organization, book):
    customer = book["customers"][0]
    extra = make_invoice(organization, customer, amount="70.00", issue_date=dt.date(2026, 1, 5),
                         due_date=dt.date(2026, 2, 5), number="INV-EXTRA")
    data = {"ids": [book["invoices"][0].pk, extra.pk, book["invoices"][1].pk],
            "batch": "fedcba9876543210fedcba9876543210", "next": reverse("invoice_list") + "?overdue=true"}
    response = signed_in(client, collector).post(reverse("dunning:invoices_send_reminders"), data, follow=True)
    assert response.redirect_chain[-1][0] == reverse("invoice_list") + "?overdue=true"
    assert "Reminders sent to 2 customers." in response.content.decode()
    sent = DunningMessage.objects.filter(organization=organization)
    assert sorted(m.customer_id for m in sent) == sorted([customer.pk, book["customers"][1].pk])
    assert "INV-EXTRA" in sent.get(customer=customer).body_text  # one reminder listing both invoices


def test_reminders_for_another_organizations_invoice_send_nothing(client, collector, book, stranger):
    data = {"ids": [book["invoices"][0].pk, stranger["invoice"].pk], "batch": "fedcba9876543210fedcba9876543210"}
    response = signed_in(client, collector).post(reverse("dunning:invoices_send_reminders"), data, follow=True)
    assert "The selection holds invoices that do not exist; nothing was done." in response.content.decode()
    assert not DunningMessage.objects.exists()


def test_the_invoice_list_offers_reminders_to_collectors_only(client, viewer, collector, book):
    assert 'data-testid="bulk-send_reminders"' in signed_in(Client(), collector).get(reverse("invoice_list")).content.decode()
    assert 'data-testid="bulk-form"' not in signed_in(Client(), viewer).get(reverse("invoice_list")).content.decode()
