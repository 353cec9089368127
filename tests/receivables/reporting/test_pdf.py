"""The weekly PDF and XLSX: what a reader finds in them, in both languages."""

import io
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader

from receivables.reporting.pdf import ROWS_PER_PAGE, weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data
from receivables.reporting.xlsx import weekly_report_xlsx
from receivables.selectors import aging_report
from tests.factories import CustomerFactory, make_invoice

from .conftest import AS_OF


def pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


@pytest.mark.parametrize(("language", "as_of_text"), [("en", "March 2, 2026"), ("zh-hans", "2026年3月2日")])
def test_pdf_shows_chinese_customer_totals_and_as_of_date(organization, customer, book, language, as_of_text):
    # given
    data = weekly_report_data(organization, AS_OF)
    # when
    pdf = weekly_report_pdf(data, language)
    text = pdf_text(pdf.content)
    # then
    assert "上海华东贸易有限公司" in text
    assert as_of_text in text
    assert "142,100.50" in text  # total receivables, as on the dashboard
    assert "137,100.50" in text  # overdue
    assert "120,000.00" in text  # the 90+ bucket
    assert "INV-CN-1" in text  # top overdue invoice
    assert pdf.pages == len(PdfReader(io.BytesIO(pdf.content)).pages)


def test_pdf_totals_tie_to_the_aging_report(organization, customer, book):
    aging = aging_report(organization, AS_OF)
    assert aging.total == Decimal("142100.50")
    text = pdf_text(weekly_report_pdf(weekly_report_data(organization, AS_OF), "en").content)
    for bucket_total in aging.totals:
        assert f"{bucket_total:,}" in text


def test_every_page_has_a_page_number_and_footer(organization, customer, book):
    for i in range(ROWS_PER_PAGE + 5):  # enough customers for a second aging page
        make_invoice(organization, CustomerFactory(organization=organization), amount=f"{100 + i}.00",
                     issue_date=AS_OF.replace(day=1), due_date=AS_OF.replace(day=1))
    pdf = weekly_report_pdf(weekly_report_data(organization, AS_OF), "en")
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages]
    assert len(pages) == 3
    for number, page in enumerate(pages, start=1):
        assert f"Page {number} of 3" in page
        assert "Inflow · Acme Trading" in page


def test_customers_over_limit_is_left_out_while_unknown(organization, customer, book):
    data = weekly_report_data(organization, AS_OF)
    assert data.customers_over_limit is None
    text = " ".join(pdf_text(weekly_report_pdf(data, "en").content).lower().split())  # capitals, wrapped labels
    assert "over limit" not in text


def test_changes_since_last_week(organization, customer, book):
    changes = weekly_report_data(organization, AS_OF).changes
    assert (changes.new_overdue.count, changes.new_overdue.amount) == (1, Decimal("8000.50"))
    assert (changes.collected.count, changes.collected.amount) == (1, Decimal("1000.00"))
    assert changes.invoiced.count == 0


def test_top_overdue_ranks_across_currencies_in_base_currency(organization, customer, book):
    top = weekly_report_data(organization, AS_OF).top_overdue
    assert [item.number for item in top] == ["INV-CN-1", "INV-CN-2", "INV-US-1", "INV-EN-2"]
    assert top[2].balance == Decimal("1000.0000") and top[2].balance_base == Decimal("7100.00")


def test_xlsx_has_the_same_figures(organization, customer, book):
    workbook = openpyxl.load_workbook(io.BytesIO(weekly_report_xlsx(weekly_report_data(organization, AS_OF), "en")))
    aging = workbook["Aging by customer"]
    rows = list(aging.iter_rows(values_only=True))
    assert rows[0][0] == "Customer"
    assert rows[1][0] == "上海华东贸易有限公司"
    assert rows[-1][0] == "Total receivables" and rows[-1][-1] == pytest.approx(142100.50)


def test_ten_digit_changes_stay_inside_their_cells(organization, customer, book):
    """The changes table keeps content-sized columns: a week's invoiced and net change of over a
    billion is laid out inside its cell, not past the table's right edge."""
    from django.template.loader import render_to_string
    from django.utils import translation
    from weasyprint import HTML

    from receivables.reporting.pdf import TEMPLATE, pdf_renderer, weekly_report_context

    make_invoice(organization, customer, amount="1234567890.12", issue_date=AS_OF, due_date=AS_OF,
                 number="INV-BILLION")
    data = weekly_report_data(organization, AS_OF)
    with translation.override("en"):
        context = weekly_report_context(data)
        context["language"] = "en"
        html = render_to_string(TEMPLATE, context)
    renderer = pdf_renderer()
    document = HTML(string=html).render(font_config=renderer.font_config, stylesheets=renderer.stylesheets)
    cells = [box for box in document.pages[0]._page_box.descendants()
             if getattr(box, "element_tag", None) == "td" and "num" in (box.element.get("class") or "")]
    texts = [(cell, text) for cell in cells for text in cell.descendants() if type(text).__name__ == "TextBox"]
    assert any("1,234,567,890.12" in text.text for _cell, text in texts)  # the invoiced amount
    for cell, text in texts:
        assert text.position_x + text.width <= cell.content_box_x() + cell.width + 0.5, text.text
