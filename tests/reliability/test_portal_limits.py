"""The customer portal's rate limit: valid links have a budget per link, invalid links one per real
client address (behind the configured proxies); so invalid links never starve valid ones and
clients behind one proxy never share a budget. Links dated in the future are refused."""

from __future__ import annotations

import datetime as dt
import time

import pytest
import time_machine
from django.core import signing
from django.core.cache import cache
from django.urls import reverse

from dunning.portal import SALT, portal_token
from tests.factories import CustomerFactory, make_invoice

TODAY = dt.datetime(2026, 3, 4, 2, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def limits(settings):
    cache.clear()
    settings.DUNNING_PORTAL_RATE_PER_MINUTE = 3
    settings.DUNNING_PORTAL_INVALID_PER_MINUTE = 3
    yield
    cache.clear()


@pytest.fixture
def customers(organization):
    made = []
    for name in ("Northwind Traders", "Globex"):
        customer = CustomerFactory(organization=organization, name=name, language="en")
        make_invoice(organization, customer, amount="100.00", issue_date=dt.date(2026, 1, 1),
                     due_date=dt.date(2026, 2, 1))
        made.append(customer)
    return made


def home(organization, customer) -> str:
    return reverse("portal:home", args=[portal_token(organization, customer)])


BAD = reverse("portal:home", args=["not-a-link"])


def test_invalid_links_do_not_starve_a_valid_one_from_the_same_address(client, organization, customers):
    with time_machine.travel(TODAY, tick=False):
        assert [client.get(BAD).status_code for _ in range(5)] == [403, 403, 403, 429, 429]
        assert client.get(home(organization, customers[0])).status_code == 200


def test_a_busy_link_does_not_use_up_another_customers_budget(client, organization, customers):
    with time_machine.travel(TODAY, tick=False):
        assert [client.get(home(organization, customers[0])).status_code for _ in range(4)] == [200, 200, 200, 429]
        assert client.get(home(organization, customers[1])).status_code == 200


def test_clients_behind_the_trusted_proxy_are_counted_apart(client, settings, organization, customers):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.2"}
    with time_machine.travel(TODAY, tick=False):
        codes = [client.get(BAD, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code for _ in range(4)]
        assert codes == [403, 403, 403, 429]
        # another client behind the same proxy: its own budget
        assert client.get(BAD, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy).status_code == 403
        # a client cannot pick its own address: the proxy's entry (the last) is the one counted
        spoofed = client.get(BAD, HTTP_X_FORWARDED_FOR="203.0.113.9, 198.51.100.1", **proxy)
        assert spoofed.status_code == 429


def test_without_a_proxy_x_forwarded_for_is_ignored(client, organization, customers):
    with time_machine.travel(TODAY, tick=False):
        codes = [client.get(BAD, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(4)]
    assert codes == [403, 403, 403, 429]


def test_a_link_dated_in_the_future_is_refused(client, organization, customers):
    customer = customers[0]
    with time_machine.travel(TODAY + dt.timedelta(days=365), tick=False):
        future = portal_token(organization, customer)
    with time_machine.travel(TODAY, tick=False):
        response = client.get(reverse("portal:home", args=[future]))
        assert response.status_code == 403
        assert "This link is not valid" in response.content.decode()
        # a link signed a moment ago (clock skew) still works
        signer = signing.TimestampSigner(salt=SALT)
        signer.timestamp = lambda: signing.b62_encode(int(time.time()) + 60)
        skewed = signer.sign_object({"o": organization.pk, "c": customer.pk})
        assert client.get(reverse("portal:home", args=[skewed])).status_code == 200
