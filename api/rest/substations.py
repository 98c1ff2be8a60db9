"""Substations of an area: the latest snapshot, the list, and histories at any resolution."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from api import params
from api.collector_requests import poll_interval_minutes
from api.dbconn import get_db
from api.errors import ApiError, BadParameter
from api.queries import substations as q
from api.rest.present import number, when
from shared.timeutil import HOUR, wall_key_to_ts

bp = Blueprint("substations", __name__)

MAX_HISTORY_HOURS = 366 * 24
RESOLUTIONS = {
    "15m": 900,
    "30m": 1800,
    "1h": 3600,
    "3h": 10800,
    "6h": 21600,
    "12h": 43200,
    "1d": 86400,
}
AUTO_MAX_POINTS = 4000  # automatic resolution keeps a response under this many points
MAX_POINTS = 60000  # an explicit resolution may not ask for more


@bp.get("/substations/list/<area>")
def listing(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "substations": [
                {"id": i, "name": name, "first_seen": when(first), "last_seen": when(last)}
                for i, name, first, last in q.substations(db, area_id)
            ],
        }
    )


@bp.get("/substations/current/<area>")
def current(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    slot = q.latest_slot(db, area_id)
    found = q.readings_at(db, area_id, slot) if slot is not None else []
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "timestamp": when(slot),
            "total_kw": sum(r[2] for r in found) if found else None,
            "total_kvar": sum(r[3] for r in found) if found else None,
            "substations": [
                {
                    "id": i,
                    "name": name,
                    "kw": kw,
                    "kvar": kvar,
                    "pf": pf,
                    "quality": bool(quality),
                    "quality_now": bool(quality_now),
                }
                for i, name, kw, kvar, pf, quality, quality_now in found
            ],
        }
    )


def _substation(db, area_id: int) -> int | None:
    """`substation` by id or exact name, within the area."""
    raw = params.text("substation", 100)
    if raw is None:
        return None
    for sid, name, _, _ in q.substations(db, area_id):
        if str(sid) == raw or name == raw:
            return sid
    raise ApiError(404, f"area {area_id} has no substation {raw!r}", "substation")


def _resolution(span: int, series: int) -> tuple[str, int]:
    """(name, bucket seconds; 0 for raw) for the `resolution` parameter."""
    choice = params.choice("resolution", "auto", ("auto", "raw", *RESOLUTIONS))
    interval = poll_interval_minutes() * 60
    if choice == "auto":
        if span // interval * series <= AUTO_MAX_POINTS:
            return "raw", 0
        for name, size in RESOLUTIONS.items():
            if size > interval and -(-span // size) * series <= AUTO_MAX_POINTS:
                return name, size
        return "1d", RESOLUTIONS["1d"]
    size = RESOLUTIONS.get(choice, 0)
    points = -(-span // (size or interval)) * series
    if points > MAX_POINTS:
        raise BadParameter(
            "resolution",
            f"resolution {choice} gives about {points} points over this range "
            f"(at most {MAX_POINTS}): choose a coarser resolution or a shorter range",
        )
    return choice, size


@bp.get("/substations/history/<area>")
def history(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    win = params.window(
        span_name="hours", span_unit=HOUR, default_span=24, max_span=MAX_HISTORY_HOURS
    )
    sid = _substation(db, area_id)
    names = {i: name for i, name, _, _ in q.substations(db, area_id)}
    series = 1 if sid is not None else max(1, len(names))
    resolution, size = _resolution(win.end - win.start, series)
    by_sub: dict[int, list[dict]] = {}
    if size == 0:
        stamps = {}
        for s, ts, kw, kvar, pf in q.raw(db, area_id, win.start, win.end, sid):
            if ts not in stamps:
                stamps[ts] = when(ts)
            by_sub.setdefault(s, []).append(
                {"timestamp": stamps[ts], "kw": kw, "kvar": kvar, "pf": pf}
            )
    else:
        zone = current_app.config["ZONE"]
        stamps: dict[int, str | None] = {}  # every series shares the same few bucket starts
        for s, key, n, kmin, kmax, kavg, vmin, vmax, vavg, pf in q.buckets(
            db, area_id, win.start, win.end, size, sid, zone
        ):
            if key not in stamps:
                stamps[key] = when(key if size <= HOUR else wall_key_to_ts(key, zone))
            by_sub.setdefault(s, []).append(
                {
                    "timestamp": stamps[key],
                    "samples": n,
                    "kw_min": kmin,
                    "kw_max": kmax,
                    "kw_avg": number(kavg),
                    "kvar_min": vmin,
                    "kvar_max": vmax,
                    "kvar_avg": number(vavg),
                    "pf_avg": number(pf, 4),
                }
            )
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "start": when(win.start),
            "end": when(win.end),
            "resolution": resolution,
            "substations": [
                {"id": s, "name": names.get(s), "points": points}
                for s, points in sorted(by_sub.items(), key=lambda kv: names.get(kv[0], ""))
            ],
        }
    )
