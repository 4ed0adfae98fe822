"""Geometry for the dashboard's small charts, drawn as inline SVG by the templates (server-side,
no JavaScript, no chart library). Only numbers and our own labels go in here."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional, Sequence

PALETTE = ("#2563eb", "#dc2626", "#059669", "#d97706", "#7c3aed", "#0891b2", "#db2777", "#4b5563")


@dataclass
class Series:
    name: str
    colour: str
    dashed: bool = False
    segments: list[str] = field(default_factory=list)        # polyline "x,y x,y" runs (gaps: no data)
    dots: list[tuple[float, float, str]] = field(default_factory=list)   # x, y, tooltip
    bars: list[tuple[float, float, float, float, str]] = field(default_factory=list)  # x, y, w, h, tooltip


@dataclass
class Chart:
    width: int
    height: int
    left: int
    bottom: int
    top: int
    series: list[Series]
    y_ticks: list[tuple[float, str]]          # y position, label
    x_labels: list[tuple[float, str]]         # x position, label
    empty: bool


def _nice_max(value: float) -> float:
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 15, 30, 60, 120, 240, 480, 720, 1440, 2880, 5760, 10080):
        if value <= step * 4:
            return float(step * 4)
    return float(int(value * 1.1) + 1)


def _frame(labels: Sequence[str], top_value: float, width: int, height: int,
           left: int = 44, bottom: int = 26, top: int = 22) -> tuple[Chart, float, float]:
    count = max(1, len(labels))
    step = (width - left - 8) / count
    chart = Chart(width=width, height=height, left=left, bottom=bottom, top=top, series=[], y_ticks=[], x_labels=[],
                  empty=True)
    plot_height = height - bottom - top
    for i in range(5):
        value = top_value * i / 4
        chart.y_ticks.append((height - bottom - plot_height * i / 4, f"{value:g}"))
    every = max(1, round(count / 7))
    for i, label in enumerate(labels):
        if i % every == 0 or i == count - 1:
            chart.x_labels.append((left + step * (i + 0.5), label))
    return chart, step, plot_height


def line_chart(labels: Sequence[str], series: Sequence[tuple[str, Sequence[Optional[float]], int, bool]],
               width: int = 640, height: int = 220) -> Chart:
    """One line per series over the labels (days); None leaves a gap. Each series is
    (name, values, colour index, dashed): e.g. one colour per channel, p90 dashed."""
    values = [v for _, vs, _, _ in series for v in vs if v is not None]
    top_value = _nice_max(max(values, default=0.0))
    chart, step, plot_height = _frame(labels, top_value, width, height)
    for name, points, colour, dashed in series:
        line = Series(name=name, colour=PALETTE[colour % len(PALETTE)], dashed=dashed)
        run: list[str] = []
        for i, value in enumerate(points):
            if value is None:
                if run:
                    line.segments.append(" ".join(run))
                run = []
                continue
            x = chart.left + step * (i + 0.5)
            y = chart.height - chart.bottom - plot_height * (value / top_value)
            run.append(f"{x:.1f},{y:.1f}")
            line.dots.append((round(x, 1), round(y, 1), f"{name} {labels[i]}: {value:g} min"))
            chart.empty = False
        if run:
            line.segments.append(" ".join(run))
        chart.series.append(line)
    return chart


def stacked_bars(labels: Sequence[str], series: Sequence[tuple[str, Sequence[int]]],
                 width: int = 640, height: int = 220) -> Chart:
    """Bars per label, one stacked block per series (e.g. flagged posts per day by reason)."""
    totals = [sum(vs[i] for _, vs in series) for i in range(len(labels))]
    top_value = _nice_max(float(max(totals, default=0)))
    chart, step, plot_height = _frame(labels, top_value, width, height)
    base = [0] * len(labels)
    for index, (name, counts) in enumerate(series):
        block = Series(name=name, colour=PALETTE[index % len(PALETTE)])
        for i, count in enumerate(counts):
            if not count:
                continue
            h = plot_height * count / top_value
            y = chart.height - chart.bottom - plot_height * (base[i] + count) / top_value
            block.bars.append((round(chart.left + step * i + step * 0.15, 1), round(y, 1), round(step * 0.7, 1),
                               round(h, 1), f"{labels[i]} {name}: {count}"))
            base[i] += count
            chart.empty = False
        chart.series.append(block)
    return chart
