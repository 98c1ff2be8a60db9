"""The data inspector (`/inspector`): an area's load (chart, table, 24 h figures, substations)
and one substation's history. Reads through the API's load and substation queries.

A range is a span back from the end of the current hour. When an area (or substation) has
no data at all in that span but older data exists, the span ends at its newest data
instead, and the page says so: a copied or stopped database still shows something useful.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app, render_template
from peewee import Database

from api import params
from api.collector_requests import poll_interval_minutes
from api.dashboard import charts
from api.dashboard.blueprint import bp
from api.dashboard.forecast_view import forecast_view
from api.dashboard.formatting import low_pf, num
from api.dbconn import get_db
from api.errors import BadParameter
from api.queries import dashboard as dq
from api.queries import load as load_q
from api.queries import substations as sub_q
from shared.timeutil import HOUR, local_periods, now_ts, wall_key_to_ts, zone_names

DAY = 86400
RANGES = {"24h": DAY, "48h": 2 * DAY, "7d": 7 * DAY, "30d": 30 * DAY, "1y": 365 * DAY}
RANGE_LABELS = {"24h": "24 h", "48h": "48 h", "7d": "7 days", "30d": "30 days", "1y": "1 year"}
HOURLY_TABLE_UP_TO = 7 * DAY  # longer ranges get a table of local days
# Substation histories: raw readings for short ranges, the hourly rollup beyond.
SUB_BUCKETS = {"24h": 0, "48h": 0, "7d": HOUR, "30d": HOUR, "1y": 6 * HOUR}
SUB_SORTS = {
    "name": lambda r: r["name"].casefold(),
    "kw": lambda r: r["kw"],
    "kvar": lambda r: r["kvar"],
    "pf": lambda r: (r["pf"] is None, abs(r["pf"]) if r["pf"] is not None else 0),
}
AREA_GROUPS = (("KAMO", (20,)), ("Regions", (18, 19)), ("Members", tuple(range(1, 18))))


@dataclass
class Window:
    start: int
    end: int
    moved: bool  # True when the span was moved back to end at the newest data


def area_choices(areas: list[tuple]) -> list[tuple[str, list[tuple[int, str, str]]]]:
    """Picker groups: KAMO total, MO. and OK. regions, then each member (those known)."""
    known = {a[0]: a for a in areas}
    return [
        (label, [(i, known[i][1], known[i][2]) for i in ids if i in known])
        for label, ids in AREA_GROUPS
        if any(i in known for i in ids)
    ]


def window(range_key: str, now: float, newest: int | None) -> Window:
    """The span ending at the current hour's end, or at the newest data (`newest`, the
    latest instant stored) when that is older than the span's start."""
    span = RANGES[range_key]
    end = int(now) - int(now) % HOUR + HOUR
    if newest is not None and newest < end - span:
        end = newest - newest % HOUR + HOUR
        return Window(end - span, end, True)
    return Window(end - span, end, False)


def daily_rows(rows: list[tuple[int, float]], start: int, end: int, zone: ZoneInfo) -> list[dict]:
    """Per local day: hours, min, average, max and the peak hour; newest day first."""
    days = local_periods("day", start, end, zone)
    out: list[dict] = []
    index = -1
    for ts, kw in rows:
        while index + 1 < len(days) and ts >= days[index + 1][0]:
            index += 1
            out.append({"day": days[index][0], "hours": 0, "min": None, "max": None, "sum": 0.0})
        if not out:
            continue
        cur = out[-1]
        cur["hours"] += 1
        cur["sum"] += kw
        cur["min"] = kw if cur["min"] is None else min(cur["min"], kw)
        if cur["max"] is None or kw > cur["max"]:
            cur["max"], cur["peak_at"] = kw, ts
    for cur in out:
        cur["avg"] = cur["sum"] / cur["hours"] if cur["hours"] else None
    return [c for c in reversed(out) if c["hours"]]


def area_view(db: Database, area: tuple, range_key: str, now: float, zone: ZoneInfo) -> dict:
    area_id = area[0]
    current = load_q.current_load(db, area_id)
    newest = current[0] if current else None
    win = window(range_key, now, newest)
    rows = load_q.history(db, area_id, win.start, win.end)
    day_stats = load_q.stats(db, area_id, newest - 23 * HOUR, newest + HOUR) if current else None
    forecast = forecast_view(db, area_id, now, live=not win.moved)
    title = f"Hourly load of {area[1]}, MW, {RANGE_LABELS[range_key]}"
    if forecast.points:
        title += f", with KAMO's forecast ({forecast.series}) dashed"
    chart = charts.render(
        [charts.Series("Load", [(ts, kw / 1000) for ts, kw in rows]), *forecast.chart_series()],
        start=win.start,
        end=win.end,
        ahead=forecast.end,  # room for the forecast's hours
        zone=zone,
        unit="MW",
        fmt=lambda v: f"{v:,.1f}",
        title=title,
        gap=1.5 * HOUR,
    )
    view: dict[str, Any] = {
        "current": current,
        "day_stats": day_stats,
        "window": win,
        "zones": zone_names(win.start, win.end, zone),
        "chart": chart,
        "points": len(rows),
        "hourly": None,
        "daily": None,
        "forecast": forecast,
    }
    if RANGES[range_key] <= HOURLY_TABLE_UP_TO:
        view["hourly"] = list(reversed(rows))
    else:
        view["daily"] = daily_rows(rows, win.start, win.end, zone)
    return view


def substation_table(db: Database, area_id: int, sort: str, descending: bool) -> dict:
    """The area's substations in their newest slot, sorted by a whitelisted column."""
    slot = sub_q.latest_slot(db, area_id)
    found = sub_q.readings_at(db, area_id, slot) if slot is not None else []
    rows = [
        {
            "id": i,
            "name": name,
            "kw": kw,
            "kvar": kvar,
            "pf": pf,
            # KAMO's pf 0 with kVAR 0 means "no reading"; the query already made it None.
            "no_reading": pf is None,
            "low_pf": low_pf(pf),
        }
        for i, name, kw, kvar, pf, _quality, _now in found
    ]
    rows.sort(key=SUB_SORTS[sort], reverse=descending)
    if sort == "pf" and descending:  # "no reading" stays last either way
        rows.sort(key=lambda r: r["pf"] is None)
    return {
        "slot": slot,
        "rows": rows,
        "total_kw": sum(r["kw"] for r in rows) if rows else None,
        "total_kvar": sum(r["kvar"] for r in rows) if rows else None,
        "low_count": sum(r["low_pf"] for r in rows),
    }


def substation_view(
    db: Database, sub: tuple, range_key: str, now: float, zone: ZoneInfo, interval: int
) -> dict:
    """One substation: kW and kVAR over the range (raw, or hourly/6-hourly buckets with the
    kW min-max band), min/max/average, and its newest reading."""
    sid, area_id, name, _first, last_seen = sub
    win = window(range_key, now, last_seen)
    size = SUB_BUCKETS[range_key]
    kw, kvar, band = [], [], []
    samples = 0
    kw_sum = kvar_sum = 0.0
    kw_low = kw_high = kvar_low = kvar_high = None
    if size == 0:
        for _s, ts, k, v, _pf in sub_q.raw(db, area_id, win.start, win.end, sid):
            kw.append((ts, k))
            kvar.append((ts, v))
        samples = len(kw)
        kw_sum, kvar_sum = sum(v for _, v in kw), sum(v for _, v in kvar)
        if kw:
            kw_low, kw_high = min(v for _, v in kw), max(v for _, v in kw)
            kvar_low, kvar_high = min(v for _, v in kvar), max(v for _, v in kvar)
    else:
        for _s, key, n, kmin, kmax, kavg, vmin, vmax, vavg, _pf in sub_q.buckets(
            db, area_id, win.start, win.end, size, sid, zone
        ):
            ts = key if size <= HOUR else wall_key_to_ts(key, zone)
            kw.append((ts, kavg))
            kvar.append((ts, vavg))
            band.append((ts, kmin, kmax))
            samples += n
            kw_sum += kavg * n
            kvar_sum += vavg * n
            kw_low = kmin if kw_low is None else min(kw_low, kmin)
            kw_high = kmax if kw_high is None else max(kw_high, kmax)
            kvar_low = vmin if kvar_low is None else min(kvar_low, vmin)
            kvar_high = vmax if kvar_high is None else max(kvar_high, vmax)
    step = size or interval
    chart = charts.render(
        [charts.Series("kW", kw, "s1", band or None), charts.Series("kVAR", kvar, "s2")],
        start=win.start,
        end=win.end,
        zone=zone,
        unit="kW / kVAR",
        fmt=num,
        title=f"{name}: kW and kVAR, {RANGE_LABELS[range_key]}",
        gap=2.5 * step,
    )
    slot = sub_q.latest_slot(db, area_id)
    latest = next(
        (r for r in (sub_q.readings_at(db, area_id, slot) if slot else []) if r[0] == sid), None
    )
    return {
        "window": win,
        "zones": zone_names(win.start, win.end, zone),
        "chart": chart,
        "points": len(kw),
        "bucket": size,
        "samples": samples,
        "stats": {
            "kw": (kw_low, kw_sum / samples if samples else None, kw_high),
            "kvar": (kvar_low, kvar_sum / samples if samples else None, kvar_high),
        },
        "latest": latest,
        "latest_slot": slot if latest else None,
        "latest_low_pf": low_pf(latest[4]) if latest else False,
    }


@bp.get("/inspector")
def inspector():
    db = get_db()
    zone = current_app.config["ZONE"]
    range_key = params.choice("range", "24h", tuple(RANGES))
    sort = params.choice("sort", "name", tuple(SUB_SORTS))
    direction = params.choice("dir", "asc", ("asc", "desc"))
    sub_id = params.integer("substation", None, 1, 2**62)
    area_param = params.integer("area", None, 1, 20)
    areas = load_q.cooperatives(db)
    sub = None
    if sub_id is not None:
        sub = dq.substation(db, sub_id)
        if sub is None:
            raise BadParameter("substation", f"there is no substation {sub_id}")
        area_id = sub[1]
    else:
        area_id = area_param if area_param is not None else load_q.SYSTEM_AREA
    area = next((a for a in areas if a[0] == area_id), None)
    now = now_ts()
    view = subs = detail = None
    if area is not None and sub is None:
        view = area_view(db, area, range_key, now, zone)
        if not area[3]:
            subs = substation_table(db, area_id, sort, direction == "desc")
    elif sub is not None:
        interval = poll_interval_minutes() * 60
        detail = substation_view(db, sub, range_key, now, zone, interval)
    return render_template(
        "inspector.html",
        areas=area_choices(areas),
        area=area,
        area_id=area_id,
        range_key=range_key,
        ranges=RANGE_LABELS,
        sort=sort,
        direction=direction,
        view=view,
        subs=subs,
        sub=sub,
        detail=detail,
    )
