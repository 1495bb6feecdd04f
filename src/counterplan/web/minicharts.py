"""Small charts drawn on the server as SVG: one per index on the office's
board and the unit page, many on one page, so they need no script and cost a
few hundred bytes each.

A chart shows an index's interval index at each report (dots), the
monitor's filtered level (a line), the plan (1, dashed) and is framed in the
colour of the index's state at its latest report.  Every number is formatted
here and every text escaped, so the markup is safe to put in a page as is.
"""

from __future__ import annotations

from typing import Any

from markupsafe import Markup, escape

WIDTH, HEIGHT, PAD = 160, 56, 4


def _scale(values: list[float]) -> tuple[float, float]:
    """The index range shown: at least 0.6 to 1.2, more when the index goes beyond."""
    low = min([0.6, *values])
    high = max([1.2, *values])
    return low, high


def index_chart(series: dict[str, Any], colours: dict[str, str]) -> Markup:
    """An index's small chart: ``series`` as services/cycle.py's ``indices``
    gives it (points of (date, interval index, filtered level), state)."""
    points = series["points"]
    ys = [y for _, y, _ in points if y is not None] + [m for *_, m in points if m is not None]
    low, high = _scale(ys)
    n = max(len(points) - 1, 1)

    def x(k: int) -> float:
        return PAD + (WIDTH - 2 * PAD) * k / n

    def y(v: float) -> float:
        return HEIGHT - PAD - (HEIGHT - 2 * PAD) * (v - low) / (high - low)

    colour = colours.get(series["state"], "#555")
    level = " ".join(f"{x(k):.1f},{y(m):.1f}" for k, (_, _, m) in enumerate(points)
                     if m is not None)
    dots = "".join(f'<circle cx="{x(k):.1f}" cy="{y(v):.1f}" r="1.8"/>'
                   for k, (_, v, _) in enumerate(points) if v is not None)
    name = series["technique"] or "the unit"
    label = escape(f"{name}: {series['state']} at the report of {series['date']}; "
                   f"cumulative index {series['index']:.3f}, filtered level "
                   f"{series['level']:.3f}")
    return Markup(
        f'<svg class="index" viewBox="0 0 {WIDTH} {HEIGHT}" width="{WIDTH}" height="{HEIGHT}" '
        f'role="img" aria-label="{label}"><title>{label}</title>'
        f'<rect x="0.5" y="0.5" width="{WIDTH - 1}" height="{HEIGHT - 1}" rx="4" '
        f'fill="{colour}" fill-opacity="0.08" stroke="{colour}" stroke-width="2"/>'
        f'<line x1="{PAD}" x2="{WIDTH - PAD}" y1="{y(1.0):.1f}" y2="{y(1.0):.1f}" '
        f'stroke="#888" stroke-dasharray="3 3" stroke-width="1"/>'
        f'<g fill="#333" fill-opacity="0.7">{dots}</g>'
        f'<polyline points="{level}" fill="none" stroke="{colour}" stroke-width="2"/></svg>')
