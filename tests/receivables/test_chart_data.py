"""Issue 14 item 5: the figures the dashboard embeds for its charts (json_script) are the report's
figures to the cent, and the DSO trend's last point is the headline DSO."""

import datetime as dt
import json
import re
from decimal import Decimal as D  # noqa: N817 - figures read like the issue

import pytest
import time_machine

from receivables import selectors, services
from tenancy.models import UserProfile
from tests.factories import CustomerFactory, make_invoice, make_payment

AS_OF = dt.date(2026, 6, 18)
NOW = dt.datetime(2026, 6, 18, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


def embedded(page: str, script_id: str):
    match = re.search(rf'<script id="{script_id}" type="application/json">(.*?)</script>', page, re.S)
    assert match, f"no json_script {script_id}"
    return json.loads(match.group(1))


@pytest.fixture
def mixed_ledger(organization, customer):
    """Six months of CNY and USD sales with a void, a credit note and its reversal, part payments."""
    dollars = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2025, 12, 1),
                         rate=D("7.1085"))
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 4, 10),
                         rate=D("7.2033"))
    for month in range(1, 7):
        make_invoice(organization, customer, amount=f"{1000 + 137 * month}.33", issue_date=dt.date(2026, month, 3))
        make_invoice(organization, dollars, amount=f"{200 + 41 * month}.07", issue_date=dt.date(2026, month, 11),
                     currency="USD")
    voided = make_invoice(organization, customer, amount="5000.00", issue_date=dt.date(2026, 3, 20))
    services.invoice_void(organization=organization, invoice=voided, actor=None, voided_on=dt.date(2026, 5, 2),
                          reason="Issued twice")
    credit = services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                         issued_on=dt.date(2026, 4, 20), amount=D("333.33"))
    services.credit_note_reverse(organization=organization, actor=None, credit_note=credit,
                                 reversed_on=dt.date(2026, 6, 2), reason="Raised in error")
    make_payment(organization, customer, amount="2500.00", received_on=dt.date(2026, 3, 15))
    make_payment(organization, customer, amount="1800.55", received_on=dt.date(2026, 5, 28))
    return organization


def test_each_trend_point_is_the_headline_dso_of_its_month_end(mixed_ledger):
    report = selectors.dso_report(mixed_ledger, AS_OF)

    assert report.trend[-1].period_end == AS_OF
    assert report.trend[-1].period_standard == report.standard is not None
    assert report.trend[-1].countback == report.countback
    for point in report.trend[-7:]:
        on_that_day = selectors.dso_report(mixed_ledger, point.period_end)
        assert (point.period_standard, point.countback) == (on_that_day.standard, on_that_day.countback), point


def test_dashboard_embeds_the_dso_trend_ending_on_the_headline(client, viewer, mixed_ledger):
    client.force_login(viewer)
    page = client.get("/", {"as_of": AS_OF.isoformat()}).content.decode()

    chart = embedded(page, "dso-chart-data")
    report = selectors.dso_report(mixed_ledger, AS_OF)
    assert chart["dates"] == [p.period_end.isoformat() for p in report.trend]
    assert chart["standard"] == [None if p.period_standard is None else str(p.period_standard) for p in report.trend]
    assert chart["countback"][-1] == str(report.countback)
    assert chart["standard"][-1] == str(report.standard)
    headline = re.search(r'data-testid="kpi-dso-standard">([\d.]+) <small>', page).group(1)
    assert chart["standard"][-1] == headline
    assert chart["names"] == {"standard": "Standard", "countback": "Countback"}


def test_dashboard_embeds_the_aging_totals_to_the_cent(client, viewer, mixed_ledger):
    client.force_login(viewer)
    page = client.get("/", {"as_of": AS_OF.isoformat()}).content.decode()

    chart = embedded(page, "aging-chart-data")
    report = selectors.aging_report(mixed_ledger, AS_OF, lenient=True)
    assert chart["keys"] == [b.key for b in report.buckets]
    assert [D(v) for v in chart["values"]] == report.totals
    assert all(re.fullmatch(r"-?\d+\.\d\d", v) for v in chart["values"])  # exact strings, never floats
    assert sum(D(v) for v in chart["values"]) == report.total
    assert chart["labels"][0] == "Current" and chart["labels"][1] == "1-30 days overdue"
    assert chart["short_labels"] == ["Current", "1-30", "31-60", "61-90", "91+"]
    assert chart["currency"] == "CNY"


def test_dashboard_chart_labels_are_translated(client, viewer, mixed_ledger):
    UserProfile.objects.update_or_create(user=viewer, defaults={"language": "zh-hans"})
    client.force_login(viewer)
    page = client.get("/", {"as_of": AS_OF.isoformat()}).content.decode()

    dso = embedded(page, "dso-chart-data")
    aging = embedded(page, "aging-chart-data")
    assert dso["unit"] == "天"
    assert dso["names"] == {"standard": "标准法", "countback": "倒推法"}
    assert not re.search(r"[A-Za-z]{3,}", " ".join(dso["names"].values())), dso["names"]
    assert not re.search(r"overdue|Current|Amount", " ".join(aging["labels"] + [aging["series"]])), aging


def test_the_page_loads_the_vendored_library_and_no_inline_script(client, viewer, mixed_ledger):
    client.force_login(viewer)
    page = client.get("/", {"as_of": AS_OF.isoformat()}).content.decode()

    assert '<script src="/static/vendor/echarts-6.1.0/echarts.min.js" defer></script>' in page
    assert '<script src="/static/js/charts.js" defer></script>' in page
    # every <script> either loads one of our files or is a json_script data block
    for tag in re.findall(r"<script[^>]*>", page):
        assert 'src="/static/' in tag or 'type="application/json"' in tag, tag


def test_the_dso_api_gives_the_charts_series_ending_on_the_headline(mixed_ledger):
    from tests.api.conftest import key_client

    body = key_client(mixed_ledger).get("/api/v1/reports/dso/", {"as_of": AS_OF.isoformat()}).json()

    report = selectors.dso_report(mixed_ledger, AS_OF)
    assert [p["period_standard"] for p in body["trend"]] == [
        None if p.period_standard is None else str(p.period_standard) for p in report.trend]
    assert body["trend"][-1]["period_standard"] == body["standard"] == str(report.standard)
