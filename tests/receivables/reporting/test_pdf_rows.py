"""The aging-by-customer rows, drawn straight into the PDF: every row in reading order, and the
caption and column headings on every page, also on those that reuse another page's."""

import io

from pypdf import PdfReader

from receivables.reporting.pdf import ROWS_PER_PAGE, weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data
from tests.factories import CustomerFactory, make_invoice

from .conftest import AS_OF


def test_rows_read_in_order_with_headings_on_every_page(organization, customer, book):
    for i in range(2 * ROWS_PER_PAGE + 3):  # three aging pages: the third borrows the headings
        make_invoice(organization, CustomerFactory(organization=organization, name=f"Client {i:03}"),
                     amount=f"{100 + i}.00", issue_date=AS_OF.replace(day=1), due_date=AS_OF.replace(day=1))
    pdf = weekly_report_pdf(weekly_report_data(organization, AS_OF), "en")
    pages = [" ".join(page.extract_text().split()) for page in PdfReader(io.BytesIO(pdf.content)).pages]
    assert len(pages) == 4
    for page in pages[1:]:
        assert "Aging by customer" in page
        assert "# CUSTOMER CURRENT 1-30 31-60 61-90 91+ TOTAL" in page  # headings are upper-cased by CSS
    assert "continued" in pages[3]
    assert "1 上海华东贸易有限公司 – 8,000.50 – – 120,000.00 128,000.50 2 Globex Corporation" in pages[1]
    assert "26 Client 030 – 130.00 – – – 130.00 27 Client 029" in pages[2]
    assert ("56 Client 000 – 100.00 – – – 100.00 Subtotal: 56 customers with overdue balances "
            "5,000.00 14,678.50 2,000.00 7,100.00 120,000.00 148,778.50 "
            "Total receivables 5,000.00 14,678.50 2,000.00 7,100.00 120,000.00 148,778.50") in pages[3]
