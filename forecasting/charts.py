"""The forecast's charts. On web pages static/js/charts.js draws them with the vendored ECharts from
the figures `band_chart_data` and `accuracy_chart_data` give (json_script); the inline SVG of
`band_chart` needs no script: the weekly PDF's forecast section draws it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.utils.translation import gettext as _

from tenancy.money import quantize

WIDTH, HEIGHT, PAD = 640, 220, 24


@dataclass
class BandChart:
    width: int
    height: int
    band: str        # polygon points
    median: str      # polyline points
    baseline: list[tuple[float, float]]
    labels: list[tuple[float, str]]
    top: Decimal


def band_chart(weeks) -> BandChart | None:
    """weeks: objects with week_start, p10, p50, p90, baseline."""
    if not weeks:
        return None
    top = max(max(w.p90, w.baseline) for w in weeks) or Decimal(1)
    inner_w, inner_h = WIDTH - 2 * PAD, HEIGHT - 2 * PAD
    step = inner_w / max(len(weeks) - 1, 1)

    def x(i: int) -> float:
        return round(PAD + i * step, 1)

    def y(value: Decimal) -> float:
        return round(PAD + inner_h - float(value / top) * inner_h, 1)

    upper = [f"{x(i)},{y(w.p90)}" for i, w in enumerate(weeks)]
    lower = [f"{x(i)},{y(w.p10)}" for i, w in reversed(list(enumerate(weeks)))]
    return BandChart(WIDTH, HEIGHT, " ".join(upper + lower), " ".join(f"{x(i)},{y(w.p50)}" for i, w in enumerate(weeks)),
                     [(x(i), y(w.baseline)) for i, w in enumerate(weeks)],
                     [(x(i), w.week_start.strftime("%m-%d")) for i, w in enumerate(weeks)], top)


def band_chart_data(weeks, currency: str) -> dict | None:
    """The 13 weeks for the web chart: P10-P90 band, P50 line, baseline (amounts as exact decimal strings)."""
    if not weeks:
        return None
    return {
        "weeks": [w.week_start for w in weeks], "currency": currency,
        "p10": [quantize(w.p10, currency) for w in weeks], "p50": [quantize(w.p50, currency) for w in weeks],
        "p90": [quantize(w.p90, currency) for w in weeks], "baseline": [quantize(w.baseline, currency) for w in weeks],
        "names": {"band": _("P10 to P90"), "p50": _("P50 (expected)"), "baseline": _("Baseline")},
        "week_label": _("Week of"),
    }


def accuracy_chart_data(rows) -> dict | None:
    """WAPE per horizon for the web chart, the model's beside the baseline's (ratios as decimal strings)."""
    rows = [row for row in rows if row.wape is not None]
    if not rows:
        return None
    return {
        "horizons": [row.horizon for row in rows], "wape": [row.wape for row in rows],
        "baseline_wape": [row.baseline_wape for row in rows],
        "names": {"model": _("Model WAPE"), "baseline": _("Baseline WAPE")}, "horizon_label": _("Weeks ahead"),
    }
