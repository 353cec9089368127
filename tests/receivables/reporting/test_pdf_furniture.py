"""The running header and footer, drawn after layout (pdf.FurniturePainter) where the CSS margin
boxes had them: the organization and the currency at the top of every page but the first, the
report's name and date and "Page n of N" at the bottom of every page, in the report's language,
the right-hand text ending at the right margin, a long organization name cut with an ellipsis
before it reaches the right-hand text."""

import io

import pytest
from pypdf import PdfReader

from receivables.reporting.pdf import PAGE_MARGIN_SIDE, weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data

from .conftest import AS_OF
from .test_pdf_chart import placed_text


def page_runs(content: bytes) -> list[list[tuple[str, float, float]]]:
    """(text, x, y) of every text run, page by page."""
    reader = PdfReader(io.BytesIO(content))
    pages = []
    for page in reader.pages:
        runs = []

        def visit(text, cm, tm, _font, _size, runs=runs):
            if text.strip():
                runs.append((text.strip(), cm[0] * tm[4] + cm[2] * tm[5] + cm[4], cm[1] * tm[4] + cm[3] * tm[5] + cm[5]))

        page.extract_text(visitor_text=visit)
        pages.append(runs)
    return pages


@pytest.mark.parametrize("language, amounts, page_one, page_two", [
    ("en", "Amounts in CNY", "Page 1 of 2", "Page 2 of 2"),
    ("zh-hans", "金额单位 CNY", "第 1 页，共 2 页", "第 2 页，共 2 页"),
])
def test_header_on_later_pages_footer_on_every_page(organization, customer, book, language, amounts, page_one,
                                                     page_two):
    report = weekly_report_pdf(weekly_report_data(organization, AS_OF), language)
    assert report.pages == 2
    first, second = page_runs(report.content)
    footer = "Inflow · Acme Trading · " + ("Weekly aging report" if language == "en" else "账龄周报") + " · 2026-03-02"
    for runs, label in ((first, page_one), (second, page_two)):
        left = next(run for run in runs if run[0] == footer)
        right = next(run for run in runs if run[0] == label)
        assert abs(left[1] - PAGE_MARGIN_SIDE) < 0.01  # at the left margin
        assert abs(left[2] - right[2]) < 0.01 and left[2] < 40  # one baseline, in the bottom margin
    assert not [run for run in first if run[2] > 841.89 - 40]  # nothing in the summary page's top margin
    header = [run for run in second if run[2] > 595.28 - 40]  # landscape page: the top margin
    assert " ".join(run[0] for run in header) == f"Acme Trading {amounts}"  # read as one line, in this order
    assert abs(header[0][1] - PAGE_MARGIN_SIDE) < 0.01


def test_a_long_organization_name_is_cut_before_the_page_number(organization, customer, book):
    organization.name = ("Globex International Holdings Trading and Logistics Company Limited, "
                         "Shanghai Free Trade Zone Branch, Pudong New Area")
    organization.save()
    report = weekly_report_pdf(weekly_report_data(organization, AS_OF), "en")
    runs = placed_text(report.content)
    footer = next(run for run in runs if run[0].startswith("Inflow · Globex"))
    full = f"Inflow · {organization.name} · Weekly aging report · 2026-03-02"
    assert footer[0].endswith("…") and full.startswith(footer[0][:-1]) and len(footer[0]) < len(full)
    page = next(run for run in runs if run[0] == "Page 1 of 2")
    assert footer[1] < page[1]

