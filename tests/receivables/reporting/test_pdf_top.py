"""The top-10 overdue invoices on the summary page, drawn under their laid-out headings
(pdf.TopRowPainter): every row in reading order, the currency code after each balance, a long
customer name cut with an ellipsis to its column, and the rows where the HTML table had them."""

import datetime as dt
import io

from pypdf import PdfReader

from receivables.reporting.pdf import TOP_LINE, TOP_PADDING, top_rows, weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data
from tests.factories import CustomerFactory, make_invoice

from .conftest import AS_OF


def first_page(content: bytes) -> str:
    return " ".join(PdfReader(io.BytesIO(content)).pages[0].extract_text().split())


def test_rows_read_in_rank_order_with_their_currency(organization, customer, book):
    data = weekly_report_data(organization, AS_OF)
    rows = top_rows(data)
    assert rows, "the book has overdue invoices"
    text = first_page(weekly_report_pdf(data, "en").content)
    assert "INVOICE CUSTOMER DUE DATE DAYS OVERDUE BALANCE BALANCE (CNY)" in text  # headings upper-cased by CSS
    at = text.index("BALANCE (CNY)")
    for row in rows:  # each row's cells in order, the rows in rank order
        cells = f"{row.number} {row.customer} {row.due_date} {row.days} {row.balance} {row.currency} {row.balance_base}"
        found = text.index(cells, at)
        at = found + len(cells)


def test_a_long_customer_name_is_cut_to_its_column_with_an_ellipsis(organization, customer, book):
    long_name = "Globex International Holdings Trading and Logistics Company Limited (Shanghai Branch)"
    make_invoice(organization, CustomerFactory(organization=organization, name=long_name), number="INV-LONG",
                 amount="900000.00", issue_date=dt.date(2025, 12, 1), due_date=dt.date(2026, 1, 1))
    text = first_page(weekly_report_pdf(weekly_report_data(organization, AS_OF), "en").content)
    assert "INV-LONG Globex International" in text
    assert long_name not in text
    cut = text[text.index("INV-LONG ") + len("INV-LONG "):].split("…")[0]
    assert long_name.startswith(cut) and 15 < len(cut) < len(long_name)
    assert "2026-01-01 60 900,000.00 CNY 900,000.00" in text  # the cells after it keep their places


def test_ten_rows_take_the_room_reserved_for_them(organization, customer, book):
    for i in range(12):
        make_invoice(organization, CustomerFactory(organization=organization, name=f"Client {i:02}"),
                     amount=f"{1000 + i}.00", issue_date=dt.date(2025, 12, 1), due_date=dt.date(2026, 1, 1))
    data = weekly_report_data(organization, AS_OF)
    assert len(top_rows(data)) == 10
    pdf = weekly_report_pdf(data, "zh-hans")
    text = first_page(pdf.content)
    assert "逾期金额前 10 的发票" in text and "与上周相比的变化" in text  # the next section follows on the page
    # 10 rows of (line + padding) and their rules: the height the template reserves, in pt
    assert abs(10 * (TOP_LINE + 2 * TOP_PADDING) + 10 * 0.4 + 0.5 - 178.0) < 0.01
