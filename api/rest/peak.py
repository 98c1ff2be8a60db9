"""The real-time estimate (`/api/load/now/{area_id}`) and the peak watch's history."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from api import params
from api.dbconn import get_db
from api.errors import BadParameter
from api.queries import peak as q
from api.rest.present import when
from shared.estimate import area_estimate, error_stats, stale_after
from shared.timeutil import now_ts

bp = Blueprint("peak", __name__)

KINDS = ("watch", "new-peak", "all")
# Error figures change only when the collector builds an hour: each worker keeps them per
# (database, area, newest calibrated hour). A year of hours takes ~30 ms to go through.
_ERRORS: dict[tuple, dict] = {}
MAX_CACHED = 64
MAX_HISTORY = 1000
DEFAULT_HISTORY_DAYS = 90


def _estimate_body(found: dict, names: dict[int, str] | None = None) -> dict:
    body = {
        "area_id": found["area_id"],
        "estimate_kw": found["estimate_kw"],
        "status": found["status"],
        "snapshot_time": when(found["snapshot_ts"]),
        "snapshot_kw": found["snapshot_kw"],
        "ratio": found["ratio"],
        "substations": found["substations"],
        "stale": found["stale"],
    }
    if names is not None:
        body["area_name"] = names.get(found["area_id"])
    return body


@bp.get("/load/now/<area>")
def load_now(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    now = now_ts()
    stale = stale_after(current_app.config["POLL_INTERVAL_MINUTES"])
    found = area_estimate(db, area_id, now, stale)
    body = {
        **_estimate_body(found),
        "area_name": area_label,
        "estimated_at": when(now),
        "stale_after_seconds": stale,
        "error": _error_stats(db, area_id, now),
    }
    if found["members"] is not None:
        body["members"] = [_estimate_body(m) for m in found["members"]]
        body["stand_ins"] = found["stand_ins"]
        body["missing"] = found["missing"]
    return jsonify(body)


def _error_stats(db, area_id: int, now: float) -> dict:
    key = (db.database, area_id, q.newest_estimate_hour(db, area_id), int(now) // 86400)
    found = _ERRORS.get(key)
    if found is None:
        if len(_ERRORS) >= MAX_CACHED:
            _ERRORS.clear()
        found = _ERRORS[key] = error_stats(db, area_id, now)
    return dict(found)


def _row(row: dict) -> dict:
    return {
        "id": row["id"],
        "area_id": row["area_id"],
        "kind": row["kind"],
        "opened_at": when(row["opened_at"]),
        "expected_hour": when(row["expected_ts"]),
        "expected_kw": row["expected_kw"],
        "peak_kw": row["peak_kw"],
        "peak_hour": when(row["peak_ts"]),
        "margin_percent": row["margin_pct"],
        "source": row["source"],
        "closed_at": when(row["closed_at"]),
        "outcome": row["outcome"],
        "actual_kw": row["actual_kw"],
    }


@bp.get("/peak-watch/history")
def peak_history() -> Response:
    db = get_db()
    area_id = params.integer("area_id", None, 1, 20)
    kind = params.choice("kind", "all", KINDS)
    limit = params.integer("limit", 200, 1, MAX_HISTORY)
    start, end = params.instant("start"), params.instant("end")
    now = now_ts()
    if end is None:  # up to now, or just past a start given in the future
        end = max(int(now) + 1, start + 1) if start is not None else int(now) + 1
    start = start if start is not None else end - DEFAULT_HISTORY_DAYS * 86400
    if end <= start:
        raise BadParameter("end", "end must be after start")
    rows = q.history(db, area_id, None if kind == "all" else kind, start, end, limit)
    return jsonify(
        {
            "area_id": area_id,
            "kind": kind,
            "start": when(start),
            "end": when(end),
            "count": len(rows),
            "watches": [_row(r) for r in rows],
        }
    )


def status_section(db, now: float) -> dict:
    """`/api/status`'s `peak_watch`: the settings, open watches, each area's month peak."""
    config = current_app.config
    zone = config["ZONE"]
    peaks = []
    for area_id in config["PEAK_WATCH_AREAS"]:
        found = q.month_peak(db, area_id, now, zone)
        peaks.append(
            {
                "area_id": area_id,
                "peak_kw": found[1] if found else None,
                "peak_hour": when(found[0]) if found else None,
            }
        )
    return {
        "areas": list(config["PEAK_WATCH_AREAS"]),
        "hours": config["PEAK_WATCH_HOURS"],
        "percent": config["PEAK_WATCH_PERCENT"],
        "months": f"local months in {config['TZ']}, as /api/load/coincident-peaks",
        "active": [_row(r) for r in q.open_watches(db)],
        "month_peaks": peaks,
    }
