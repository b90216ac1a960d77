"""Charts as inline SVG: horizontal bars with 95% CI whiskers and reference lines.

Generated here, with no JavaScript and no network, so an HTML report opens anywhere and prints
to PDF as it looks on screen. Every text in a chart (group labels come from data) is escaped.
"""

from __future__ import annotations

import math
from html import escape

from audit.report.model import Chart

COLOURS = {"green": "#2e7d32", "amber": "#e0a100", "red": "#c62828", "grey": "#5c7a99"}
WIDTH = 800
LABEL_WIDTH = 270
VALUE_WIDTH = 150
LABEL_CHARS = 40
ROW = 24
TOP = 46
BOTTOM = 30


def _domain(chart: Chart) -> tuple[float, float]:
    numbers = [x for bar in chart.bars for x in (bar.value, bar.low, bar.high)
               if x is not None and math.isfinite(x)]
    numbers += [value for value, _ in chart.references]
    if chart.unit == "proportion":
        return 0.0, 1.0
    if chart.unit == "difference":
        reach = max([abs(x) for x in numbers] + [0.05])
        reach = math.ceil(reach * 10) / 10
        return -reach, reach
    low, high = min(numbers + [0.0]), max(numbers + [0.0])
    if high == low:
        high = low + 1.0
    pad = (high - low) * 0.05
    return low - (pad if low < 0 else 0), high + pad


def tick_text(value: float, unit: str) -> str:
    """An axis or value label in the chart's unit."""
    if unit == "proportion":
        return f"{100 * value:.0f}%"
    if unit == "difference":
        return f"{100 * value:+.0f} pts"
    return f"{value:.3g}"


def _value_text(value: float | None, low: float | None, high: float | None, unit: str) -> str:
    if value is None:
        return "n/a"
    if unit == "proportion":
        text = f"{100 * value:.1f}%"
        interval = f" [{100 * low:.0f}, {100 * high:.0f}]" if low is not None and \
            high is not None else ""
    elif unit == "difference":
        text = f"{100 * value:+.1f} pts"
        interval = f" [{100 * low:+.0f}, {100 * high:+.0f}]" if low is not None and \
            high is not None else ""
    else:
        text = f"{value:.3g}"
        interval = f" [{low:.3g}, {high:.3g}]" if low is not None and high is not None else ""
    return text + interval


def _short(label: str) -> str:
    return label if len(label) <= LABEL_CHARS else label[:LABEL_CHARS - 1] + "\u2026"


def render_svg(chart: Chart) -> str:
    """The chart as a standalone <svg> element."""
    low, high = _domain(chart)
    plot = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    height = TOP + ROW * len(chart.bars) + BOTTOM

    def x(value: float) -> float:
        clipped = min(max(value, low), high)
        return LABEL_WIDTH + (clipped - low) / (high - low) * plot

    origin = x(0.0 if low <= 0.0 <= high else low)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {height}" '
             f'width="{WIDTH}" height="{height}" role="img" aria-label="{escape(chart.title)}" '
             'font-family="sans-serif" font-size="12">',
             f"<title>{escape(chart.title)}</title>",
             f'<text x="0" y="14" font-weight="bold">{escape(chart.title)}</text>']
    bottom = TOP + ROW * len(chart.bars)
    for index in range(5):
        tick = low + (high - low) * index / 4
        tx = x(tick)
        parts.append(f'<line x1="{tx:.1f}" y1="{TOP - 4}" x2="{tx:.1f}" y2="{bottom}" '
                     'stroke="#ddd"/>')
        parts.append(f'<text x="{tx:.1f}" y="{bottom + 16}" text-anchor="middle" fill="#555">'
                     f"{escape(tick_text(tick, chart.unit))}</text>")
    for row, bar in enumerate(chart.bars):
        y = TOP + ROW * row
        parts.append(f'<text x="{LABEL_WIDTH - 8}" y="{y + 16}" text-anchor="end">'
                     f"{escape(_short(bar.label))}</text>")
        if bar.value is not None and math.isfinite(bar.value):
            start, end = sorted((origin, x(bar.value)))
            parts.append(f'<rect x="{start:.1f}" y="{y + 5}" width="{max(end - start, 1):.1f}" '
                         f'height="{ROW - 10}" fill="{COLOURS[bar.light]}" opacity="0.85"/>')
        if bar.low is not None and bar.high is not None:
            a, b, mid = x(bar.low), x(bar.high), y + ROW / 2
            parts.append(f'<path d="M{a:.1f} {mid}H{b:.1f}M{a:.1f} {mid - 5}V{mid + 5}'
                         f'M{b:.1f} {mid - 5}V{mid + 5}" stroke="#222" stroke-width="1.5" '
                         'fill="none"/>')
        parts.append(f'<text x="{WIDTH - VALUE_WIDTH + 8}" y="{y + 16}" fill="#333">'
                     f"{escape(_value_text(bar.value, bar.low, bar.high, chart.unit))} "
                     f"n={bar.n}</text>")
    for value, label in chart.references:
        rx = x(value)
        parts.append(f'<line x1="{rx:.1f}" y1="{TOP - 10}" x2="{rx:.1f}" y2="{bottom}" '
                     'stroke="#000" stroke-dasharray="4 3"/>')
        parts.append(f'<text x="{rx + 3:.1f}" y="{TOP - 12}" font-size="11" fill="#000">'
                     f"{escape(label)}</text>")
    parts.append("</svg>")
    return "".join(parts)
