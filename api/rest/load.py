"""Cooperatives and hourly load: current, history, peaks, statistics, coincident peaks."""

from __future__ import annotations

import re

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from api import params
from api.dbconn import get_db
from api.errors import ApiError, BadParameter
from api.queries import load as q
from api.rest.present import number, when
from shared.timeutil import HOUR, add_local_days, iso_many, local_month, month_start, now_ts

bp = Blueprint("load", __name__)

MAX_HISTORY_HOURS = 366 * 24
# Periods listed by default; any period may list up to MAX_PEAK_PERIODS (only periods with
# data are returned, so a long limit costs no more than the data held).
PEAK_DEFAULTS = {"day": 31, "month": 12, "year": 10}
MAX_PEAK_PERIODS = 366
MAX_COINCIDENT_MONTHS = 60
_MONTH = re.compile(params.MONTH_PATTERN)


@bp.get("/cooperatives")
def cooperatives() -> Response:
    return jsonify(
        [
            {"id": i, "name": name, "abbreviation": abbr, "is_aggregate": bool(agg)}
            for i, name, abbr, agg in q.cooperatives(get_db())
        ]
    )


@bp.get("/load/current/<area>")
def current(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    row = q.current_load(db, area_id)
    if row is None:
        raise ApiError(404, f"no load stored for area {area_id} yet", "area_id")
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "load_kw": row[1],
            "timestamp": when(row[0]),
        }
    )


@bp.get("/load/history/<area>")
def history(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    win = params.window(
        span_name="hours", span_unit=HOUR, default_span=24, max_span=MAX_HISTORY_HOURS
    )
    rows = q.history(db, area_id, *win)
    stamps = iso_many([ts for ts, _ in rows], current_app.config["ZONE"])
    points = [{"timestamp": s, "load_kw": kw} for s, (_, kw) in zip(stamps, rows, strict=True)]
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "start": when(win.start),
            "end": when(win.end),
            "count": len(points),
            "points": points,
        }
    )


@bp.get("/load/peaks/<area>")
def peaks(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    period = params.choice("period", "day", tuple(PEAK_DEFAULTS))
    limit = params.integer("limit", PEAK_DEFAULTS[period], 1, MAX_PEAK_PERIODS)
    zone = current_app.config["ZONE"]
    _, newest = q.data_span(db, area_id)
    found = []
    if newest is not None:
        year, month = local_month(newest, zone)
        if period == "day":
            start = add_local_days(newest, 1 - limit, zone)
        elif period == "month":
            start = month_start(year, month - limit + 1, zone)
        else:
            start = month_start(year - limit + 1, 1, zone)
        found = q.peaks(db, area_id, period, start, newest + HOUR, zone)
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "period": period,
            "peaks": [
                {"period": label, "timestamp": when(ts), "load_kw": kw, "hours": hours}
                for label, ts, kw, hours in found
            ],
        }
    )


@bp.get("/load/stats/<area>")
def stats(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    win = params.window(
        span_name="hours", span_unit=HOUR, default_span=24 * 30, max_span=MAX_HISTORY_HOURS
    )
    s = q.stats(db, area_id, *win)
    peak, average = s["max"], s["average"]
    expected = max(0, min(win.end, _hour_floor(now_ts()) + HOUR) - win.start) // HOUR
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "start": when(win.start),
            "end": when(win.end),
            "hours_with_data": s["hours"],
            "hours_in_window": expected,
            "min_kw": s["min"],
            "min_at": when(s["min_at"]),
            "max_kw": peak,
            "max_at": when(s["max_at"]),
            "average_kw": number(average),
            "energy_mwh": number(s["sum"] / 1000 if s["sum"] is not None else None),
            # Average over peak: how evenly the hours with data used the peak capacity.
            "load_factor": number(average / peak, 4) if peak and peak > 0 else None,
        }
    )


def _hour_floor(ts: float) -> int:
    return int(ts) - int(ts) % HOUR


def _month_param(name: str) -> tuple[int, int] | None:
    raw = params.text(name, 7)
    if raw is None:
        return None
    match = _MONTH.match(raw)
    if not match:
        raise BadParameter(name, f"{name} must be a month as YYYY-MM")
    return int(match.group(1)), int(match.group(2))


@bp.get("/load/coincident-peaks")
def coincident_peaks() -> Response:
    db = get_db()
    zone = current_app.config["ZONE"]
    this_year, this_month = local_month(now_ts(), zone)
    first, last = _month_param("from"), _month_param("to")
    if last is None:
        last = (this_year, this_month) if first is None else _add(first, 11)
    if first is None:
        first = _add(last, -11)
    months = (last[0] - first[0]) * 12 + last[1] - first[1] + 1
    if months < 1:
        raise BadParameter("to", "to must not be before from")
    if months > MAX_COINCIDENT_MONTHS:
        raise BadParameter("to", f"at most {MAX_COINCIDENT_MONTHS} months from from to to")
    start, end = month_start(*first, zone), month_start(last[0], last[1] + 1, zone)
    system = q.system_peaks(db, start, end, zone)
    loads = q.loads_at(db, [ts for _, ts, _ in system])
    areas = {i: (name, abbr) for i, name, abbr, _ in q.cooperatives(db)}
    out = []
    for label, ts, system_kw in sorted(system):
        members = []
        for member in q.MEMBER_IDS:
            kw = loads.get((member, ts))
            name, abbr = areas.get(member, (None, None))
            share = kw / system_kw if kw is not None and system_kw else None
            members.append(
                {
                    "area_id": member,
                    "area_name": name,
                    "abbreviation": abbr,
                    "load_kw": kw,
                    "share": number(share, 5),
                }
            )
        out.append(
            {"month": label, "timestamp": when(ts), "system_load_kw": system_kw, "members": members}
        )
    return jsonify(
        {
            "from": f"{first[0]:04d}-{first[1]:02d}",
            "to": f"{last[0]:04d}-{last[1]:02d}",
            "months": out,
        }
    )


def _add(month: tuple[int, int], delta: int) -> tuple[int, int]:
    index = month[0] * 12 + month[1] - 1 + delta
    return index // 12, index % 12 + 1
