"""Inline SVG charts, drawn on the server: no JavaScript, no chart library, readable without colour.

Every label and title passes markupsafe's escape, so data (source names) can never become markup.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from markupsafe import Markup, escape

__all__ = ["Bar", "bar_chart", "histogram", "line_chart"]

W, H = 560, 250
LEFT, RIGHT, TOP, BOTTOM = 48, 16, 16, 40
# Colour-blind-safe palette (Okabe–Ito), each series also named in the legend.
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000")


def _tag(name: str, text: str | None = None, **attrs: object) -> str:
    rendered = " ".join(f'{k.rstrip("_").replace("_", "-")}="{escape(str(v))}"' for k, v in attrs.items())
    if text is None:
        return f"<{name} {rendered}/>"
    return f"<{name} {rendered}>{escape(text)}</{name}>"


def _frame(title: str, body: list[str], y_max: float, legend: Sequence[tuple[str, str]]) -> Markup:
    parts = [f'<svg viewBox="0 0 {W} {H}" role="img" class="chart" xmlns="http://www.w3.org/2000/svg">',
             _tag("title", title)]
    for i in range(5):  # y grid with labels
        value = y_max * i / 4
        y = H - BOTTOM - (H - TOP - BOTTOM) * i / 4
        parts.append(_tag("line", x1=LEFT, x2=W - RIGHT, y1=f"{y:.1f}", y2=f"{y:.1f}", class_="grid"))
        parts.append(_tag("text", f"{value:.0f}" if y_max >= 4 else f"{value:.1f}", x=LEFT - 6, y=f"{y + 4:.1f}",
                          class_="axis", text_anchor="end"))
    parts.extend(body)
    x = LEFT
    for label, colour in legend:
        parts.append(_tag("rect", x=x, y=H - 14, width=10, height=10, fill=colour))
        parts.append(_tag("text", label, x=x + 14, y=H - 5, class_="legend"))
        x += 26 + 8 * len(label)
    parts.append("</svg>")
    return Markup("".join(parts))


def _nice(value: float) -> float:
    """A round upper bound for an axis."""
    if value <= 0:
        return 1.0
    for step in (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 2500, 5000, 10_000, 20_000, 50_000,
                 100_000, 200_000, 500_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000):
        if value <= step * 4:
            return float(step * 4)
    return value


def line_chart(title: str, series: Mapping[str, Mapping[date, int]], *, cumulative: bool = True) -> Markup | None:
    """One line per series over days (running totals by default); None when there is nothing to draw."""
    days = sorted({d for values in series.values() for d in values})
    if not days:
        return None
    totals: dict[str, list[float]] = {}
    for name, values in series.items():
        running, points = 0.0, []
        for d in days:
            running = running + values.get(d, 0) if cumulative else float(values.get(d, 0))
            points.append(running)
        totals[name] = points
    y_max = _nice(max(max(p) for p in totals.values()))
    span = max(1, len(days) - 1)
    width, height = W - LEFT - RIGHT, H - TOP - BOTTOM
    body, legend = [], []
    for n, (name, points) in enumerate(sorted(totals.items())):
        colour = PALETTE[n % len(PALETTE)]
        coords = [(LEFT + width * i / span, H - BOTTOM - height * p / y_max) for i, p in enumerate(points)]
        if len(coords) == 1:
            coords.append((W - RIGHT, coords[0][1]))
        body.append(_tag("polyline", points=" ".join(f"{x:.1f},{y:.1f}" for x, y in coords), fill="none",
                         stroke=colour, stroke_width=2))
        legend.append((f"{name} ({points[-1]:.0f})", colour))
    for i in sorted({0, len(days) - 1, (len(days) - 1) // 2}):
        body.append(_tag("text", days[i].isoformat(), x=f"{LEFT + width * i / span:.1f}", y=H - BOTTOM + 14,
                         class_="axis", text_anchor="middle"))
    return _frame(title, body, y_max, legend)


@dataclass(frozen=True)
class Bar:
    """One bar of a stacked bar chart: its label and one value per series."""

    label: str
    values: tuple[float, ...]


def bar_chart(title: str, bars: Sequence[Bar], series: Sequence[str]) -> Markup | None:
    """Stacked bars, one per item (e.g. per match run); None when there is nothing to draw."""
    if not bars:
        return None
    y_max = _nice(max(sum(b.values) for b in bars))
    width, height = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = width / len(bars)
    body = []
    for i, bar in enumerate(bars):
        base = 0.0
        for n, value in enumerate(bar.values):
            top = base + value
            y0, y1 = H - BOTTOM - height * base / y_max, H - BOTTOM - height * top / y_max
            body.append(_tag("rect", f"{bar.label}: {series[n]} {value:.0f}", x=f"{LEFT + slot * i + slot * 0.15:.1f}",
                             y=f"{y1:.1f}", width=f"{slot * 0.7:.1f}", height=f"{max(0.0, y0 - y1):.1f}",
                             fill=PALETTE[n % len(PALETTE)]))
            base = top
        if len(bars) <= 12 or i % max(1, len(bars) // 8) == 0:
            body.append(_tag("text", bar.label, x=f"{LEFT + slot * (i + 0.5):.1f}", y=H - BOTTOM + 14,
                             class_="axis", text_anchor="middle"))
    return _frame(title, body, y_max, [(s, PALETTE[n % len(PALETTE)]) for n, s in enumerate(series)])


def histogram(title: str, groups: Mapping[str, Sequence[float]], thresholds: Mapping[str, float],
              bins: int = 20) -> Markup | None:
    """Scores in [0, 1] binned and stacked per group, with each threshold drawn as a labelled line."""
    if not any(groups.values()):
        return None
    counts = {name: [0] * bins for name in groups}
    for name, scores in groups.items():
        for s in scores:
            counts[name][min(bins - 1, max(0, int(s * bins)))] += 1
    y_max = _nice(max(sum(c[i] for c in counts.values()) for i in range(bins)))
    width, height = W - LEFT - RIGHT, H - TOP - BOTTOM
    slot = width / bins
    body = []
    for i in range(bins):
        base = 0
        for n, name in enumerate(groups):
            value = counts[name][i]
            if value:
                y0, y1 = H - BOTTOM - height * base / y_max, H - BOTTOM - height * (base + value) / y_max
                body.append(_tag("rect", f"{name} {i / bins:.2f}–{(i + 1) / bins:.2f}: {value}",
                                 x=f"{LEFT + slot * i + 1:.1f}", y=f"{y1:.1f}", width=f"{slot - 2:.1f}",
                                 height=f"{y0 - y1:.1f}", fill=PALETTE[n % len(PALETTE)]))
            base += value
    for tick in (0.0, 0.25, 0.5, 0.75, 1.0):
        body.append(_tag("text", f"{tick:.2f}", x=f"{LEFT + width * tick:.1f}", y=H - BOTTOM + 14, class_="axis",
                         text_anchor="middle"))
    for n, (label, value) in enumerate(thresholds.items()):
        x = LEFT + width * value
        body.append(_tag("line", x1=f"{x:.1f}", x2=f"{x:.1f}", y1=TOP, y2=H - BOTTOM, class_="threshold"))
        body.append(_tag("text", f"{label} {value:.2f}", x=f"{x - 4:.1f}", y=TOP + 12 + 16 * n,
                         class_="threshold-label", text_anchor="end"))
    return _frame(title, body, y_max, [(name, PALETTE[n % len(PALETTE)]) for n, name in enumerate(groups)])
