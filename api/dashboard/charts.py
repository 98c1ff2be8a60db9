"""Inline SVG line charts, drawn on the server.

A chart is one `<svg>` element in the page: no script, no style attribute and no external
file, so it works under the app's Content-Security-Policy, without JavaScript, offline and
in print. Colours come from the stylesheet through classes. Series are cut to at most
MAX_POINTS points first (`downsample`: largest-triangle-three-buckets, which keeps the
peaks and troughs a plain average would flatten). Hovering shows values through `<title>`
elements on transparent columns laid over the plot (at most MAX_HOVER of them).
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from markupsafe import Markup, escape

from shared.timeutil import HOUR, local_hour_marks, local_periods, local_text, to_zone

MAX_POINTS = 1500
MAX_HOVER = 240
WIDTH, HEIGHT = 960, 300
LEFT, RIGHT, TOP, BOTTOM = 62, 18, 26, 30
PLOT_W, PLOT_H = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

Point = tuple[int, float]
Band = tuple[int, float, float]  # (ts, low, high)


@dataclass
class Series:
    name: str
    points: list[Point]
    css: str = "s1"
    band: list[Band] | None = None  # drawn as a shaded min-max area behind the line


def downsample(points: Sequence[Point], limit: int = MAX_POINTS) -> list[Point]:
    """At most `limit` points of `points` (time order), first and last kept.

    Each bucket between them keeps the point that forms the largest triangle with the point
    kept before it and the average of the next bucket, so spikes survive.
    """
    count = len(points)
    if count <= limit or limit < 3:
        return list(points)
    kept = [points[0]]
    width = (count - 2) / (limit - 2)
    previous = 0
    for bucket in range(limit - 2):
        low = int(bucket * width) + 1
        high = int((bucket + 1) * width) + 1
        following = points[high : min(int((bucket + 2) * width) + 1, count)] or [points[-1]]
        avg_x = sum(p[0] for p in following) / len(following)
        avg_y = sum(p[1] for p in following) / len(following)
        px, py = points[previous]
        best, best_area = low, -1.0
        for index in range(low, high):
            x, y = points[index]
            area = abs((px - avg_x) * (y - py) - (px - x) * (avg_y - py))
            if area > best_area:
                best, best_area = index, area
        kept.append(points[best])
        previous = best
    kept.append(points[-1])
    return kept


def nice_ticks(low: float, high: float, count: int = 5) -> list[float]:
    """Round tick values (steps of 1, 2, 2.5 or 5 times a power of ten) covering [low, high]."""
    if high <= low:
        pad = abs(low) * 0.05 or 1.0
        low, high = low - pad, high + pad
    raw = (high - low) / count
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(low / step)
    last = math.ceil(high / step)
    return [round(k * step, 10) for k in range(first, last + 1)]


def _month_label(local: datetime, with_year: bool) -> str:
    return local.strftime("%b %Y" if with_year else "%b")


def time_ticks(start: int, end: int, zone: ZoneInfo) -> list[tuple[int, str]]:
    """(UTC instant, label) for the x axis, on local wall-clock marks readable at a glance:
    hours for a day or two, days for a week or a month, months for a year."""
    span = end - start
    ticks: list[tuple[int, str]] = []
    if span <= 3 * 86400:
        step = 3 if span <= 36 * HOUR else 6
        for ts in local_hour_marks(start, end, zone, step):
            local = to_zone(ts, zone)
            ticks.append((ts, local.strftime("%a %d" if local.hour == 0 else "%H:%M")))
        return ticks
    if span <= 75 * 86400:
        days = [(ts, label) for ts, label in local_periods("day", start, end, zone) if ts >= start]
        stride = max(1, math.ceil(len(days) / 10))
        for ts, _ in days:
            local = to_zone(ts, zone)
            if local.date().toordinal() % stride == 0:
                ticks.append((ts, local.strftime("%a %d" if stride == 1 else "%b %d")))
        return ticks
    months = [ts for ts, _ in local_periods("month", start, end, zone) if ts >= start]
    stride = 1 if len(months) <= 14 else 3
    chosen = [(ts, to_zone(ts, zone)) for ts in months]
    chosen = [(ts, local) for ts, local in chosen if (local.month - 1) % stride == 0]
    # The year goes on each January, or on the first month when no January is shown.
    januaries = any(local.month == 1 for _, local in chosen)
    for index, (ts, local) in enumerate(chosen):
        with_year = local.month == 1 or (index == 0 and not januaries)
        ticks.append((ts, _month_label(local, with_year)))
    return ticks


def _segments(points: Sequence[tuple], gap: float) -> list[list[tuple]]:
    """Split a series where two neighbours are more than `gap` seconds apart."""
    parts: list[list[tuple]] = []
    for point in points:
        if parts and point[0] - parts[-1][-1][0] <= gap:
            parts[-1].append(point)
        else:
            parts.append([point])
    return parts


def _range_text(values: list[float], fmt: Callable[[float], str]) -> str:
    low, high = min(values), max(values)
    return fmt(low) if low == high else f"{fmt(low)} to {fmt(high)}"


def render(
    series: list[Series],
    *,
    start: int,
    end: int,
    zone: ZoneInfo,
    unit: str,
    fmt: Callable[[float], str],
    title: str,
    gap: float,
    ahead: int | None = None,
) -> Markup:
    """The chart as SVG markup. `gap` (seconds) breaks a line where data is missing;
    `data-points` on the root says how many points the first series has. `ahead` extends
    the x axis past `end` (for a forecast); `data-end` stays `end`, the data's window."""
    end = max(end, start + 1)
    axis_end = max(end, ahead or end)
    for item in series:
        item.points = downsample(item.points)
        if item.band is not None and len(item.band) > MAX_POINTS:
            item.band = None  # only series short enough to draw whole carry a band
    main = series[0].points if series else []
    gap = max(gap, 3 * (end - start) / max(len(main), 1)) if len(main) > MAX_POINTS // 2 else gap
    values = [v for s in series for _, v in s.points]
    values += [v for s in series for _, lo, hi in (s.band or ()) for v in (lo, hi)]
    yticks = nice_ticks(min(values), max(values)) if values else [0.0, 1.0]
    y_low, y_high = yticks[0], yticks[-1]

    def x_of(ts: float) -> float:
        return LEFT + (ts - start) / (axis_end - start) * PLOT_W

    def y_of(value: float) -> float:
        return TOP + (y_high - value) / (y_high - y_low) * PLOT_H

    out = [
        f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-label="{escape(title)}" data-points="{len(main)}" '
        f'data-start="{start}" data-end="{end}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
    ]
    step = yticks[1] - yticks[0] if len(yticks) > 1 else 1
    digits = 0 if step >= 1 else min(3, -math.floor(math.log10(step)))
    for value in yticks:
        y = y_of(value)
        out.append(
            f'<line class="grid" x1="{LEFT}" x2="{LEFT + PLOT_W}" y1="{y:.1f}" y2="{y:.1f}"/>'
        )
        out.append(
            f'<text class="tick y" x="{LEFT - 8}" y="{y + 4:.1f}">{value:,.{digits}f}</text>'
        )
    for ts, label in time_ticks(start, axis_end, zone):
        x = x_of(ts)
        out.append(
            f'<line class="grid x" x1="{x:.1f}" x2="{x:.1f}" y1="{TOP}" y2="{TOP + PLOT_H}"/>'
        )
        # Labels at the plot's edges are anchored inwards so none is cut off.
        edge = " end" if x > WIDTH - RIGHT - 20 else " start" if x < LEFT + 20 else ""
        out.append(
            f'<text class="tick x{edge}" x="{x:.1f}" y="{HEIGHT - 10}">{escape(label)}</text>'
        )
    out.append(f'<text class="unit" x="4" y="{TOP - 12}">{escape(unit)}</text>')
    for item in series:
        for part in _segments(item.band or [], gap):
            upper = " L".join(f"{x_of(t):.1f},{y_of(hi):.1f}" for t, _, hi in part)
            lower = " L".join(f"{x_of(t):.1f},{y_of(lo):.1f}" for t, lo, _ in reversed(part))
            out.append(f'<path class="band {item.css}" d="M{upper} L{lower} Z"/>')
    for item in series:
        parts = _segments(item.points, gap)
        path = " ".join(
            "M" + " L".join(f"{x_of(t):.1f},{y_of(v):.1f}" for t, v in part) for part in parts
        )
        out.append(f'<path class="line {item.css}" data-series="{escape(item.name)}" d="{path}"/>')
        for part in parts:
            if len(part) == 1:  # a lone point draws no line: mark it
                t, v = part[0]
                out.append(
                    f'<circle class="dot {item.css}" cx="{x_of(t):.1f}" cy="{y_of(v):.1f}" r="3"/>'
                )
    if not main:
        out.append(
            f'<text class="empty" x="{LEFT + PLOT_W / 2:.0f}" y="{TOP + PLOT_H / 2:.0f}">'
            "No data in this range</text>"
        )
    out.extend(_hover_columns(series, x_of, zone, unit, fmt))
    out.append("</svg>")
    return Markup("".join(out))


def _hover_columns(series: list[Series], x_of, zone: ZoneInfo, unit: str, fmt) -> list[str]:
    main = series[0].points if series else []
    if not main:
        return []
    per = math.ceil(len(main) / MAX_HOVER)
    stamps = [[t for t, _ in s.points] for s in series]
    bands = [{b[0]: b for b in s.band or ()} for s in series]
    out = ['<g class="hits">']
    for first in range(0, len(main), per):
        last = min(first + per, len(main)) - 1
        t0, t1 = main[first][0], main[last][0]
        left = (x_of(main[first - 1][0]) + x_of(t0)) / 2 if first else LEFT
        right = (x_of(t1) + x_of(main[last + 1][0])) / 2 if last + 1 < len(main) else LEFT + PLOT_W
        when = local_text(t0, zone)
        if t1 != t0:
            when = f"{when} to {local_text(t1, zone)}"
        lines = [when]
        for item, times, band in zip(series, stamps, bands, strict=True):
            lo, hi = bisect_left(times, t0), bisect_right(times, t1)
            found = [v for _, v in item.points[lo:hi]]
            if found:
                lines.append(f"{item.name}: {_range_text(found, fmt)} {unit}")
            if t0 == t1 and t0 in band:
                _, low, high = band[t0]
                lines.append(f"  {item.name} range {fmt(low)} to {fmt(high)} {unit}")
        out.append(
            f'<rect class="hit" x="{left:.1f}" y="{TOP}" width="{max(right - left, 0.5):.1f}" '
            f'height="{PLOT_H}"><title>{escape(chr(10).join(lines))}</title></rect>'
        )
    out.append("</g>")
    return out
