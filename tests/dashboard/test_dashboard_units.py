"""The chart module, the value formats and the page-label time helpers on their own."""

from __future__ import annotations

import math
import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from api.dashboard import charts
from shared.timeutil import local_hour_marks, local_text, zone_names

CT = ZoneInfo("America/Chicago")
AUTUMN = int(datetime(2026, 11, 1, 0, 0, tzinfo=CT).timestamp())  # 01:00 repeats that day
SPRING = int(datetime(2026, 3, 8, 0, 0, tzinfo=CT).timestamp())  # 02:00 is skipped


def test_local_text_names_the_zone_of_each_instant() -> None:
    assert local_text(AUTUMN + 3600, CT) == "2026-11-01 01:00 CDT"
    assert local_text(AUTUMN + 2 * 3600, CT) == "2026-11-01 01:00 CST"
    assert local_text(SPRING + 2 * 3600, CT) == "2026-03-08 03:00 CDT"
    assert local_text(None, CT) is None
    assert local_text(AUTUMN, ZoneInfo("Europe/Berlin")) == "2026-11-01 06:00 CET"
    assert zone_names(AUTUMN, AUTUMN + 86400, CT) == ["CDT", "CST"]
    assert zone_names(SPRING, SPRING + 86400, CT) == ["CST", "CDT"]
    assert zone_names(AUTUMN + 86400, AUTUMN + 2 * 86400, CT) == ["CST"]


def test_hour_marks_follow_the_wall_clock() -> None:
    autumn = [
        local_text(t, CT, "%H:%M %Z") for t in local_hour_marks(AUTUMN, AUTUMN + 25 * 3600, CT, 1)
    ]
    assert autumn[:4] == ["00:00 CDT", "01:00 CDT", "01:00 CST", "02:00 CST"]
    assert len(autumn) == 26  # a 25-hour day, both ends included
    spring = [local_text(t, CT, "%H") for t in local_hour_marks(SPRING, SPRING + 23 * 3600, CT, 1)]
    assert "02" not in spring and len(spring) == 24
    six = local_hour_marks(AUTUMN, AUTUMN + 49 * 3600, CT, 6)  # two local days, 25 h + 24 h
    assert [local_text(t, CT, "%H") for t in six] == ["00", "06", "12", "18"] * 2 + ["00"]


def test_downsample_keeps_ends_count_and_spikes() -> None:
    points = [(i * 3600, math.sin(i / 24) * 100) for i in range(8760)]
    points[4000] = (4000 * 3600, 900.0)  # a one-hour spike
    points[6000] = (6000 * 3600, -700.0)
    kept = charts.downsample(points)
    assert len(kept) == charts.MAX_POINTS
    assert kept[0] == points[0] and kept[-1] == points[-1]
    assert (4000 * 3600, 900.0) in kept and (6000 * 3600, -700.0) in kept
    assert [t for t, _ in kept] == sorted(t for t, _ in kept)
    short = points[:1500]
    assert charts.downsample(short) == short


@pytest.mark.parametrize(
    ("low", "high", "expected"),
    [(0, 10, [0, 2, 4, 6, 8, 10]), (823.4, 1044.5, [800, 850, 900, 950, 1000, 1050]),
     (-1416, 4636, [-2000, 0, 2000, 4000, 6000]), (5, 5, [4.7, 4.8, 4.9, 5.0, 5.1, 5.2, 5.3])],
)  # fmt: skip
def test_nice_ticks(low: float, high: float, expected: list[float]) -> None:
    assert charts.nice_ticks(low, high) == expected


def test_time_ticks_are_local_and_readable() -> None:
    day = charts.time_ticks(AUTUMN, AUTUMN + 25 * 3600, CT)
    assert [label for _, label in day] == [
        "Sun 01", "03:00", "06:00", "09:00", "12:00", "15:00", "18:00", "21:00", "Mon 02"
    ]  # fmt: skip
    week = charts.time_ticks(AUTUMN, AUTUMN + 7 * 86400 + 3600, CT)
    assert [label for _, label in week][:3] == ["Sun 01", "Mon 02", "Tue 03"]
    year_start = int(datetime(2025, 11, 26, 12, tzinfo=CT).timestamp())
    year = [label for _, label in charts.time_ticks(year_start, year_start + 365 * 86400, CT)]
    assert year == ["Dec", "Jan 2026", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
                    "Oct", "Nov"]  # fmt: skip


def _render(points, **extra) -> str:
    options = {"start": AUTUMN, "end": AUTUMN + 86400, "zone": CT, "unit": "MW",
               "fmt": lambda v: f"{v:,.1f}", "title": "Load <of> \"x\"", "gap": 5400}  # fmt: skip
    options.update(extra)
    return str(charts.render([charts.Series("Load", points)], **options))


def test_render_draws_every_point_and_breaks_at_gaps() -> None:
    points = [(AUTUMN + h * 3600, 1000.0 + h) for h in range(25) if h not in (10, 11)]
    svg = _render(points, end=AUTUMN + 25 * 3600)
    assert 'data-points="23"' in svg
    d = re.search(r'class="line s1" data-series="Load" d="([^"]*)"', svg).group(1)
    assert d.count("M") == 2 and d.count("M") + d.count("L") == 23
    assert "Load &lt;of&gt; &#34;x&#34;" in svg  # the title is escaped
    titles = re.findall(r"<rect class=\"hit\"[^>]*><title>([^<]*)</title>", svg)
    assert len(titles) == 23
    assert titles[1] == "2026-11-01 01:00 CDT\nLoad: 1,001.0 MW"
    assert titles[2] == "2026-11-01 01:00 CST\nLoad: 1,002.0 MW"
    assert "<script" not in svg and "style=" not in svg


def test_render_groups_hover_columns_on_long_series() -> None:
    points = [(AUTUMN + h * 3600, float(h % 24)) for h in range(8760)]
    svg = _render(points, end=AUTUMN + 8760 * 3600)
    assert 'data-points="1500"' in svg
    assert len(re.findall(r'<rect class="hit"', svg)) <= charts.MAX_HOVER
    assert "to 2026-" in svg  # a column covers a time range


def test_render_without_data() -> None:
    svg = _render([])
    assert "No data in this range" in svg and 'data-points="0"' in svg


def test_lone_points_are_marked() -> None:
    svg = _render([(AUTUMN + 3600, 5.0)])
    assert svg.count('<circle class="dot s1"') == 1


def test_formats() -> None:
    from api.dashboard import formatting as f

    assert f.num(4212.0) == "4,212" and f.num(2724.4) == "2,724.4" and f.num(None) == "—"
    assert f.num(-1416.0) == "-1,416" and f.num(0.5) == "0.5"
    assert f.pf(-0.86) == "-0.86" and f.pf(1.0) == "1.00" and f.pf(0.955) == "0.955"
    assert f.low_pf(-0.86) and f.low_pf(0.89) and not f.low_pf(0.9) and not f.low_pf(None)
    assert f.mw(824612.0) == "824.6" and f.mw(62624.0, 2) == "62.62"
    assert f.size(965107712) == "965.1 MB" and f.size(999) == "999 B"
    assert f.percent(0.99) == "99.0 %" and f.percent(None) == "—"
