"""Charts drawn on the server as SVG, so they show without JavaScript and under a strict CSP (presentation
attributes only, no inline style). A chart is never the only way to read its figures: the page puts the same
figures in a table beside it (`components/chart.html`), and the SVG says so in its accessible name.

    bars(title, [("Category 1", 412), ("Category 2", 30)])            -> one bar per label
    bars(title, rows, series=["2024/25", "2025/26"])                  -> grouped bars, one per series
    line(title, [("3 Nov", 12), ("10 Nov", 9), ("17 Nov", 4)])        -> a trend over runs
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# GOV.UK Frontend's palette: enough contrast against white for bars and lines (WCAG 1.4.11, 3:1).
PALETTE = ["#1d70b8", "#f47738", "#00703c", "#4c2c92", "#d4351c", "#505a5f"]

WIDTH = 640
LEFT = 56  # room for the value axis' labels
RIGHT = 16
TOP = 16
PLOT_HEIGHT = 220
LABEL_ROOM = 56  # room under the plot for category labels


@dataclass(frozen=True)
class Tick:
    y: float
    text: str


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    value: float
    title: str  # a tooltip: "Category 1, 2025/26: 412"


@dataclass(frozen=True)
class Label:
    x: float
    text: str


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    value: float
    title: str


@dataclass
class Chart:
    kind: str  # "bars" or "line"
    title: str
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    plot_left: float
    plot_right: float
    ticks: list[Tick] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    bars: list[Bar] = field(default_factory=list)
    points: list[Point] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, series name)

    @property
    def polyline(self) -> str:
        return " ".join(f"{p.x:.1f},{p.y:.1f}" for p in self.points)


def _nice_step(top: float, ticks: int = 5) -> float:
    """A round step (1, 2 or 5 times a power of ten) so that `ticks` steps cover `top`."""
    raw = max(top, 1) / ticks
    power = 10 ** math.floor(math.log10(raw))
    for multiple in (1, 2, 5, 10):
        if raw <= multiple * power:
            return max(multiple * power, 1)
    return 10 * power


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _frame(kind: str, title: str, top_value: float) -> tuple[Chart, float, float]:
    step = _nice_step(top_value)
    axis_top = step * max(1, math.ceil(top_value / step))
    chart = Chart(
        kind=kind,
        title=title,
        width=WIDTH,
        height=TOP + PLOT_HEIGHT + LABEL_ROOM,
        plot_top=TOP,
        plot_bottom=TOP + PLOT_HEIGHT,
        plot_left=LEFT,
        plot_right=WIDTH - RIGHT,
    )
    value = 0.0
    while value <= axis_top + 1e-9:
        chart.ticks.append(Tick(y=TOP + PLOT_HEIGHT - value / axis_top * PLOT_HEIGHT, text=_number(value)))
        value += step
    return chart, axis_top, step


def bars(
    title: str,
    rows: Sequence[tuple[str, Sequence[float | None] | float | None]],
    *,
    series: Sequence[str] | None = None,
) -> Chart:
    """A bar chart: one bar per row, or with `series` a group of bars per row (each row's values in the
    series' order). A missing value (None) draws no bar."""
    names = list(series) if series else [""]
    values: list[list[float | None]] = []
    for _, row in rows:
        if isinstance(row, (int, float)) or row is None:
            values.append([row])
        else:
            values.append(list(row))
    top_value = max((v for row in values for v in row if v is not None), default=0)
    chart, axis_top, _ = _frame("bars", title, float(top_value))
    slot = (chart.plot_right - chart.plot_left) / max(len(rows), 1)
    bar_width = slot * 0.7 / len(names)
    for index, ((text, _), row_values) in enumerate(zip(rows, values, strict=True)):
        left = chart.plot_left + index * slot + slot * 0.15
        chart.labels.append(Label(x=chart.plot_left + index * slot + slot / 2, text=text))
        for position, (name, value) in enumerate(zip(names, row_values, strict=False)):
            if value is None:
                continue
            height = value / axis_top * PLOT_HEIGHT if axis_top else 0
            caption = f"{text}, {name}: {_number(value)}" if name else f"{text}: {_number(value)}"
            chart.bars.append(
                Bar(
                    x=left + position * bar_width,
                    y=chart.plot_bottom - height,
                    width=bar_width * 0.92,
                    height=height,
                    colour=PALETTE[position % len(PALETTE)],
                    value=value,
                    title=caption,
                )
            )
    if series:
        chart.legend = [(PALETTE[i % len(PALETTE)], name) for i, name in enumerate(names)]
    return chart


def line(title: str, rows: Sequence[tuple[str, float]]) -> Chart:
    """A line through one value per row (a trend over runs or years), a marker at each."""
    top_value = max((value for _, value in rows), default=0)
    chart, axis_top, _ = _frame("line", title, float(top_value))
    count = len(rows)
    span = chart.plot_right - chart.plot_left
    for index, (text, value) in enumerate(rows):
        x = chart.plot_left + (span * (index + 0.5) / count if count else 0)
        y = chart.plot_bottom - (value / axis_top * PLOT_HEIGHT if axis_top else 0)
        chart.points.append(Point(x=x, y=y, value=value, title=f"{text}: {_number(value)}"))
        chart.labels.append(Label(x=x, text=text))
    return chart
