"""GET /api/status: the collector, the import runs, the database, gaps, alerts, the clock.

/api/health is in api.rest.health; the import log and the manual trigger in api.rest.imports.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from werkzeug.wrappers import Response

from api import __version__, params
from api.dbconn import get_db
from api.queries import alerts as alerts_q
from api.queries import status as q
from api.queries.common import database_size
from api.rest import peak
from api.rest.health import collector_summary
from api.rest.imports import RUN_STATUSES
from api.rest.present import number, run_dict, when
from shared.timeutil import CLOCK_SKEW_LIMIT, HOUR, now_ts

bp = Blueprint("status", __name__)

DAY = 86400
MAX_GAP_LIST = 20


def _rate(counts: dict[str, int]) -> dict:
    total = sum(counts.values())
    ok = counts.get("success", 0) + counts.get("partial", 0)
    return {
        "runs": total,
        "by_status": {s: counts.get(s, 0) for s in RUN_STATUSES},
        "success_rate": number(ok / total, 4) if total else None,
    }


def _gaps(db, days: int, now: float) -> dict:
    end = int(now) - int(now) % HOUR  # the current hour is still being filled
    start = end - days * DAY
    areas = []
    for area_id, abbr, stored, oldest in q.hours_per_area(db, start, end):
        first = max(start, oldest) if oldest is not None else end
        expected = max(0, (end - first) // HOUR)
        missing = max(0, expected - stored)
        entry = {"area_id": area_id, "abbreviation": abbr, "missing_hours": missing, "ranges": []}
        if missing:
            present = set(q.hours_present(db, area_id, first, end))
            ranges: list[list[int]] = []
            for ts in range(first - first % HOUR, end, HOUR):
                if ts in present:
                    continue
                if ranges and ranges[-1][1] == ts:
                    ranges[-1][1] = ts + HOUR
                else:
                    ranges.append([ts, ts + HOUR])
            entry["ranges"] = [
                {"start": when(a), "end": when(b)} for a, b in ranges[-MAX_GAP_LIST:]
            ]
        areas.append(entry)
    failed = q.failed_runs(db, start, MAX_GAP_LIST)
    return {
        "start": when(start),
        "end": when(end),
        "areas": areas,
        "failed_polls": q.runs_since(db, start).get("failed", 0),
        "recent_failed_polls": [run_dict(r) for r in failed],
    }


@bp.get("/status")
def status() -> Response:
    db = get_db()
    days = params.integer("days", 7, 1, 31)
    now = now_ts()
    counts = q.kept_counts(db)
    load_span, readings_span = q.load_span(db), q.readings_span(db)
    last, success = q.last_run(db), q.last_success(db)
    size = database_size(db)
    return jsonify(
        {
            "version": __version__,
            "now": when(now),
            "collector": collector_summary(),
            "last_run": run_dict(last) if last else None,
            "last_success": run_dict(success) if success else None,
            "runs_24h": _rate(q.runs_since(db, now - DAY)),
            "runs_7d": _rate(q.runs_since(db, now - 7 * DAY)),
            "peak_watch": peak.status_section(db, now),
            "database": {
                "rows": {
                    "hourly_load": counts.get("hourly_load"),
                    "substation_reading": counts.get("substation_reading"),
                    **q.small_counts(db),
                },
                "rows_note": "hourly_load and substation_reading are counts the collector "
                "keeps as it writes",
                "file_size_bytes": size.bytes,
                "size_basis": size.basis,
                "oldest_load": when(load_span[0]),
                "newest_load": when(load_span[1]),
                "oldest_reading": when(readings_span[0]),
                "newest_reading": when(readings_span[1]),
            },
            "gaps": _gaps(db, days, now),
            "alerts": [_alert(a) for a in alerts_q.alert_states(db)],
            "clock": _clock(last),
            "simulated": _simulated(db),
        }
    )


def _simulated(db) -> dict | None:
    """The demo database's mark (scripts/seed_demo.py); None for a database of KAMO's data."""
    until = q.simulated_until(db)
    if until is None:
        return None
    return {
        "until": when(until),
        "note": "simulated demo data: history made by the built-in KAMO simulator, not KAMO's",
    }


def _alert(state: dict) -> dict:
    title, *lines = (state["detail"] or state["key"]).splitlines()
    return {
        "key": state["key"],
        "title": title,
        "since": when(state["since"]),
        "checked_at": when(state["updated_at"]),
        "emailed": bool(state["notified"]),
        "detail": lines,
    }


def _clock(last: dict | None) -> dict:
    """The collector's clock against KAMO's Date header, as of the last run."""
    skew = last.get("clock_skew_seconds") if last else None
    off = skew is not None and abs(skew) > CLOCK_SKEW_LIMIT
    return {
        "skew_seconds": number(skew, 1) if skew is not None else None,
        "warning": (
            f"the collector's clock is {abs(skew):.0f} s {'behind' if skew > 0 else 'ahead of'} "
            "KAMO's; check NTP on the collector's machine"
            if off
            else None
        ),
    }
