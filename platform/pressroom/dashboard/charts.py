"""Bar charts as plain SVG geometry for the templates: no JavaScript, no chart library, and
every bar carries its value in a <title> (and the page repeats the numbers in a table)."""
from __future__ import annotations

from dataclasses import dataclass

WIDTH, HEIGHT = 640, 200
TOP, BOTTOM, LEFT = 12, 24, 8  # room for the top value and the labels under the bars


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # under the bar (may be empty: labels are thinned out when crowded)
    title: str  # the bar's tooltip and accessible name


@dataclass
class BarChart:
    bars: list[Bar]
    peak: str  # the value of the tallest bar, printed at the top of the axis
    width: int = WIDTH
    height: int = HEIGHT
    baseline: float = HEIGHT - BOTTOM


def _amount(value: float) -> str:
    return f"{value:,.1f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"


def bar_chart(points: list[tuple[str, str, float]], unit: str) -> BarChart:
    """Vertical bars for (label, full name, value) points, scaled to the largest value."""
    peak = max((value for _, _, value in points), default=0) or 1
    slot = (WIDTH - LEFT) / max(len(points), 1)
    every = max(1, round(len(points) / 16))  # at most ~16 labels under the bars
    plot = HEIGHT - TOP - BOTTOM
    bars = []
    for index, (label, name, value) in enumerate(points):
        height = plot * value / peak
        bars.append(Bar(x=LEFT + index * slot + slot * 0.15, y=TOP + plot - height, width=slot * 0.7, height=height,
                        label=label if index % every == 0 else "", title=f"{name}: {_amount(value)} {unit}"))
    return BarChart(bars=bars, peak=f"{_amount(peak if points else 0)} {unit}")


ROW, LABEL_WIDTH = 26, 230


@dataclass
class Row:
    y: float
    width: float
    label: str
    value: str
    title: str


@dataclass
class RowChart:
    rows: list[Row]
    width: int = WIDTH
    height: int = 0
    bar_x: int = LABEL_WIDTH
    bar_height: int = ROW - 8


def row_chart(points: list[tuple[str, float]], unit: str) -> RowChart:
    """Horizontal bars, one per (label, value), for long labels such as use case keys."""
    peak = max((value for _, value in points), default=0) or 1
    room = WIDTH - LABEL_WIDTH - 90  # leaves space for the value after the bar
    rows = [Row(y=index * ROW + 4, width=max(room * value / peak, 1 if value else 0), label=label,
                value=_amount(value), title=f"{label}: {_amount(value)} {unit}")
            for index, (label, value) in enumerate(points)]
    return RowChart(rows=rows, height=max(len(rows), 1) * ROW + 4)


METRIC_UNITS = {"model_seconds": "model-seconds", "jobs": "jobs", "tokens": "tokens", "images": "images"}


def usage_charts(report, metric: str) -> dict:
    """The Usage page's two charts for one metric of a UsageReport: per day and per use case."""
    unit = METRIC_UNITS[metric]
    return {
        "per_day": bar_chart([(str(day.day), day.isoformat(), totals[metric]) for day, totals, _ in report.days], unit),
        "per_use_case": row_chart([(key, totals[metric]) for key, totals in report.use_cases], unit),
    }


def limit_rows(report) -> list[dict]:
    """One row per metric: this period's ledger total beside its daily and monthly limits."""
    by_key = {(status.metric, status.period): status for status in report.limits}
    return [{"metric": metric, "label": unit, "total": report.totals[metric],
             "day": by_key[(metric, "day")], "month": by_key[(metric, "month")]}
            for metric, unit in METRIC_UNITS.items()]
