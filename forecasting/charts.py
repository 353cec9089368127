"""A band chart as inline SVG (no charting library to ship): P10-P90 band, P50 line, baseline dots."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

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


@dataclass
class AccuracyBar:
    horizon: int
    x: float
    model_y: float
    model_h: float
    baseline_y: float
    baseline_h: float


def accuracy_chart(rows) -> list[AccuracyBar]:
    """WAPE per horizon, the model's bar beside the baseline's (rows: HorizonAccuracy with weeks measured)."""
    rows = [row for row in rows if row.wape is not None]
    if not rows:
        return []
    top = max(max(row.wape, row.baseline_wape or 0) for row in rows) or Decimal(1)
    inner_h = HEIGHT - 2 * PAD
    step = (WIDTH - 2 * PAD) / 13
    bars = []
    for row in rows:
        model_h = round(float(row.wape / top) * inner_h, 1)
        baseline_h = round(float((row.baseline_wape or 0) / top) * inner_h, 1)
        x = round(PAD + (row.horizon - 1) * step, 1)
        bars.append(AccuracyBar(row.horizon, x, PAD + inner_h - model_h, model_h, PAD + inner_h - baseline_h,
                                baseline_h))
    return bars
