"""The delivery success chart, drawn server-side as inline SVG (no script, no build step)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from html import escape

from services.web.ops import DayRate

WIDTH, HEIGHT = 640, 220  #: pixels
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 44, 16, 16, 36
COLOURS = {"sms": "#2f6fdb", "email": "#d9822b"}


def success_chart_svg(rates: Sequence[DayRate], *, today: date, days: int = 14) -> str:
    """A line per channel of the share delivered per day, over the last `days` days."""
    first = today - timedelta(days=days - 1)
    inner_w = WIDTH - PAD_LEFT - PAD_RIGHT
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM

    def x(day: date) -> float:
        return PAD_LEFT + inner_w * (day - first).days / max(1, days - 1)

    def y(rate: float) -> float:
        return PAD_TOP + inner_h * (1 - rate)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        'role="img" aria-label="Delivery success rate per day and channel" class="chart">'
    ]
    for pct in (0, 25, 50, 75, 100):
        yy = y(pct / 100)
        parts.append(
            f'<line x1="{PAD_LEFT}" y1="{yy:.1f}" x2="{WIDTH - PAD_RIGHT}" y2="{yy:.1f}" '
            'class="grid"/>'
            f'<text x="{PAD_LEFT - 6}" y="{yy + 4:.1f}" text-anchor="end" class="tick">'
            f"{pct}%</text>"
        )
    for i in range(0, days, max(1, days // 7)):
        day = first + timedelta(days=i)
        parts.append(
            f'<text x="{x(day):.1f}" y="{HEIGHT - 12}" text-anchor="middle" class="tick">'
            f"{day.month}/{day.day}</text>"
        )
    channels = sorted({r.channel for r in rates})
    for n, channel in enumerate(channels):
        colour = COLOURS.get(channel, "#6b7a90")
        points = [
            (x(r.day), y(r.rate), r)
            for r in sorted(rates, key=lambda r: r.day)
            if r.channel == channel and r.rate is not None and r.day >= first
        ]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py, _ in points)
            parts.append(
                f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2.5" '
                'stroke-linejoin="round"/>'
            )
        for px, py, r in points:
            title = escape(
                f"{r.day.isoformat()} {channel}: {100 * (r.rate or 0):.1f}% "
                f"({r.delivered}/{r.delivered + r.not_delivered})"
            )
            parts.append(
                f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3.5" fill="{colour}">'
                f"<title>{title}</title></circle>"
            )
        lx = PAD_LEFT + 10 + 90 * n
        parts.append(
            f'<rect x="{lx}" y="{PAD_TOP}" width="10" height="10" rx="2" fill="{colour}"/>'
            f'<text x="{lx + 14}" y="{PAD_TOP + 9}" class="legend">{escape(channel)}</text>'
        )
    if not channels:
        parts.append(
            f'<text x="{WIDTH / 2}" y="{HEIGHT / 2}" text-anchor="middle" class="empty">'
            "no deliveries in these days</text>"
        )
    parts.append("</svg>")
    return "".join(parts)
