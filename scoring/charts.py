"""Server-side SVG charts: no script, nothing from a CDN, readable without colour.

Each chart is an `<svg role="img" aria-labelledby=…>` with its own `<title>` and `<desc>`; the
page puts a data table beside every chart for screen readers and for the exact figures. Labels
are passed in already translated; every text is escaped here.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH = 720
HEIGHT = 240
LEFT = 40
RIGHT = 12
TOP = 14
BOTTOM = 36


@dataclass(frozen=True)
class Bar:
    label: str  # the x-axis label (e.g. "2025-03")
    value: float | None  # None: no score that month
    highlight: bool = False  # qualified
    shaded: bool = False  # inside the qualification window
    marker: float | None = None  # the month's highest, drawn as a tick


def _fmt(number: float) -> str:
    return f"{number:.1f}".rstrip("0").rstrip(".")


def _y(value: float, maximum: float) -> float:
    plot = HEIGHT - TOP - BOTTOM
    return TOP + plot - (max(0.0, min(value, maximum)) / maximum) * plot if maximum else TOP + plot


def _axis(maximum: float, steps: int = 4) -> list[str]:
    parts = []
    for index in range(steps + 1):
        value = maximum * index / steps
        y = _y(value, maximum)
        parts.append(
            f'<line class="chart__grid" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart__tick" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">'
            f"{_fmt(value)}</text>"
        )
    return parts


def _x_labels(labels: Sequence[str], centers: Sequence[float], every: int) -> list[str]:
    return [
        f'<text class="chart__tick" x="{x:.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">'
        f"{escape(label)}</text>"
        for index, (label, x) in enumerate(zip(labels, centers, strict=True))
        if index % every == 0 or index == len(labels) - 1
    ]


def _open(chart_id: str, title: str, description: str) -> list[str]:
    chart_id = escape(chart_id)
    return [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" data-chart="{chart_id}" '
        'preserveAspectRatio="xMidYMid meet" xmlns="http://www.w3.org/2000/svg">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(description)}</desc>',
    ]


def bar_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    bars: Sequence[Bar],
    maximum: float,
    line: float | None = None,
    line_label: str = "",
    window_label: str = "",
) -> SafeString:
    """Monthly bars against a fixed maximum, with a threshold line and a shaded window."""
    maximum = maximum or 1.0
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(bars), 1)
    bar_width = slot * 0.7
    parts = _open(chart_id, title, description)
    parts += _axis(maximum)
    shaded = [index for index, bar in enumerate(bars) if bar.shaded]
    if shaded:
        x = LEFT + shaded[0] * slot
        parts.append(
            f'<rect class="chart__window" x="{x:.1f}" y="{TOP}" width="{slot * len(shaded):.1f}" '
            f'height="{HEIGHT - TOP - BOTTOM}"/>'
        )
        if window_label:
            parts.append(
                f'<text class="chart__note" x="{x + 4:.1f}" y="{TOP + 12}">'
                f"{escape(window_label)}</text>"
            )
    centers = []
    for index, bar in enumerate(bars):
        center = LEFT + index * slot + slot / 2
        centers.append(center)
        if bar.value is None:
            continue
        y = _y(bar.value, maximum)
        kind = "chart__bar chart__bar--ok" if bar.highlight else "chart__bar"
        parts.append(
            f'<rect class="{kind}" data-value="{_fmt(bar.value)}" x="{center - bar_width / 2:.1f}" '
            f'y="{y:.1f}" width="{bar_width:.1f}" height="{HEIGHT - BOTTOM - y:.1f}">'
            f"<title>{escape(bar.label)}: {_fmt(bar.value)}</title></rect>"
        )
        if bar.marker is not None and bar.marker > bar.value:
            my = _y(bar.marker, maximum)
            parts.append(
                f'<line class="chart__marker" x1="{center - bar_width / 2:.1f}" '
                f'x2="{center + bar_width / 2:.1f}" y1="{my:.1f}" y2="{my:.1f}"/>'
            )
    if line is not None:
        y = _y(line, maximum)
        parts.append(
            f'<line class="chart__threshold" x1="{LEFT}" x2="{WIDTH - RIGHT}" '
            f'y1="{y:.1f}" y2="{y:.1f}"/>'
            f'<text class="chart__note" x="{WIDTH - RIGHT - 2}" y="{y - 4:.1f}" '
            f'text-anchor="end">{escape(line_label)}</text>'
        )
    parts += _x_labels([bar.label for bar in bars], centers, every=3)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped


def line_chart(
    *,
    chart_id: str,
    title: str,
    description: str,
    labels: Sequence[str],
    values: Sequence[float | None],
    maximum: float,
) -> SafeString:
    """One series over the months (gaps where there is no value), against its maximum."""
    maximum = maximum or 1.0
    plot_width = WIDTH - LEFT - RIGHT
    slot = plot_width / max(len(labels), 1)
    centers = [LEFT + index * slot + slot / 2 for index in range(len(labels))]
    parts = _open(chart_id, title, description)
    parts += _axis(maximum)
    segments: list[list[str]] = [[]]
    points = []
    for x, value in zip(centers, values, strict=True):
        if value is None:
            segments.append([])
            continue
        y = _y(value, maximum)
        segments[-1].append(f"{x:.1f},{y:.1f}")
        points.append(
            f'<circle class="chart__point" cx="{x:.1f}" cy="{y:.1f}" r="3" '
            f'data-value="{_fmt(value)}"/>'
        )
    parts += [
        f'<polyline class="chart__line" points="{" ".join(segment)}"/>'
        for segment in segments
        if len(segment) > 1
    ]
    parts += points
    parts += _x_labels(labels, centers, every=3)
    parts.append("</svg>")
    return mark_safe("".join(parts))  # every text above is escaped
