"""A missing exchange rate never breaks insurance's reads (review of issue 16): an insured buyer's
invoice in a currency without any stored rate is simply not counted as covered, and the deadlines,
the weekly section and forecasting's cover lookup still answer instead of raising."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from insurance import selectors
from insurance.reporting import insurance_section
from tests.factories import make_invoice
from tests.insurance.conftest import invoice

AS_OF = dt.date(2026, 3, 15)


def test_an_invoice_in_a_currency_without_rates_is_listed_uncovered(organization, covered_buyer):
    # given: a CNY policy, a covered buyer, one CNY invoice and one USD invoice, and no USD rate at all
    cny = invoice(organization, covered_buyer, "1000.00", issued=dt.date(2026, 2, 1), due=dt.date(2026, 3, 1))
    usd = make_invoice(organization, covered_buyer, amount="500.00", issue_date=dt.date(2026, 2, 1),
                       due_date=dt.date(2026, 3, 1), currency="USD")
    # when: the deadlines are read
    rows = {row.invoice_id: row for row in selectors.insured_deadlines(organization, as_of=AS_OF)}
    # then: the CNY invoice is covered in full, the USD one is listed but not counted as covered
    assert rows[cny.pk].covered_amount == Decimal("1000.00")
    assert rows[usd.pk].covered_amount == Decimal("0")
    assert selectors.insured_cover_by_invoice(organization, as_of=AS_OF) == {cny.pk: (Decimal("1000.00"),
                                                                                     Decimal("0.9"))}
    section = insurance_section(organization, AS_OF, "en")
    assert section["cover_used"] == Decimal("1000.00")
