"""Issue 12, items 10, 11 and 16: DSO counts net sales (no voided invoices, less credit notes), a
missing FX rate never kills a report (named warning with a link to add it), buckets labelled exactly."""

import datetime as dt
from decimal import Decimal as D  # noqa: N817 - figures read like the issue

import pytest
import time_machine
from django.utils import translation

from receivables import selectors, services
from receivables.reporting.selectors import weekly_report_data
from tenancy.models import Role
from tests.factories import CustomerFactory, MembershipFactory, make_invoice

AS_OF = dt.date(2026, 6, 30)
NOW = dt.datetime(2026, 6, 30, 4, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


# --- 10. countback DSO on net sales --------------------------------------------------------------

def test_countback_excludes_voided_invoices_from_sales(organization, customer):
    # June: 10,000 + 20,000 (voided), AR 10,000 -> 10,000 / 10,000 of June's 30 days = 30.0 (not 10.0)
    make_invoice(organization, customer, amount="10000.00", issue_date=dt.date(2026, 6, 1))
    voided = make_invoice(organization, customer, amount="20000.00", issue_date=dt.date(2026, 6, 5))
    services.invoice_void(organization=organization, invoice=voided, actor=None, voided_on=dt.date(2026, 6, 10),
                          reason="Issued twice")

    report = selectors.dso_report(organization, AS_OF)

    assert report.receivables == D("10000.00")
    assert report.countback == D("30.0")
    june = report.trend[-1]
    assert (june.sales, june.countback, june.standard) == (D("10000.00"), D("30.0"), D("30.0"))
    assert report.sales == D("10000.00")
    assert report.standard == D("90.0")  # 10,000 / 10,000 x 90 days


def test_credit_notes_reduce_sales(organization, customer):
    # June: 10,000 + 5,000 invoiced, a 5,000 credit note on the second: sales 10,000, AR 10,000 -> 30.0
    make_invoice(organization, customer, amount="10000.00", issue_date=dt.date(2026, 6, 1))
    second = make_invoice(organization, customer, amount="5000.00", issue_date=dt.date(2026, 6, 2))
    services.credit_note_create(organization=organization, actor=None, customer=customer, number="CN-1",
                                issued_on=dt.date(2026, 6, 20), amount=D("5000.00"), invoice=second)

    report = selectors.dso_report(organization, AS_OF)

    assert report.receivables == D("10000.00")
    assert report.trend[-1].sales == D("10000.00")
    assert report.countback == D("30.0")
    assert report.sales == D("10000.00")


# --- 11. FX gaps ------------------------------------------------------------------------------

@pytest.fixture
def dollar_gap(organization, customer):
    """A USD invoice of 20 April; the first USD rate (7.00) is only stored from 10 May."""
    dollars = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    make_invoice(organization, dollars, amount="1000.00", issue_date=dt.date(2026, 4, 20),
                 due_date=dt.date(2026, 5, 20), currency="USD")
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 5, 10),
                         rate=D("7.00"))
    make_invoice(organization, customer, amount="10000.00", issue_date=dt.date(2026, 6, 1))
    return dollars


def test_dso_with_an_old_fx_gap_shows_what_it_can_and_names_the_gap(organization, dollar_gap):
    report = selectors.dso_report(organization, AS_OF)

    april, may, june = report.trend[-3:]
    assert april.receivables == D("0.00")  # the USD invoice cannot be valued on 30 April: left out
    assert may.receivables == D("7000.00")  # rate of 10 May in force at the month end
    assert may.sales == D("0")
    assert april.sales == D("0")
    assert june.receivables == D("17000.00")
    [gap] = report.fx_gaps
    assert (gap.currency, gap.on) == ("USD", dt.date(2026, 4, 30))
    assert gap.message == ("No USD to CNY exchange rate on or before 2026-04-30: amounts in USD are left out of the "
                           "figures that need it. Add the rate under FX rates.")


def test_month_sales_use_the_last_rate_in_force_during_the_month(organization, customer):
    dollars = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    make_invoice(organization, dollars, amount="1000.00", issue_date=dt.date(2026, 5, 3), currency="USD")
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 5, 10),
                         rate=D("7.00"))

    report = selectors.dso_report(organization, AS_OF)

    may = report.trend[-2]
    assert may.sales == D("7000.00")
    assert report.fx_gaps == []


def test_dashboard_shows_the_trend_and_a_named_warning_with_a_link(client, organization, dollar_gap):
    user = MembershipFactory(organization=organization, role=Role.VIEWER).user
    client.force_login(user)

    page = client.get("/", {"as_of": "2026-06-30"}).content.decode()

    assert "No USD to CNY exchange rate on or before 2026-04-30" in page
    assert 'href="/fx-rates/?currency=USD&amp;rate_date=2026-04-30"' in page
    # AR 17,000 over the quarter's sales 10,000 + USD 1,000 at 7.00 on as_of, x 90 days
    assert 'data-testid="kpi-dso-standard">90.0 <small>' in page


def test_weekly_report_preview_is_a_pdf_with_the_warning(client, organization, dollar_gap):
    admin = MembershipFactory(organization=organization, role=Role.ADMIN).user
    client.force_login(admin)
    response = client.get("/reports/weekly/preview/", {"as_of": "2026-06-30", "language": "en"})
    assert response.status_code == 200, response.content[:300]
    assert response["Content-Type"] == "application/pdf"
    with translation.override("en"):
        data = weekly_report_data(organization, AS_OF)
    assert [gap.currency for gap in data.fx_gaps] == ["USD"]


def test_aging_report_for_the_dashboard_leaves_out_what_it_cannot_convert(organization, customer):
    dollars = CustomerFactory(organization=organization, name="Pacific Imports LLC", currency="USD")
    make_invoice(organization, dollars, amount="1000.00", issue_date=dt.date(2026, 4, 20), currency="USD")
    make_invoice(organization, customer, amount="500.00", issue_date=dt.date(2026, 6, 1))

    report = selectors.aging_report(organization, AS_OF, lenient=True)

    assert report.total == D("500.00")
    assert [(g.currency, g.on) for g in report.fx_gaps] == [("USD", AS_OF)]


# --- 16. bucket labels ----------------------------------------------------------------------------

def test_last_bucket_is_labelled_with_the_days_it_holds(organization):
    buckets = selectors.aging_buckets(organization, AS_OF)
    assert [b.label for b in buckets] == ["Current", "1-30", "31-60", "61-90", "91+"]
    last = buckets[-1]
    assert last.due_before == AS_OF - dt.timedelta(days=90)  # due 91 days ago or more


def test_dashboard_labels_the_last_bucket_exactly_in_both_languages(client, organization, customer):
    make_invoice(organization, customer, amount="300.00", issue_date=dt.date(2026, 1, 1),
                 due_date=dt.date(2026, 3, 1))  # 121 days overdue
    client.force_login(MembershipFactory(organization=organization, role=Role.VIEWER).user)
    english = client.get("/", {"as_of": "2026-06-30"}, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "91+ days overdue" in english and "90+" not in english
    client.cookies["django_language"] = "zh-hans"
    with translation.override("en"):  # the request activates Chinese in this thread: put English back after
        chinese = client.get("/", {"as_of": "2026-06-30"}, HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "逾期 91+ 天" in chinese and "90+" not in chinese


def test_weekly_pdf_and_mail_carry_the_named_warning(organization, dollar_gap):
    from receivables.reporting.mail import _section
    from receivables.reporting.pdf import weekly_report_context

    with translation.override("en"):
        data = weekly_report_data(organization, AS_OF)
        context = weekly_report_context(data)
    warning = ("No USD to CNY exchange rate on or before 2026-04-30: amounts in USD are left out of the figures "
               "that need it. Add the rate under FX rates.")
    assert context["fx_warnings"] == [warning]
    assert _section(data, "en")["fx_warnings"] == [warning]
    assert _section(data, "zh-hans")["fx_warnings"][0].startswith("没有")


def test_importer_warns_about_a_currency_without_a_rate(organization, collector):
    import io

    from receivables.importing.mapping import mapping_from_dict
    from receivables.importing.reader import table_read
    from receivables.importing.services import import_run

    CustomerFactory(organization=organization, external_id="C-US", name="Pacific Imports LLC", currency="USD")
    mapping = mapping_from_dict({
        "kind": "invoices", "columns": {"external_id": "Doc", "number": "Doc", "customer_external_id": "Cust",
                                        "issue_date": "Issued", "net_amount": "Net", "currency": "Cur"},
        "date_format": "%Y-%m-%d", "decimal_separator": ".", "default_currency": "CNY"})
    table = table_read(io.BytesIO(b"Doc,Cust,Issued,Net,Cur\nINV-US-1,C-US,2026-06-01,1000.00,USD\n"), "usd.csv")

    result = import_run(organization=organization, actor=collector, kind="invoices", table=table, mapping=mapping)

    assert result.created == 1
    assert result.warnings == ["No USD to CNY exchange rate is stored yet: reports leave the USD amounts out until "
                               "one is added under FX rates."]
    services.fx_rate_set(organization=organization, actor=None, currency="USD", rate_date=dt.date(2026, 6, 1),
                         rate=D("7.00"))
    table = table_read(io.BytesIO(b"Doc,Cust,Issued,Net,Cur\nINV-US-2,C-US,2026-06-02,5.00,USD\n"), "usd.csv")
    again = import_run(organization=organization, actor=collector, kind="invoices", table=table, mapping=mapping)
    assert again.warnings == []
