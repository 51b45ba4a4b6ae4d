"""The dashboard's charts, drawn server-side as inline SVG (no script, no build step, no
inline style: the page's Content-Security-Policy allows neither)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from html import escape

WIDTH, HEIGHT = 640, 240  #: pixels of the viewBox; the SVG scales to its box
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 24, 30, 30
PALETTE = (
    "#2f6fdb", "#d9822b", "#2e9e6a", "#b04fc4", "#c23b3b", "#4aa3b5", "#8a6d3b", "#6b7a90",
)  # fmt: skip


def _nice_max(value: float) -> float:
    """The top of the axis: four gridline steps of a round size (1, 2, 2.5 or 5 times a
    power of ten) reaching `value`, so that every gridline is labelled with a round number."""
    power = 1.0
    while True:
        for step in (1, 2, 2.5, 5):
            if 4 * step * power >= value and (step != 2.5 or power >= 10):
                return 4 * step * power
        power *= 10


def _frame(label: str, top: float, empty: str | None) -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'role="img" aria-label="{escape(label)}" class="chart">'
    ]
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    for i in range(5):
        value = top * i / 4
        yy = PAD_TOP + inner_h * (1 - i / 4)
        parts.append(
            f'<line x1="{PAD_LEFT}" y1="{yy:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{yy:.1f}" '
            'class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">'
            f"{value:g}</text>"
        )
    if empty is not None:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="empty">'
            f"{escape(empty)}</text>"
        )
    return parts


def _legend(names: Sequence[str]) -> list[str]:
    parts, x, y = [], PAD_LEFT, 6
    for n, name in enumerate(names):
        width = 22 + 7 * len(name)
        if x + width > WIDTH - PAD_RIGHT:
            x, y = PAD_LEFT, y + 12
        colour = PALETTE[n % len(PALETTE)]
        parts.append(
            f'<rect x="{x}" y="{y}" width="9" height="9" rx="2" fill="{colour}"/>'
            f'<text x="{x + 13}" y="{y + 8}" class="legend">{escape(name)}</text>'
        )
        x += width
    return parts


def _ticks(labels: Sequence[str], x_of: Sequence[float]) -> list[str]:
    step = max(1, len(labels) // 8)
    return [
        f'<text x="{x_of[i]:.1f}" y="{HEIGHT - 10}" text-anchor="middle" class="tick">'
        f"{escape(labels[i])}</text>"
        for i in range(0, len(labels), step)
    ]


def stacked_bars_svg(
    labels: Sequence[str], series: dict[str, list[int]], *, title: str, empty: str
) -> str:
    """One bar per label, stacked by series; each segment titled with its count."""
    totals = [sum(s[i] for s in series.values()) for i in range(len(labels))]
    top = _nice_max(max(totals, default=0))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    slot = inner_w / max(1, len(labels))
    parts = _frame(title, top, None if any(totals) else empty)
    for n, (name, counts) in enumerate(series.items()):
        colour = PALETTE[n % len(PALETTE)]
        for i, count in enumerate(counts):
            if not count:
                continue
            below = sum(list(series.values())[m][i] for m in range(n))
            h = inner_h * count / top
            y = PAD_TOP + inner_h * (1 - below / top) - h
            parts.append(
                f'<rect x="{PAD_LEFT + slot * i + slot * 0.15:.1f}" y="{y:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{h:.1f}" fill="{colour}">'
                f"<title>{escape(f'{labels[i]} {name}: {count}')}</title></rect>"
            )
    parts += _legend(list(series))
    parts += _ticks(labels, [PAD_LEFT + slot * (i + 0.5) for i in range(len(labels))])
    parts.append("</svg>")
    return "".join(parts)


def lines_svg(
    times: Sequence[datetime],
    labels: Sequence[str],
    series: dict[str, list[int]],
    *,
    title: str,
    empty: str,
) -> str:
    """A line per series over `times` (placed by time, so gaps show as gaps in x)."""
    top = _nice_max(max((max(v, default=0) for v in series.values()), default=0))
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    parts = _frame(title, top, None if len(times) > 1 else empty)
    if len(times) > 1:
        first, span = times[0], max(1.0, (times[-1] - times[0]).total_seconds())
        xs = [PAD_LEFT + inner_w * (t - first).total_seconds() / span for t in times]
        for n, (name, values) in enumerate(series.items()):
            colour = PALETTE[n % len(PALETTE)]
            points = " ".join(
                f"{x:.1f},{PAD_TOP + inner_h * (1 - v / top):.1f}"
                for x, v in zip(xs, values, strict=True)
            )
            parts.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" '
                f'stroke-width="2" stroke-linejoin="round"><title>{escape(name)}</title>'
                "</polyline>"
            )
        parts += _legend(list(series))
        parts += _ticks(labels, xs)
    parts.append("</svg>")
    return "".join(parts)
