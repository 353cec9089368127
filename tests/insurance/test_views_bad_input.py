"""Bad input on the insurance pages is an answer, never a 500 (review of issue 16, issue 13's rule):
an impossible ?as_of= date falls back to today, a policy id that is not a number is a 404."""

from __future__ import annotations

import pytest
from django.test import Client

from insurance.models import CoverRequest
from tests.factories import PASSWORD


@pytest.fixture
def browser_client(credit_manager):
    client = Client()
    assert client.login(username=credit_manager.username, password=PASSWORD)
    return client


@pytest.mark.parametrize("as_of", ["2026-02-30", "2026-13-01", "0001-01-01", "9999-12-31"])
def test_an_impossible_as_of_date_falls_back_to_today(browser_client, policy, covered_buyer, as_of):
    assert browser_client.get(f"/insurance/deadlines/?as_of={as_of}").status_code == 200
    assert browser_client.get(f"/insurance/customers/{covered_buyer.pk}/?as_of={as_of}").status_code == 200


@pytest.mark.parametrize("policy_id", ["abc", "1.5", "²"])
def test_a_policy_id_that_is_not_a_number_is_a_404_and_writes_nothing(browser_client, policy, covered_buyer,
                                                                      policy_id):
    before = CoverRequest.objects.count()
    response = browser_client.post(f"/insurance/customers/{covered_buyer.pk}/cover/",
                                   {"policy": policy_id, "request_type": "new", "amount": "100.00",
                                    "invoices": ["²"]})
    assert response.status_code == 404
    assert CoverRequest.objects.count() == before
