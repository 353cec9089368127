"""Issue 14 item 5: the credit file's score history is a chart on a dated axis (json_script figures)
with the same scores in a table."""

import datetime as dt
import json
import re
from decimal import Decimal as D  # noqa: N817

from credit import services
from credit.selectors import score_history
from tenancy.models import Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice


def test_score_history_is_embedded_with_its_dates_and_scores(client, organization):
    customer = CustomerFactory(organization=organization, name="Scored Ltd", currency="CNY")
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 1, 5))
    for day in (dt.date(2026, 2, 1), dt.date(2026, 3, 15), dt.date(2026, 5, 2)):
        services.customer_score(organization=organization, customer=customer, actor=None, as_of=day)
    viewer = MembershipFactory(organization=organization, role=Role.VIEWER).user
    client.force_login(viewer)

    page = client.get(f"/credit/customers/{customer.pk}/").content.decode()

    match = re.search(r'<script id="score-chart-data" type="application/json">(.*?)</script>', page, re.S)
    chart = json.loads(match.group(1))
    history = score_history(organization, customer)
    assert len(history) == 3
    assert chart["dates"] == [s.as_of.isoformat() for s in history]
    assert [D(v) for v in chart["scores"]] == [s.score for s in history]
    assert chart["grades"] == [s.grade for s in history]
    assert 'data-testid="score-chart"' in page and 'data-testid="score-history-table"' in page
