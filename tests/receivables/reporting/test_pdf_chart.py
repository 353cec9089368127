"""The aging chart on the summary page: bars and axis as SVG, labels drawn after layout
(pdf.ChartLabelPainter), since WeasyPrint lays SVG text out one letter at a time. Every bucket's
amount, share and name are on the page as text, in the report's language, centred on their bar:
the amount above the share above the axis, the names on one baseline, left to right."""

import io
import itertools
import subprocess
from decimal import Decimal

import pytest
from django.utils import translation
from pypdf import PdfReader

from receivables.reporting.pdf import BUCKET_COLORS, CHART_WIDTH, aging_chart, amount, bucket_labels, weekly_report_pdf
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


def test_labels_sit_centred_over_their_bars_on_the_rendered_page(organization, customer, book, tmp_path):
    """Read off the page's pixels (pdftoppm), not the code's arithmetic: each bar is found by its fill
    colour, then the ink just above it (amount and share) and under the axis (bucket name)."""
    from PIL import Image, ImageChops

    data = weekly_report_data(organization, AS_OF)
    path = tmp_path / "report.pdf"
    path.write_bytes(weekly_report_pdf(data, "en").content)
    subprocess.run(["pdftoppm", "-r", "144", "-f", "1", "-l", "1", "-png", str(path), str(tmp_path / "page")],  # noqa: S607
                   check=True)
    page = Image.open(next(tmp_path.glob("page*.png"))).convert("RGB")

    def ink(box: tuple[int, int, int, int]) -> tuple[int, int, int, int] | None:
        """Bounding box (page pixels) of the dark text inside `box`."""
        dark = page.crop(box).convert("L").point(lambda value: 255 if value < 160 else 0)
        found = dark.getbbox()
        return found and (found[0] + box[0], found[1] + box[1], found[2] + box[0], found[3] + box[1])

    bars = []
    for colour in BUCKET_COLORS[:len(data.aging.totals)]:
        solid = Image.new("RGB", page.size, colour)
        mask = ImageChops.difference(page, solid).convert("L").point(lambda value: 255 if value < 6 else 0)
        bars.append(mask.getbbox())
    assert all(bars), bars  # every bucket has an amount in this book: every bar is drawn
    axis = max(bar[3] for bar in bars)
    slot = bars[1][0] - bars[0][0]
    for left, top, right, _bottom in bars:
        centre, half = (left + right) / 2, slot / 2
        above = ink((int(centre - half), max(top - 45, 0), int(centre + half), top - 1))
        below = ink((int(centre - half), axis + 2, int(centre + half), axis + 30))
        assert above and below
        for text in (above, below):
            assert abs((text[0] + text[2]) / 2 - centre) <= 2.5, (text, centre)  # within 1.25 pt
