"""One line per figure for `make bench`'s summary table (bench/all.py).

Each bench calls `summary_record(...)` for its headline figures; with BENCH_SUMMARY set (bench/all.py
sets it) the figure is appended to that file as a JSON line, else nothing happens. The table shows
figure, floor, ratio, target, whether the target is met (as the bench itself judged it) and the
1-minute load average when the figure was recorded: the machine is shared, so a slow figure beside a
high load says why."""

from __future__ import annotations

import json
import os


def summary_record(*, bench: str, figure: str, value: float, unit: str, floor: float | None = None,
                   target: str = "", met: bool | None = None) -> None:
    """Record one figure; `floor` in the same unit as `value` (the ratio is value / floor)."""
    path = os.environ.get("BENCH_SUMMARY")
    if not path:
        return
    row = {"bench": bench, "figure": figure, "value": value, "unit": unit, "floor": floor,
           "ratio": (value / floor) if floor else None, "target": target, "met": met,
           "load": os.getloadavg()[0]}  # the 1-minute load average when the figure was taken (shared machine)
    with open(path, "a", encoding="utf-8") as out:
        out.write(json.dumps(row) + "\n")


def summary_rows(path: str) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as source:
        return [json.loads(line) for line in source if line.strip()]


def summary_table(rows: list[dict]) -> str:
    """The rows as a Markdown table (bench/README.md keeps the latest one)."""
    lines = ["| bench | figure | value | floor | ratio | target | met | load |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        value = f"{row['value']:,.2f} {row['unit']}".strip()
        floor = f"{row['floor']:,.2f} {row['unit']}".strip() if row.get("floor") else "—"
        ratio = f"{row['ratio']:.2f}x" if row.get("ratio") else "—"
        met = {True: "met", False: "MISSED", None: "—"}[row.get("met")]
        load = f"{row['load']:.2f}" if row.get("load") is not None else "—"
        lines.append(f"| {row['bench']} | {row['figure']} | {value} | {floor} | {ratio} | {row.get('target') or '—'} "
                     f"| {met} | {load} |")
    return "\n".join(lines)
