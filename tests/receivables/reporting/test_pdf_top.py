"""The top-10 overdue invoices on the summary page, drawn under their laid-out headings
(pdf.TopRowPainter): every row with its cells in order (text extraction reads the drawn rows after the
page footer: they are painted last), the currency code after each balance, a long
customer name cut with an ellipsis to its column, and the rows where the HTML table had them."""

import datetime as dt
import io
import re

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
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import HTML

    from receivables.reporting.pdf import TEMPLATE, pdf_renderer, rows_height, top_rules, weekly_report_context

    for i in range(12):
        make_invoice(organization, CustomerFactory(organization=organization, name=f"Client {i:02}"),
                     amount=f"{1000 + i}.00", issue_date=dt.date(2025, 12, 1), due_date=dt.date(2026, 1, 1))
    data = weekly_report_data(organization, AS_OF)
    rows = top_rows(data)
    assert len(rows) == 10
    with translation.override("zh-hans"):
        html = render_to_string(TEMPLATE, {**weekly_report_context(data), "language": "zh-hans"})
    renderer = pdf_renderer()
    document = HTML(string=html).render(font_config=renderer.font_config, stylesheets=renderer.stylesheets)
    boxes = list(document.pages[0]._page_box.descendants())
    holder = next(b for b in boxes if getattr(b, "element_tag", None) == "div"
                  and b.element.get("class") == "top-rows")
    after = next(b for b in boxes if getattr(b, "element_tag", None) == "div" and b.element.get("class") == "two")
    # the block the rows are drawn in is as tall as ten rows and their rules (CSS px = 4/3 pt) ...
    expected = float(rows_height(10, TOP_LINE, TOP_PADDING, top_rules(rows)))
    assert abs(holder.height - expected * 4 / 3) < 0.5
    assert expected > 10 * (TOP_LINE + 2 * TOP_PADDING)
    # ... and the next section starts below it, on the same page
    assert after.position_y >= holder.position_y + holder.height
    text = first_page(weekly_report_pdf(data, "zh-hans").content)
    assert "逾期金额前 10 的发票" in text and "与上周相比的变化" in text


def test_long_invoice_numbers_and_large_amounts_are_never_cut(organization, customer, book):
    long_number, digital = "INV-2026-000123", "24412000000012345678"  # a 20-digit 数电发票 number
    big = CustomerFactory(organization=organization, name="Big Buyer Ltd")
    make_invoice(organization, big, number=long_number, amount="1234567890.00", issue_date=dt.date(2025, 12, 1),
                 due_date=dt.date(2026, 1, 1))
    make_invoice(organization, big, number=digital, amount="999999999.00", issue_date=dt.date(2025, 12, 1),
                 due_date=dt.date(2026, 1, 2))
    text = first_page(weekly_report_pdf(weekly_report_data(organization, AS_OF), "en").content)
    # the columns widen for them (the customer's column gives the room: its name may be cut, they are not)
    assert re.search(rf"{long_number} Big Bu\S* 2026-01-01 60 1,234,567,890\.00 CNY 1,234,567,890\.00", text)
    assert re.search(rf"{digital} Big Bu\S* 2026-01-02 59 999,999,999\.00 CNY 999,999,999\.00", text)
