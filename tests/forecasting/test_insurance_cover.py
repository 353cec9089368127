"""The provision net of insurance cover, read through insurance.selectors.insured_cover_by_invoice."""

import datetime as dt
from decimal import Decimal

from forecasting.provisions import provision_matrix
from tests.factories import CustomerFactory, make_invoice
from tests.forecasting.test_provisions import (
    AS_OF,
    HISTORY,
    worked_example,  # noqa: F401 - fixture
)


def test_an_insured_invoice_counts_net_of_cover_in_ecl_net(worked_example):  # noqa: F811
    from insurance import services
    from tests.insurance.conftest import POLICY_TERMS, grant_cover

    # given: a buyer covered 200,000.00 at 90% with 20,000.00 open 41 days past due (31-60: rate 50%)
    policy = services.policy_create(organization=worked_example, actor=None, **POLICY_TERMS)
    buyer = CustomerFactory(organization=worked_example, name="Insured Buyer", currency="CNY", payment_terms_days=30)
    grant_cover(worked_example, policy, buyer)
    make_invoice(worked_example, buyer, amount="20000.00", issue_date=dt.date(2026, 4, 20),
                 due_date=dt.date(2026, 5, 20))

    # when
    provision = provision_matrix(worked_example, as_of=AS_OF, **HISTORY)

    # then: gross 40,000.00 x 50%; net (40,000.00 - 20,000.00 x 90%) x 50%
    bucket = next(b for b in provision.buckets if b.key == "d31_60")
    assert (bucket.balance, bucket.balance_net) == (Decimal("40000.00"), Decimal("22000.00"))
    assert (bucket.ecl, bucket.ecl_net) == (Decimal("20000.00"), Decimal("11000.00"))
    assert provision.ecl_gross == Decimal("63129.62")
    assert provision.ecl_net == Decimal("54129.62")
