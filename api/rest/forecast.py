"""KAMO's forecasts: the latest one for the coming hours, and how accurate they have been.

Reads the `forecast` table the collector keeps (one row per distinct value of a target hour
and series, with the poll slot that saw it) through shared.forecasts, which the
collector's peak watch reads too.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from api import params
from api.dbconn import get_db
from api.rest.present import number, when
from shared.forecasts import accuracy, latest_forecast
from shared.timeutil import HOUR, now_ts

bp = Blueprint("forecast", __name__)

DEFAULT_HOURS = 12
MAX_HOURS = 48
MAX_LEAD_HOURS = 12
MAX_ACCURACY_DAYS = 3660


@bp.get("/forecast/<area>")
def forecast(area: str) -> Response:
    db = get_db()
    area_id, area_label = params.area(db, area)
    hours = params.integer("hours", DEFAULT_HOURS, 1, MAX_HOURS)
    days = params.integer("days", None, 1, MAX_ACCURACY_DAYS)
    # Default: the current hour, whose actual is still provisional, and the hours after it.
    start = params.instant("start")
    start = int(now_ts()) if start is None else start
    start -= start % HOUR
    latest = latest_forecast(db, area_id, start, hours)
    scored = accuracy(db, area_id, start - days * 86400 if days else None, MAX_LEAD_HOURS)
    series = []
    for name in sorted(set(latest) | set(scored)):
        points = latest.get(name, [])
        series.append(
            {
                "series": name,
                "issued": when(max(p[2] for p in points)) if points else None,
                "points": [
                    {"timestamp": when(target), "value_kw": kw, "issued": when(issued)}
                    for target, kw, issued in points
                ],
                "accuracy": [
                    {
                        "lead_hours": lead,
                        "count": count,
                        "mae_kw": number(mae, 1),
                        "mape_percent": number(mape, 2),
                    }
                    for lead, count, mae, mape in scored.get(name, [])
                ],
            }
        )
    return jsonify(
        {
            "area_id": area_id,
            "area_name": area_label,
            "start": when(start),
            "hours": hours,
            "accuracy_days": days,
            "series": series,
        }
    )
