"""Charts drawn on the server as SVG: a line (or area) chart of time series, a horizontal bar
chart and a timeline of spans in lanes.

Hand-drawn, so nothing loads from elsewhere and a page or an exported file shows the same
picture offline. Every chart is an ``<svg role="img">`` named by its ``<title>`` and ``<desc>``
(``aria-labelledby``), every label is escaped here, and colours are presentation attributes
(``fill``, ``stroke``) with CSS classes as hooks: no ``style`` attribute, so a strict
Content-Security-Policy holds. :class:`Svg` carries ``__html__``, so Jinja2 inserts it as is.
Callers give titles and labels in the viewer's language; the one word drawn here ("No data
yet") is taken from the catalogue too.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

from .i18n import gettext

# Colour-blind-safe (Okabe-Ito), in the order series and lanes take them.
COLOURS = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#555555")
FONT = 'font-family="system-ui, sans-serif" font-size="12"'
AXIS = "#888888"
GRID = "#dddddd"
MARKED_POINTS = 60  # series this short get a dot per point
CHAR_WIDTH = 7  # px of a 12 px label character, roughly: labels are clipped to fit


class Svg(str):
    """Markup built and escaped by this module."""

    __slots__ = ()

    def __html__(self) -> str:
        return str(self)


@dataclass(frozen=True)
class Series:
    name: str
    points: Sequence[tuple[float, float]]  # (x, y), x ascending


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    shown: str  # the value as written next to the bar ("2 min 5 s")


@dataclass(frozen=True)
class Span:
    lane: str
    start: float
    end: float
    label: str


def _n(value: float) -> str:
    """A coordinate: one decimal, no trailing zero."""
    return f"{value:.1f}".rstrip("0").rstrip(".")


def clip(label: str, chars: int) -> str:
    """``label`` cut to ``chars`` characters with an ellipsis (the full text stays in the
    element's tooltip and in the chart's data)."""
    return label if len(label) <= chars else label[: chars - 1].rstrip() + "…"


def _labelled(label: str, value: str) -> str:
    """A point's or a bar's tooltip, "Paris: 1 min" ("Paris : 1 min" in French), escaped."""
    return escape(gettext("{label}: {value}").format(label=label, value=value))


def _anchor(x: float, x0: float, x1: float) -> str:
    """Labels at the ends of the axis stay inside the chart."""
    if x <= x0:
        return "start"
    return "end" if x >= x1 else "middle"


def nice_step(top: float, ticks: int = 4) -> float:
    """A 1, 2 or 5 times a power of ten step that covers ``top`` in about ``ticks`` steps;
    at least 1 (the charts count people, questions and seconds)."""
    raw = max(top / ticks, 1)
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def _open(chart_id: str, title: str, desc: str, width: int, height: int, css: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart {css}" viewBox="0 0 {width} '
        f'{height}" width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" id="{escape(chart_id)}">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
    ]


def _empty(parts: list[str], width: int, height: int) -> Svg:
    empty = escape(gettext("No data yet"))
    parts.append(
        f'<text x="{width // 2}" y="{height // 2}" text-anchor="middle" fill="{AXIS}" '
        f'{FONT} class="chart-empty">{empty}</text></svg>'
    )
    return Svg("".join(parts))


def line_chart(
    *,
    chart_id: str,
    title: str,
    desc: str,
    series: Sequence[Series],
    x_labels: Sequence[tuple[float, str]],
    area: bool = False,
    width: int = 640,
    height: int = 240,
) -> Svg:
    """Series over a shared x axis (e.g. seconds since the start), y from zero."""
    parts = _open(chart_id, title, desc, width, height, "chart-line")
    points = [p for s in series for p in s.points]
    if not points:
        return _empty(parts, width, height)
    left, right, top, bottom = 44, width - 12, 28, height - 28
    x0, x1 = min(x for x, _ in points), max(x for x, _ in points)
    x1 = x1 if x1 > x0 else x0 + 1
    step = nice_step(max(y for _, y in points))
    y1 = step * max(1, math.ceil(max(y for _, y in points) / step))

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (right - left)

    def sy(y: float) -> float:
        return bottom - y / y1 * (bottom - top)

    tick = 0.0
    while tick <= y1 + 1e-9:
        y = _n(sy(tick))
        parts.append(
            f'<line x1="{left}" x2="{right}" y1="{y}" y2="{y}" stroke="{GRID}" '
            f'class="chart-grid"/><text x="{left - 6}" y="{y}" dy="4" text-anchor="end" '
            f'fill="{AXIS}" {FONT}>{_n(tick)}</text>'
        )
        tick += step
    for x, label in x_labels:
        parts.append(
            f'<text x="{_n(sx(x))}" y="{bottom + 16}" text-anchor="{_anchor(x, x0, x1)}" '
            f'fill="{AXIS}" {FONT} class="chart-label">{escape(label)}</text>'
        )
    for index, line in enumerate(series):
        colour = COLOURS[index % len(COLOURS)]
        coords = " ".join(f"{_n(sx(x))},{_n(sy(y))}" for x, y in line.points)
        if area and line.points:
            base = f"{_n(sx(line.points[-1][0]))},{bottom} {_n(sx(line.points[0][0]))},{bottom}"
            parts.append(
                f'<polygon points="{coords} {base}" fill="{colour}" fill-opacity="0.15" '
                f'class="chart-area"/>'
            )
        parts.append(
            f'<polyline points="{coords}" fill="none" stroke="{colour}" stroke-width="2" '
            f'class="chart-series"><title>{escape(line.name)}</title></polyline>'
        )
        if len(line.points) <= MARKED_POINTS:  # a lone point draws no line: mark each one
            parts += [
                f'<circle cx="{_n(sx(x))}" cy="{_n(sy(y))}" r="3" fill="{colour}" '
                f'class="chart-point"><title>{_labelled(line.name, _n(y))}</title></circle>'
                for x, y in line.points
            ]
        lx = left + index * 120
        parts.append(
            f'<rect x="{lx}" y="6" width="10" height="10" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="15" {FONT} class="chart-legend">{escape(line.name)}</text>'
        )
    parts.append("</svg>")
    return Svg("".join(parts))


def bar_chart(
    *, chart_id: str, title: str, desc: str, bars: Sequence[Bar], width: int = 640
) -> Svg:
    """One horizontal bar per label, longest value full width, the value written after it."""
    row, label_width, value_width = 24, 200, 90
    height = max(48, 12 + row * len(bars))
    parts = _open(chart_id, title, desc, width, height, "chart-bars")
    if not bars:
        return _empty(parts, width, height)
    most = max(max(b.value for b in bars), 1e-9)
    span = width - label_width - value_width
    for index, bar in enumerate(bars):
        y = 6 + index * row
        length = bar.value / most * span
        parts.append(
            f'<text x="{label_width - 8}" y="{y + 15}" text-anchor="end" {FONT} '
            f'class="chart-label">{escape(clip(bar.label, label_width // CHAR_WIDTH))}</text>'
            f'<rect x="{label_width}" y="{y + 3}" width="{_n(length)}" height="{row - 8}" '
            f'fill="{COLOURS[0]}" class="chart-bar"><title>{_labelled(bar.label, bar.shown)}'
            f"</title></rect>"
            f'<text x="{_n(label_width + length + 6)}" y="{y + 15}" {FONT} '
            f'class="chart-value">{escape(bar.shown)}</text>'
        )
    parts.append("</svg>")
    return Svg("".join(parts))


def timeline(
    *,
    chart_id: str,
    title: str,
    desc: str,
    spans: Sequence[Span],
    x_labels: Sequence[tuple[float, str]],
    width: int = 640,
) -> Svg:
    """Spans on one lane per name, in order of first appearance; x shared by every lane."""
    lanes = list(dict.fromkeys(s.lane for s in spans))
    row, label_width = 24, 160
    height = max(48, 30 + row * len(lanes))
    parts = _open(chart_id, title, desc, width, height, "chart-timeline")
    if not spans:
        return _empty(parts, width, height)
    left, right = label_width, width - 12
    x0 = min(s.start for s in spans)
    x1 = max(s.end for s in spans)
    x1 = x1 if x1 > x0 else x0 + 1

    def sx(x: float) -> float:
        return left + (x - x0) / (x1 - x0) * (right - left)

    for index, lane in enumerate(lanes):
        parts.append(
            f'<text x="{left - 8}" y="{6 + index * row + 15}" text-anchor="end" {FONT} '
            f'class="chart-label">{escape(clip(lane, label_width // CHAR_WIDTH))}</text>'
        )
    for span in spans:
        index = lanes.index(span.lane)
        start = sx(span.start)
        parts.append(
            f'<rect x="{_n(start)}" y="{6 + index * row + 3}" '
            f'width="{_n(max(1.0, sx(span.end) - start))}" height="{row - 8}" '
            f'fill="{COLOURS[index % len(COLOURS)]}" class="chart-span">'
            f"<title>{escape(span.label)}</title></rect>"
        )
    for x, label in x_labels:
        parts.append(
            f'<text x="{_n(sx(x))}" y="{height - 6}" text-anchor="{_anchor(x, x0, x1)}" '
            f'fill="{AXIS}" {FONT} class="chart-label">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return Svg("".join(parts))
