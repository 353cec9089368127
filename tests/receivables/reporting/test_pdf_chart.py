"""The aging chart on the summary page: bars and axis as SVG, labels drawn after layout
(pdf.ChartLabelPainter), since WeasyPrint lays SVG text out one letter at a time. Every bucket's
amount, share and name are on the page as text, in the report's language, centred on their bar:
the amount above the share above the axis, the names on one baseline, left to right."""

import io
import itertools
from decimal import Decimal

import pytest
from django.utils import translation
from pypdf import PdfReader

from receivables.reporting.pdf import CHART_WIDTH, aging_chart, amount, bucket_labels, weekly_report_pdf
from receivables.reporting.selectors import weekly_report_data
from tests.receivables.reporting.test_pdf_renderer import embedded_fonts

from .conftest import AS_OF


def placed_text(content: bytes) -> list[tuple[str, float, float]]:
    """(text, x, y) of every text run on the first page, in PDF points (y up)."""
    runs = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            runs.append((text.strip(), cm[0] * tm[4] + cm[2] * tm[5] + cm[4], cm[1] * tm[4] + cm[3] * tm[5] + cm[5]))

    PdfReader(io.BytesIO(content)).pages[0].extract_text(visitor_text=visit)
    return runs


def test_the_svg_holds_no_text_and_every_label_is_listed(organization, customer, book):
    data = weekly_report_data(organization, AS_OF)
    chart = aging_chart(data.aging)
    assert "<text" not in chart.svg and "<rect" in chart.svg
    texts = [label.text for label in chart.labels]
    for total in data.aging.totals:
        assert amount(total, data.currency) in texts
    assert all(0 < label.x < CHART_WIDTH for label in chart.labels)


@pytest.mark.parametrize("language, days", [("en", "days"), ("zh-hans", "天")])
def test_labels_are_drawn_centred_on_their_bars(organization, customer, book, language, days):
    data = weekly_report_data(organization, AS_OF)
    report = weekly_report_pdf(data, language)
    runs = placed_text(report.content)
    total = data.aging.total
    amounts, shares, names = [], [], []
    for value in data.aging.totals:
        share = f"{(value / total * 100).quantize(Decimal('0.1'))}%"
        amounts.append(next(run for run in runs if run[0] == amount(value, data.currency)))
        shares.append(next(run for run in runs if run[0] == share))
    with translation.override(language):
        labels = bucket_labels(data.aging)
    # the bucket names (the aging table's headings, which hold them too, are on a later page)
    names = [next(run for run in runs if run[0] == label) for label in labels]
    assert len({round(name[2], 1) for name in names}) == 1  # one baseline
    below = [run for run in runs if run[0] == days and names[0][2] - 20 < run[2] < names[0][2]]
    assert len(below) == len(labels) - 1  # "days" under every bucket but the current one
    assert [name[1] for name in names] == sorted(name[1] for name in names)  # left to right
    for amount_run, share_run, name_run in zip(amounts, shares, names, strict=True):
        assert amount_run[2] > share_run[2] > name_run[2]  # amount above share above the axis
        assert amount_run[1] < share_run[1]  # both centred: the longer one starts further left
    slot = names[1][1] - names[0][1]
    assert all(abs((b[1] - a[1]) - slot) < 40 for a, b in itertools.pairwise(names))  # one slot per bucket


def test_the_chart_embeds_only_the_report_faces(organization, customer, book):
    report = weekly_report_pdf(weekly_report_data(organization, AS_OF), "zh-hans")
    assert embedded_fonts(report.content) == {"Inflow-Report-Sans-SC", "Inflow-Report-Sans-SC-Bold"}
