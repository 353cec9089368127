"""The PostgreSQL backend groups aggregate queries by every selected column: a tenant table's
primary key is (id, organization_id), so PostgreSQL sees no functional dependency on `id` alone."""

from decimal import Decimal

from django.db import connection
from django.db.models import Count, Sum

from receivables.models import Customer
from tests.factories import CustomerFactory, make_invoice


def test_the_backend_is_ours_and_does_not_group_by_the_id_alone():
    assert connection.settings_dict["ENGINE"] == "tenancy.postgresql"
    assert connection.vendor == "postgresql"
    assert connection.features.allows_group_by_selected_pks is False


def test_an_aggregate_over_customers_with_their_columns_selected(organization):
    # given
    north = CustomerFactory(organization=organization, name="North")
    south = CustomerFactory(organization=organization, name="South")
    make_invoice(organization, north, amount="100.00")
    make_invoice(organization, north, amount="50.25")
    make_invoice(organization, south, amount="7.00")

    # when: every column of the customer selected beside the aggregates
    rows = (Customer.objects.filter(organization=organization)
            .annotate(invoices_count=Count("invoices"), invoiced=Sum("invoices__total_amount")).order_by("name"))

    # then
    assert [(c.name, c.invoices_count, c.invoiced) for c in rows] == [
        ("North", 2, Decimal("150.25")), ("South", 1, Decimal("7.00"))]
