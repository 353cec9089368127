"""The weekly aging report as a PDF (WeasyPrint), in English or Simplified Chinese.

Layout: a summary page (header, KPIs, aging chart, top overdue invoices, changes since last
week), then the aging by customer on pages of a fixed row count. WeasyPrint lays out those
pages' frames (caption, column headings) from the template, but their rows are drawn straight
into each page after layout (`aging_rows_draw`), as are the chart's labels, the top-10 rows and
every page's running header and footer (`furniture_draw`): through HTML every
cell costs about 2 ms of cascade, table and line layout and drawing, which held the report
near 2 pages/s. The drawn rows keep the table's look: the column grid is read from the laid-out
headings, text is shaped by Pango and embedded by WeasyPrint like any other text (one font
subset, copyable text in reading order). Amounts are formatted here, once.
"""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass, replace
from decimal import Decimal
from html import escape
from typing import Any

from django.contrib.staticfiles import finders
from django.core.exceptions import ImproperlyConfigured
from django.template.loader import get_template, render_to_string
from django.utils import formats, translation
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

from receivables.selectors import AgingReport, AgingRow
from tenancy.money import ZERO, quantize

from .fonts import report_font_face_css
from .selectors import WeeklyReportData

# Rows of the aging-by-customer table per page (fits A4 landscape at the template's row height).
ROWS_PER_PAGE = 25
BUCKET_COLORS = ["#2e7d5b", "#e3b341", "#e08a2e", "#d0582c", "#a8322d", "#7a1f1f", "#5a1414", "#3d0d0d", "#2a0808"]


def amount(value: Decimal, currency: str) -> str:
    return f"{quantize(value, currency):,}"


def signed_amount(value: Decimal, currency: str) -> str:
    text = amount(value, currency)
    return text if value < 0 else f"+{text}"


def long_date(day: dt.date) -> str:
    return formats.date_format(day, "DATE_FORMAT")


@dataclass(frozen=True)
class Furniture:
    """The running header and footer of every page, in the report's language (drawn by
    FurniturePainter): the organization and the currency at the top of every page but the first,
    the report's name and date and the page number at the bottom."""
    header_left: str
    header_right: str
    footer_left: str
    page_sentence: str  # "Page %(page)s of %(pages)s", translated

    def page_label(self, number: int, count: int) -> str:
        return self.page_sentence % {"page": number, "pages": count}


def furniture(organization_name: str, currency: str, as_of: dt.date) -> Furniture:
    """The texts of the running header and footer, in the active language (one line each: a name
    holding a line break is drawn with a space, as a margin box collapsed it)."""
    organization_name = " ".join(organization_name.split())
    return Furniture(header_left=organization_name, header_right=f"{_('Amounts in')} {currency}",
                     footer_left=f"Inflow · {organization_name} · {_('Weekly aging report')} · {as_of.isoformat()}",
                     page_sentence=_("Page %(page)s of %(pages)s"))


@dataclass(frozen=True)
class Line:
    kind: str  # "row", "subtotal", "total"
    label: str
    cells: list[str]
    total: str
    rank: int | None = None


NAME_CHARS = 34  # what fits the name column; cut here rather than by CSS overflow (slow in WeasyPrint)


def _shorten(name: str) -> str:
    # CJK glyphs are about twice as wide as Latin ones.
    width, cut = 0, 0
    for cut, char in enumerate(name, start=1):
        width += 2 if ord(char) > 0x2E80 else 1
        if width > NAME_CHARS * 1.15:
            return name[:cut - 1] + "…"
    return name


def _sum_rows(rows: list[AgingRow], width: int) -> list[Decimal]:
    return [sum((row.amounts[i] for row in rows), ZERO) for i in range(width)]


def aging_lines(aging: AgingReport) -> list[Line]:
    """Customers sorted by overdue (as the selector returns them), a subtotal after the
    customers with overdue balances and after those only current, then the grand total."""
    width, currency = len(aging.buckets), aging.currency
    overdue = [row for row in aging.rows if row.overdue > 0]
    current = [row for row in aging.rows if row.overdue <= 0]
    lines: list[Line] = []

    def group(rows: list[AgingRow], label: str, start: int) -> None:
        for offset, row in enumerate(rows):
            lines.append(Line("row", _shorten(row.customer_name), [amount(a, currency) if a else "–" for a in row.amounts],
                              amount(row.total, currency), start + offset))
        if rows:
            sums = _sum_rows(rows, width)
            lines.append(Line("subtotal", label % {"count": len(rows)}, [amount(a, currency) for a in sums],
                              amount(sum(sums, ZERO), currency)))

    group(overdue, _("Subtotal: %(count)s customers with overdue balances"), 1)
    group(current, _("Subtotal: %(count)s customers with current balances only"), len(overdue) + 1)
    lines.append(Line("total", _("Total receivables"), [amount(a, currency) for a in aging.totals],
                      amount(aging.total, currency)))
    return lines


def bucket_labels(aging: AgingReport) -> list[str]:
    """Bucket headings in the active language ("Current" is translated when the aging report
    is computed, which may have been under another language)."""
    return [_("Current") if i == 0 else str(bucket.label) for i, bucket in enumerate(aging.buckets)]


def pages_of(lines: list[Line], size: int = ROWS_PER_PAGE) -> list[list[Line]]:
    return [lines[i:i + size] for i in range(0, len(lines), size)] or [[]]


# Geometry of the drawn aging rows, in pt, as the HTML table cells had it (border-collapse):
# 2pt padding around an 11pt line, a 0.4pt rule under each row, 0.75pt above a subtotal and the
# headings' 1pt rule above the first row.
PX_PER_PT = 4 / 3  # WeasyPrint lays out in CSS px
ROW_PADDING = 2.0
ROW_LINE = 11.0
RULE = 0.4
SUBTOTAL_RULE = 0.75
HEADING_RULE = 1.0
ROW_COLORS = {"text": "#1d2b3a", "rank": "#7b8794", "overdue": "#a8322d", "zebra": "#f7f9fb",
              "subtotal": "#eef2f7", "total": "#1f3a5f", "total_text": "#ffffff", "rule": "#e4e7eb",
              "subtotal_rule": "#9aa5b1"}


def aging_rules(lines: list[Line]) -> list[float]:
    """Widths (pt) of the horizontal rules: above the first row, between rows, under the last."""
    return [HEADING_RULE] + [SUBTOTAL_RULE if line.kind == "subtotal" else RULE for line in lines[1:]] + [RULE]


@dataclass(frozen=True)
class AgingPage:
    lines: list[Line]

    @property
    def height(self) -> str:
        """Room (pt) the rows take below the headings, reserved in the HTML for the drawing."""
        return rows_height(len(self.lines), ROW_LINE, ROW_PADDING, aging_rules(self.lines))


def rows_height(count: int, line: float, padding: float, rules: list[float]) -> str:
    """Height (pt) of `count` drawn rows below the centre of the headings' rule: each row's padding
    and line, the rules between and under them, half the headings' rule."""
    return f"{count * (line + 2 * padding) + sum(rules) - rules[0] / 2:.2f}"


# The top-10 overdue invoices are drawn too (TopRowPainter): 2.6pt padding around a 12.15pt line
# (9pt at the body's 1.35), a 0.4pt rule under each row, the headings' 1pt rule above the first.
TOP_PADDING = 2.6
TOP_LINE = 12.15


@dataclass(frozen=True)
class TopRow:
    number: str
    customer: str
    due_date: str
    days: str
    balance: str
    currency: str
    balance_base: str


# Widths (mm) of the top-10 columns other than the customer's: at least the headings' room, and enough
# for the longest value drawn (9pt text: 1.9 mm per character is wider than any digit or capital
# but W and M) plus the cell's 8pt of padding.
TOP_MIN_WIDTHS = {"number": 25, "due": 21, "days": 24, "balance": 33, "base": 29}
TOP_MM_PER_CHAR = 1.9
TOP_PADDING_MM = 2.9


def top_columns(rows: list[TopRow]) -> dict[str, str]:
    """Column widths (mm, as CSS lengths) sized so no invoice number or amount is cut or overlaps."""
    longest = {"number": max((len(row.number) for row in rows), default=0),
               "due": 10, "days": max((len(row.days) for row in rows), default=0),
               "balance": max((len(row.balance) + 1 + len(row.currency) for row in rows), default=0),
               "base": max((len(row.balance_base) for row in rows), default=0)}
    return {name: f"{max(TOP_MIN_WIDTHS[name], chars * TOP_MM_PER_CHAR + TOP_PADDING_MM):.1f}mm"
            for name, chars in longest.items()}


def top_rules(rows: list[TopRow]) -> list[float]:
    return [HEADING_RULE] + [RULE] * len(rows)


def top_rows(data: WeeklyReportData) -> list[TopRow]:
    currency = data.currency
    return [TopRow(item.number, item.customer_name, item.due_date.isoformat(), str(item.days_overdue),
                   amount(item.balance, item.currency), item.currency, amount(item.balance_base, currency))
            for item in data.top_overdue]


# The aging chart, in its own units: the SVG's viewBox, scaled to the width of the page's content.
CHART_WIDTH, CHART_HEIGHT = 640, 210


@dataclass(frozen=True)
class ChartLabel:
    """A label of the aging chart, drawn by ChartLabelPainter (chart units)."""
    x: float  # centre
    y: float  # baseline
    size: float
    bold: bool
    color: str
    text: str


@dataclass(frozen=True)
class AgingChart:
    svg: SafeString  # bars and axis
    labels: list[ChartLabel]  # amounts, shares, bucket names: drawn over the SVG after layout


def aging_chart(aging: AgingReport) -> AgingChart:
    """A bar per bucket with its amount and share of the total. The bars are inline SVG; the labels
    are drawn after layout (ChartLabelPainter): WeasyPrint lays SVG text out one Pango layout per
    letter, which made the chart's 15-20 labels 11% of a report's instructions (callgrind)."""
    width, height, top, bottom, left = CHART_WIDTH, CHART_HEIGHT, 28, 40, 8
    count = len(aging.buckets)
    slot = (width - 2 * left) / count
    bar = slot * 0.62
    totals = aging.totals
    peak = max(totals, default=ZERO) or Decimal(1)
    plot = height - top - bottom
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" width="100%" '
             f'role="img" aria-label="{escape(_("Aging by bucket"))}">',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - left}" y2="{height - bottom}" '
             'stroke="#9aa5b1" stroke-width="1"/>']
    labels = []
    for i, (label, value) in enumerate(zip(bucket_labels(aging), totals, strict=True)):
        h = float(value / peak) * plot if value > 0 else 0.0
        x = left + i * slot + (slot - bar) / 2
        y = height - bottom - h
        color = BUCKET_COLORS[min(i, len(BUCKET_COLORS) - 1)]
        share = (value / aging.total * 100).quantize(Decimal("0.1")) if aging.total else ZERO
        cx = x + bar / 2
        parts.append(f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar:.1f}" height="{max(h, 0.5):.1f}" rx="2" fill="{color}"/>')
        labels += [ChartLabel(cx, y - 13, 11, True, "#1d2b3a", amount(value, aging.currency)),
                   ChartLabel(cx, y - 2, 9.5, False, "#52606d", f"{share}%"),
                   ChartLabel(cx, height - bottom + 16, 11, False, "#1d2b3a", label)]
        if i:
            labels.append(ChartLabel(cx, height - bottom + 30, 9, False, "#7b8794", _("days")))
    parts.append("</svg>")
    return AgingChart(mark_safe("".join(parts)), labels)  # noqa: S308 - only numbers and an escaped label


def kpis(data: WeeklyReportData) -> list[dict[str, str]]:
    """The headline figures; "customers over limit" only when the organization has set credit limits."""
    currency = data.currency
    dso_value = f"{data.dso.standard}" if data.dso.standard is not None else "—"
    dso_change = data.dso_change
    items = [
        {"label": _("Total receivables"), "value": amount(data.aging.total, currency), "unit": currency,
         "note": _("%(change)s vs last week") % {"change": signed_amount(data.total_change, currency)}},
        {"label": _("Overdue"), "value": amount(data.aging.overdue, currency), "unit": currency,
         "note": _("%(ratio)s%% of receivables") % {"ratio": data.aging.overdue_ratio}, "alert": "1"},
        {"label": _("DSO"), "value": dso_value, "unit": _("days"),
         "note": (_("%(change)s days vs last week") % {"change": f"{dso_change:+}"}) if dso_change is not None
         else _("no comparison for last week")},
        {"label": _("Collected this week"), "value": amount(data.changes.collected.amount, currency), "unit": currency,
         "note": _("%(count)s payments") % {"count": data.changes.collected.count}},
    ]
    if data.customers_over_limit is not None:
        items.append({"label": _("Customers over limit"), "value": str(data.customers_over_limit), "unit": "",
                      "note": _("exposure above credit limit")})
    return items


def weekly_report_context(data: WeeklyReportData, *, generated_at: dt.datetime | None = None) -> dict:
    """Template context, in the active language."""
    currency = data.currency
    changes = data.changes
    lines = aging_lines(data.aging)
    top = top_rows(data)
    return {
        "organization": data.organization,
        "furniture": furniture(data.organization.name, currency, data.as_of),
        "as_of": data.as_of,
        "as_of_long": long_date(data.as_of),
        "since_long": long_date(changes.since),
        "currency": currency,
        "generated_at": generated_at,
        "kpis": kpis(data),
        "chart": aging_chart(data.aging),
        "bucket_labels": bucket_labels(data.aging),
        "customer_count": len(data.aging.rows),
        "aging_pages": [AgingPage(page) for page in pages_of(lines)],
        "top_overdue": top,
        "top_height": rows_height(len(top), TOP_LINE, TOP_PADDING, top_rules(top)),
        "top_columns": top_columns(top),
        "changes": [
            {"label": _("Newly overdue (still open)"), "count": changes.new_overdue.count,
             "amount": amount(changes.new_overdue.amount, currency)},
            {"label": _("Collected"), "count": changes.collected.count,
             "amount": amount(changes.collected.amount, currency)},
            {"label": _("Invoiced"), "count": changes.invoiced.count,
             "amount": amount(changes.invoiced.amount, currency)},
        ],
        "total_change": signed_amount(data.total_change, currency),
        "overdue_change": signed_amount(data.overdue_change, currency),
        "sections": data.sections,  # higher apps' sections (reporting/sections.py), after the summary
        "fx_warnings": [gap.message for gap in data.fx_gaps],  # missing rates: figures left out, named
    }


@dataclass(frozen=True)
class AgingFrame:
    """Where a page's aging rows go, read from its laid-out boxes (CSS px)."""
    lines: list[Line]
    top: float  # centre of the headings' rule
    left: float
    width: float
    columns: list[tuple[float, float]]  # content left and right of each column
    style: Any  # computed style of the rows' block: font, size, language, numeric variants
    heading: tuple[Any, Any]  # (table box, its page box): the caption and column headings
    borrowed: bool = False  # the headings are another page's, to be drawn here too


def _aging_frame(page_box: Any, pages: list[AgingPage], previous: AgingFrame | None) -> AgingFrame | None:
    """The page's frame; a page without headings of its own borrows the previous page's."""
    holder, table, heading_row = None, None, None
    for box in page_box.descendants():
        tag = getattr(box, "element_tag", None)
        if tag == "div" and box.element.get("class") == "rows":
            holder = box
        elif tag == "table" and table is None:
            table = box
        elif tag == "thead" and heading_row is None:
            heading_row = box.children[0]
    if holder is None:
        return None
    lines = pages[int(holder.element.get("data-page"))].lines
    if heading_row is None:
        return replace(previous, lines=lines, borrowed=True)
    columns = [(cell.content_box_x(), cell.content_box_x() + cell.width) for cell in heading_row.children]
    return AgingFrame(lines=lines, top=heading_row.position_y + heading_row.height, left=heading_row.position_x,
                      width=heading_row.width, columns=columns, style=holder.style, heading=(table, page_box))


class AgingRowPainter:
    """Draws aging rows with two reused Pango layouts (regular, bold): setting a layout up is
    most of what a text box costs, setting its text is cheap."""

    line, padding = ROW_LINE, ROW_PADDING  # pt

    def __init__(self, style: Any):
        from tinycss2.color5 import parse_color
        from weasyprint.draw import draw_stacking_context
        from weasyprint.draw.text import draw_first_line
        from weasyprint.matrix import Matrix
        from weasyprint.stacking import StackingContext
        from weasyprint.svg.text import TextBox  # the minimal text box draw_first_line needs
        from weasyprint.text.ffi import FROM_UNITS, pango
        from weasyprint.text.line_break import Layout, line_size

        bold = style.copy()
        bold["font_weight"] = 700
        self.layouts = {"regular": Layout(style), "bold": Layout(bold)}
        self.colors = {name: parse_color(value) for name, value in ROW_COLORS.items()}
        self._line_size, self._draw_first_line, self._matrix, self._text_box = line_size, draw_first_line, Matrix, TextBox
        self._draw_box = lambda stream, box, page: draw_stacking_context(stream, StackingContext.from_box(box, page))
        layout = self.layouts["regular"]
        layout.set_text("0")
        line, _ = layout.get_first_line()
        _width, height = line_size(line, style)
        # Baseline below the line box's top, as WeasyPrint places it (half-leading + ascent).
        self.baseline = (self.line * PX_PER_PT - height) / 2 + pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS

    def page_draw(self, stream: Any, frame: AgingFrame) -> None:
        """Backgrounds, then rules over them, then text, as WeasyPrint paints a table."""
        if frame.borrowed:
            self._draw_box(stream, *frame.heading)
        rules = [width * PX_PER_PT for width in self.rules(frame.lines)]
        row = (self.line + 2 * self.padding) * PX_PER_PT
        centres = [frame.top]  # centre of each rule, from the headings' one down
        for index in range(len(frame.lines)):
            centres.append(centres[-1] + rules[index] / 2 + row + rules[index + 1] / 2)
        for index, line in enumerate(frame.lines):
            self._background_draw(stream, frame, line, index, centres[index], centres[index + 1])
        kinds = [getattr(line, "kind", None) for line in frame.lines[1:]] + [None]
        for index, next_kind in enumerate(kinds):
            self._rule_draw(stream, frame, centres[index + 1], rules[index + 1], next_kind)
        for index, line in enumerate(frame.lines):
            top = centres[index] + rules[index] / 2 + self.padding * PX_PER_PT
            self._cells_draw(stream, frame, line, top + self.baseline)

    def rules(self, lines: list[Line]) -> list[float]:
        return aging_rules(lines)

    def _background_draw(self, stream: Any, frame: AgingFrame, line: Line, index: int, top: float,
                         bottom: float) -> None:
        # Zebra counts every line of the page, as the template's loop counter did.
        color = {"subtotal": "subtotal", "total": "total"}.get(line.kind, "zebra" if index % 2 else None)
        if color:
            self._rectangle_fill(stream, self.colors[color], frame.left, top, frame.width, bottom - top)

    def _rule_draw(self, stream: Any, frame: AgingFrame, centre: float, width: float, next_kind: str | None) -> None:
        color = self.colors["subtotal_rule" if next_kind == "subtotal" else "rule"]
        self._rectangle_fill(stream, color, frame.left, centre - width / 2, frame.width, width)

    def _rectangle_fill(self, stream: Any, color: Any, x: float, y: float, width: float, height: float) -> None:
        stream.set_color(color)
        stream.rectangle(x, y, width, height)
        stream.fill()

    def _cells_draw(self, stream: Any, frame: AgingFrame, line: Line, baseline: float) -> None:
        columns = frame.columns
        amounts = [*line.cells, line.total]
        if line.kind == "row":
            weight, text_color = "regular", self.colors["text"]
            self._text_draw(stream, str(line.rank), "regular", self.colors["rank"], columns[0][1], baseline, right=True)
            self._text_draw(stream, line.label, "regular", text_color, columns[1][0], baseline)
        else:
            weight = "bold"
            text_color = self.colors["total_text" if line.kind == "total" else "text"]
            self._text_draw(stream, line.label, weight, text_color, columns[0][0], baseline)
        for position, (cell, (_left, right)) in enumerate(zip(amounts, columns[2:], strict=True)):
            overdue = line.kind == "row" and 0 < position < len(line.cells) and cell != "–"
            self._text_draw(stream, cell, weight, self.colors["overdue"] if overdue else text_color, right, baseline,
                            right=True)

    def _text_width(self, text: str, weight: str) -> float:
        layout = self.layouts[weight]
        layout.set_text(text)
        line, _ = layout.get_first_line()
        return self._line_size(line, layout.style)[0]

    def _text_fit(self, text: str, weight: str, width: float) -> str:
        """`text`, cut with an ellipsis where it would pass `width` (CSS px)."""
        if self._text_width(text, weight) <= width:
            return text
        low, high = 0, len(text)  # longest prefix that fits with the ellipsis
        while low < high:
            middle = (low + high + 1) // 2
            if self._text_width(text[:middle].rstrip() + "…", weight) <= width:
                low = middle
            else:
                high = middle - 1
        return text[:low].rstrip() + "…"

    def _text_draw(self, stream: Any, text: str, weight: str, color: Any, x: float, baseline: float, *,
                   right: bool = False) -> None:
        layout = self.layouts[weight]
        layout.set_text(text)
        if right:
            line, _ = layout.get_first_line()
            x -= self._line_size(line, layout.style)[0]
        stream.set_color(color)
        stream.begin_text()
        self._draw_first_line(stream, self._text_box(layout, layout.style), "none", "none",
                              self._matrix(d=-1, e=x, f=baseline))
        stream.end_text()


class TopRowPainter(AgingRowPainter):
    """Draws the top-10 overdue invoices under their laid-out headings, as the HTML rows looked:
    zebra rows, a light rule under each, amounts right-aligned with the currency code muted, and
    the invoice number and customer cut with an ellipsis to their column."""

    line, padding = TOP_LINE, TOP_PADDING

    def rules(self, lines: list[TopRow]) -> list[float]:
        return top_rules(lines)

    def _background_draw(self, stream: Any, frame: AgingFrame, line: TopRow, index: int, top: float,
                         bottom: float) -> None:
        if index % 2:
            self._rectangle_fill(stream, self.colors["zebra"], frame.left, top, frame.width, bottom - top)

    def _rule_draw(self, stream: Any, frame: AgingFrame, centre: float, width: float, next_kind: str | None) -> None:
        self._rectangle_fill(stream, self.colors["rule"], frame.left, centre - width / 2, frame.width, width)

    def _cells_draw(self, stream: Any, frame: AgingFrame, line: TopRow, baseline: float) -> None:
        number, customer, due, days, balance, base = frame.columns
        text, muted = self.colors["text"], self.colors["rank"]
        # The invoice number is never cut (its column is sized to the longest, top_columns); the name may be.
        self._text_draw(stream, line.number, "regular", text, number[0], baseline)
        self._text_draw(stream, self._text_fit(line.customer, "regular", customer[1] - customer[0]), "regular", text,
                        customer[0], baseline)
        self._text_draw(stream, line.due_date, "regular", text, due[0], baseline)
        self._text_draw(stream, line.days, "regular", text, days[1], baseline, right=True)
        code_left = balance[1] - self._text_width(line.currency, "regular")
        self._text_draw(stream, line.balance, "regular", text, code_left - self._text_width(" ", "regular"), baseline,
                        right=True)
        self._text_draw(stream, line.currency, "regular", muted, code_left, baseline)
        self._text_draw(stream, line.balance_base, "regular", text, base[1], baseline, right=True)


def _top_frame(page_box: Any, rows: list[TopRow]) -> AgingFrame | None:
    """Where the top-10 rows go on the summary page: under the headings of `table.top`."""
    holder, heading_row = None, None
    for box in page_box.descendants():
        tag = getattr(box, "element_tag", None)
        if tag == "table" and box.element.get("class") == "top" and heading_row is None:
            heading_row = next(child for child in box.descendants() if getattr(child, "element_tag", None) == "tr")
        elif tag == "div" and box.element.get("class") == "top-rows":
            holder = box
    if holder is None or heading_row is None:
        return None
    columns = [(cell.content_box_x(), cell.content_box_x() + cell.width) for cell in heading_row.children]
    return AgingFrame(lines=rows, top=heading_row.position_y + heading_row.height, left=heading_row.position_x,
                      width=heading_row.width, columns=columns, style=holder.style, heading=(None, page_box))


@dataclass(frozen=True)
class ChartFrame:
    """Where the aging chart's labels go: the laid-out SVG's top left corner and scale (CSS px)."""
    left: float
    top: float
    scale: float  # CSS px per chart unit
    labels: list[ChartLabel]
    style: Any  # computed style of the chart's block: font family and language of the report's text


def _chart_frame(page_box: Any, chart: AgingChart) -> ChartFrame | None:
    holder = next((box for box in page_box.descendants()
                   if getattr(box, "element_tag", None) == "div" and box.element.get("class") == "chart"), None)
    if holder is None:
        return None
    svg = next((box for box in holder.descendants() if getattr(box, "element_tag", "").endswith("}svg")), None)
    if svg is None:
        return None
    return ChartFrame(left=svg.content_box_x(), top=svg.content_box_y(), scale=svg.width / CHART_WIDTH,
                      labels=chart.labels, style=holder.style)


class ChartLabelPainter:
    """Draws the chart's labels centred on their bars, each one shaped line from a Pango layout per
    size and weight, reused (the report's font stack and language, as its other text)."""

    def __init__(self, style: Any):
        from tinycss2.color5 import parse_color
        from weasyprint.draw.text import draw_first_line
        from weasyprint.matrix import Matrix
        from weasyprint.svg.text import TextBox
        from weasyprint.text.line_break import Layout, line_size

        self.style, self.layouts, self.colors = style, {}, {}
        self._parse_color, self._layout_class, self._line_size = parse_color, Layout, line_size
        self._draw_first_line, self._matrix, self._text_box = draw_first_line, Matrix, TextBox

    def _layout(self, size: float, bold: bool) -> Any:
        key = (size, bold)
        if key not in self.layouts:
            style = self.style.copy()
            style["font_size"], style["font_weight"] = size, 700 if bold else 400
            self.layouts[key] = self._layout_class(style)
        return self.layouts[key]

    def page_draw(self, stream: Any, frame: ChartFrame) -> None:
        for label in frame.labels:
            layout = self._layout(round(label.size * frame.scale, 4), label.bold)
            layout.set_text(label.text)
            line, _ = layout.get_first_line()
            width = self._line_size(line, layout.style)[0]
            color = self.colors.get(label.color) or self.colors.setdefault(label.color, self._parse_color(label.color))
            stream.set_color(color)
            stream.begin_text()
            self._draw_first_line(stream, self._text_box(layout, layout.style), "none", "none",
                                  self._matrix(d=-1, e=frame.left + label.x * frame.scale - width / 2,
                                               f=frame.top + label.y * frame.scale))
            stream.end_text()


# The running header and footer are centred in the page's top and bottom margins (the template's
# @page rule: 18mm, 14mm at the sides), between the left and right ones; 8pt header, 7.5pt footer.
PAGE_MARGIN_SIDE = 14 * 72 / 25.4  # pt, for the tests
HEADER_SIZE, FOOTER_SIZE = 8.0, 7.5
FURNITURE_LINE = 1.35  # the body's line height
FURNITURE_GAP = 12.0  # pt between the left text and the right one; a long left text is cut with "…"
FURNITURE_COLORS = {"muted": "#7b8794", "page": "#52606d"}


@dataclass(frozen=True)
class FurnitureFrame:
    width: float  # the page's, CSS px
    height: float
    margins: tuple[float, float, float, float]  # top, right, bottom, left: the page box's, CSS px
    number: int
    count: int
    furniture: Furniture


class FurniturePainter(AgingRowPainter):
    """Draws the running header and footer of a page where CSS margin boxes would put them: text
    centred vertically in the top and bottom margins (line height 1.35, as the body's), the left
    one at the left margin, the right one ending at the right margin. WeasyPrint lays every margin
    box of every page out like a small page of its own (5% of a report's instructions for four)."""

    def __init__(self, style: Any):
        from tinycss2.color5 import parse_color
        from weasyprint.draw.text import draw_first_line
        from weasyprint.matrix import Matrix
        from weasyprint.svg.text import TextBox
        from weasyprint.text.ffi import FROM_UNITS, pango
        from weasyprint.text.line_break import Layout, line_size

        self.layouts, self.baselines = {}, {}
        for name, size in (("header", HEADER_SIZE), ("footer", FOOTER_SIZE)):
            sized = style.copy()
            sized["font_size"], sized["font_weight"] = size * PX_PER_PT, 400
            layout = self.layouts[name] = Layout(sized)
            layout.set_text("0")
            line, _ = layout.get_first_line()
            _width, height = line_size(line, sized)
            # Below the top of a line box of the body's line height: half-leading and ascent, as WeasyPrint
            # places a line's baseline; the line box is centred in its margin (page_draw).
            line_height = size * FURNITURE_LINE * PX_PER_PT
            self.baselines[name] = ((line_height - height) / 2
                                    + pango.pango_layout_get_baseline(layout.layout) * FROM_UNITS, line_height)
        self.colors = {name: parse_color(value) for name, value in FURNITURE_COLORS.items()}
        self._line_size, self._draw_first_line, self._matrix, self._text_box = line_size, draw_first_line, Matrix, TextBox

    def page_draw(self, stream: Any, frame: FurnitureFrame) -> None:
        top, right_margin, bottom, left_margin = frame.margins
        left, right = left_margin, frame.width - right_margin
        gap = FURNITURE_GAP * PX_PER_PT
        text = frame.furniture
        if frame.number > 1:
            offset, line = self.baselines["header"]
            self._pair_draw(stream, "header", text.header_left, text.header_right, self.colors["muted"], left, right,
                            gap, (top - line) / 2 + offset)
        offset, line = self.baselines["footer"]
        self._pair_draw(stream, "footer", text.footer_left, text.page_label(frame.number, frame.count),
                        self.colors["page"], left, right, gap, frame.height - bottom + (bottom - line) / 2 + offset)

    def _pair_draw(self, stream: Any, kind: str, left_text: str, right_text: str, right_color: Any, left: float,
                   right: float, gap: float, baseline: float) -> None:
        right_width = self._text_width(right_text, kind)
        self._text_draw(stream, self._text_fit(left_text, kind, right - left - right_width - gap), kind,
                        self.colors["muted"], left, baseline)
        self._text_draw(stream, right_text, kind, right_color, right, baseline, right=True)


def furniture_draw(document: Any, text: Furniture) -> None:
    """Have every page of the rendered `document` draw its running header and footer."""
    painter = None
    count = len(document.pages)
    for number, page in enumerate(document.pages, start=1):
        painter = painter or FurniturePainter(page._page_box.children[0].style)  # the root element's
        box = page._page_box
        frame = FurnitureFrame(page.width, page.height,
                               (box.margin_top, box.margin_right, box.margin_bottom, box.margin_left), number, count, text)
        page.paint = _paint_with_rows(page.paint, painter, frame)


def aging_rows_draw(document: Any, pages: list[AgingPage], top: list[TopRow] | None = None,
                    chart: AgingChart | None = None) -> None:
    """Have each page of the rendered `document` draw its drawn parts after its laid-out content:
    the aging pages their aging rows, the summary page the chart's labels and the top-10 overdue
    invoices."""
    painter, frame, top_painter = None, None, None
    for page in document.pages:
        if chart is not None and (chart_frame := _chart_frame(page._page_box, chart)) is not None:
            page.paint = _paint_with_rows(page.paint, ChartLabelPainter(chart_frame.style), chart_frame)
            chart = None
        if top and (top_frame := _top_frame(page._page_box, top)) is not None:  # the summary page
            top_painter = top_painter or TopRowPainter(top_frame.style)
            page.paint = _paint_with_rows(page.paint, top_painter, top_frame)
            continue
        frame = _aging_frame(page._page_box, pages, frame)  # the laid-out boxes: no public API for them
        if frame is None:
            continue
        painter = painter or AgingRowPainter(frame.style)
        page.paint = _paint_with_rows(page.paint, painter, frame)


def _paint_with_rows(paint: Any, painter: Any, frame: Any) -> Any:
    def paint_page(stream: Any, scale: float = 1) -> None:
        paint(stream, scale)
        with stream.stacked():
            stream.transform(a=scale, d=scale)
            painter.page_draw(stream, frame)
    return paint_page


STYLESHEET = "css/weekly_report_pdf.css"  # static, used by this PDF only; the template keeps the @page rules
_renderers = threading.local()


@dataclass(frozen=True)
class PdfRenderer:
    """What every render of a thread reuses: WeasyPrint's font configuration and the parsed
    stylesheets (the report's font faces, fonts.py, then the static stylesheet)."""
    font_config: Any
    stylesheets: list[Any]


def pdf_renderer() -> PdfRenderer:
    """This thread's renderer, made on first use. Given no font configuration, WeasyPrint makes
    one per render: fontconfig loads its configuration again and Pango reopens every font (time,
    and memory that is only given back later). One per thread, since Pango's font map is not
    thread-safe. Nothing in it depends on the language: the stylesheet has no @font-face rule
    and WeasyPrint's caches on the configuration are keyed by `lang`."""
    renderer = getattr(_renderers, "renderer", None)
    if renderer is None:
        from weasyprint import CSS
        from weasyprint.text.fonts import FontConfiguration

        path = finders.find(STYLESHEET)
        if path is None:
            raise ImproperlyConfigured(f"static file {STYLESHEET} of the weekly report PDF not found")
        font_config = FontConfiguration()
        stylesheets = [CSS(filename=path, font_config=font_config)]
        if faces := report_font_face_css():
            stylesheets.insert(0, CSS(string=faces, font_config=font_config))
        renderer = PdfRenderer(font_config, stylesheets)
        _renderers.renderer = renderer
    return renderer


TEMPLATE = "receivables/reporting/weekly_report_pdf.html"


def pdf_renderer_warm_up() -> None:
    """Pay a process's one-time costs of a report ahead of the first one: WeasyPrint's import
    (its libraries loaded through cffi), cffi parsing the C types WeasyPrint uses, the template
    engine, the template and the catalogs. The Celery worker does it at start, before it forks
    its children (tasks.py). The tiny render uses a throwaway font configuration: no Pango
    object is kept to cross the fork, each thread makes its own (`pdf_renderer`)."""
    from django.conf import settings
    from weasyprint import HTML
    from weasyprint.text.fonts import FontConfiguration

    get_template(TEMPLATE)
    report_font_face_css()  # made (once per machine) and read here, not by each child
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            _("Page %(page)s of %(pages)s")
    html = '<p lang="zh-hans" style="font-family: \'Noto Sans CJK SC\'">Inflow 账龄 <b>1</b></p>'
    HTML(string=html).write_pdf(font_config=FontConfiguration())


def pdf_renderer_prepare() -> PdfRenderer:
    """Make this thread's renderer and load what a first report would: a sample of the report's own
    template (header, KPIs, tables; both languages) rendered with it, so the fonts at every size and
    weight the stylesheet uses are in its font map. A Celery worker's child calls this once it is
    forked (tasks.py), so its first report costs what every later one does. Kept: this is after the
    fork, in the thread that will render."""
    from weasyprint import HTML

    renderer = pdf_renderer()
    row = TopRow("INV-1", "上海样例 Sample Ltd", "2026-01-01", "9", "1,234.56", "CNY", "1,234.56")
    for language in ("zh-hans", "en"):
        with translation.override(language):
            context = {
                "language": language, "organization": {"name": "Inflow 样例"},
                "as_of_long": "2026-01-01", "since_long": "2025-12-25", "currency": "CNY",
                "kpis": [{"label": "应收 AR", "value": "1,234", "unit": "CNY", "note": "+1.0%", "alert": True}],
                "top_overdue": [row, row], "top_height": "40", "top_columns": top_columns([row]),
                "changes": [{"label": "Collected 回款", "count": 1, "amount": "1.00"}],
                "total_change": "+1.00", "overdue_change": "-1.00", "customer_count": 2,
                "bucket_labels": ["0", "1-30"],
                "aging_pages": [AgingPage([Line("row", "上海样例 Sample Ltd", ["1,234.56", "–"], "1,234.56", 1),
                                           Line("total", "合计 Total", ["1,234.56", "0.00"], "1,234.56")])],
                "chart": AgingChart(mark_safe(f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {CHART_WIDTH} '  # noqa: S308
                                              f'{CHART_HEIGHT}" width="100%"></svg>'),
                                    [ChartLabel(100, 100, size, bold, "#1d2b3a", "1,234.56 天")
                                     for size, bold in ((11, True), (9.5, False), (11, False), (9, False))]),
                "furniture": furniture("Inflow 样例", "CNY", dt.date(2026, 1, 1)),
            }
            html = render_to_string(TEMPLATE, context)
        document = HTML(string=html, base_url=None).render(font_config=renderer.font_config,
                                                           stylesheets=renderer.stylesheets)
        aging_rows_draw(document, context["aging_pages"], context["top_overdue"], context["chart"])
        furniture_draw(document, context["furniture"])
        document.write_pdf()
    return renderer


@dataclass(frozen=True)
class RenderedPdf:
    content: bytes
    pages: int


def weekly_report_pdf(data: WeeklyReportData, language: str, *, generated_at: dt.datetime | None = None) -> RenderedPdf:
    """Render the report to PDF bytes in `language` ("en" or "zh-hans")."""
    from weasyprint import HTML  # heavy import: only where a PDF is made

    with translation.override(language):
        context = weekly_report_context(data, generated_at=generated_at)
        context["language"] = language
        html = render_to_string(TEMPLATE, context)
    renderer = pdf_renderer()
    document = HTML(string=html, base_url=None).render(font_config=renderer.font_config,
                                                       stylesheets=renderer.stylesheets)
    aging_rows_draw(document, context["aging_pages"], context["top_overdue"], context["chart"])
    furniture_draw(document, context["furniture"])
    pages = len(document.pages)
    content = document.write_pdf()
    return RenderedPdf(content, pages)
