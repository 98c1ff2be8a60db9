"""Health, status, the import log, and the manual-import trigger."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify
from peewee import PeeweeException
from werkzeug.wrappers import Response

from api import __version__, params
from api.auth import protected
from api.collector_requests import collector_heartbeat
from api.collectors import channel, collectors
from api.dbconn import database_problem, get_db
from api.errors import Unavailable
from api.queries import alerts as alerts_q
from api.queries import status as q
from api.queries.common import database_size
from api.rest import peak
from api.rest.present import number, run_dict, when
from shared.heartbeat import problems
from shared.timeutil import CLOCK_SKEW_LIMIT, HOUR, now_ts
from shared.triggers import MAX_PENDING, REQUEST_ID, TooManyPending, expected_start

bp = Blueprint("status", __name__)

RUN_STATUSES = ("running", "success", "partial", "failed")
DAY = 86400
MAX_GAP_LIST = 20


def _heartbeat() -> tuple[str, dict]:
    return collector_heartbeat()


def _instance(found: dict | None) -> dict | None:
    """A collector instance (active or standby): where it runs and how fresh it is."""
    if found is None:
        return None
    age = found.get("heartbeat_age_seconds")
    return {
        "instance": found.get("instance"),
        "host": found.get("host"),
        "pid": found.get("pid"),
        "role": found.get("role"),
        "since": when(found.get("since")),
        "heartbeat_at": when(found.get("heartbeat_at")),
        "heartbeat_age_seconds": number(age, 1) if isinstance(age, int | float) else None,
    }


def _collector() -> dict:
    view = collectors()
    state, beat = view.state, view.beat or {}
    return {
        "state": state,
        "heartbeat_at": when(beat.get("updated_at")),
        "pid": beat.get("pid"),
        "version": beat.get("version"),
        "last_status": beat.get("last_status"),
        "next_poll": when(beat.get("next_slot")) if state == "running" else None,
        "doing": beat.get("state"),  # polling, writing, idle, ... as the collector says
        "problems": collector_reasons(state, beat),
        "unwritten_runs": beat.get("unwritten_runs") or 0,
        "mqtt": _mqtt(beat.get("mqtt")),
        # Which collector polls, and which stand by (PostgreSQL: any number, any machine).
        "active": _instance(view.active),
        "standby": [_instance(s) for s in view.standby],
    }


def _mqtt(status) -> dict | None:
    """The collector's MQTT broker status (None while MQTT_URL is unset)."""
    if not isinstance(status, dict):
        return None

    def instant(key: str) -> str | None:
        value = status.get(key)
        return when(value) if isinstance(value, int | float) else None

    def text(key: str) -> str | None:
        value = status.get(key)
        return value[:300] if isinstance(value, str) else None

    state = status.get("state")
    attempts = status.get("failed_attempts")
    return {
        "broker": text("broker"),
        "state": state if state in ("connecting", "connected", "down") else None,
        "since": instant("since"),
        "last_error": text("last_error"),
        "failed_attempts": attempts if isinstance(attempts, int) else None,
        "last_published_at": instant("last_published_at"),
    }


def collector_reasons(state: str, beat: dict) -> list[str]:
    """Why the collector is not collecting: stuck (the heartbeat's content) or stopped. A
    collector never seen (no heartbeat: an API-only setup, or `once` from cron) is no reason."""
    if state == "stale":
        return [f"the collector's heartbeat stopped at {when(beat.get('updated_at'))}"]
    if state == "running":
        return [f"collector: {p}" for p in problems(beat, zone=current_app.config["ZONE"])]
    return []


@bp.get("/health")
def health() -> Response:
    """200 while the database is readable, with status "degraded" and the reasons when the
    collector is stuck or stopped (so a container check on the API keeps the API up, and it
    can say so); `?strict=1` answers 503 when degraded too, for uptime monitors."""
    strict = params.integer("strict", 0, 0, 1) == 1
    _db, problem = database_problem(current_app)
    state, beat = _heartbeat()
    reasons = collector_reasons(state, beat)
    if problem is not None:
        status = "unavailable"
        reasons.insert(0, f"database: {problem}")
    else:
        status = "degraded" if reasons else "ok"
    body = {
        "status": status,
        "reasons": reasons,
        "version": __version__,
        "database": "ok" if problem is None else problem,
        "collector": _collector(),
    }
    response = jsonify(body)
    response.status_code = 503 if status == "unavailable" or (strict and reasons) else 200
    return response


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
            "collector": _collector(),
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


@bp.get("/imports")
def imports() -> Response:
    db = get_db()
    limit = params.integer("limit", 50, 1, 500)
    before = params.integer("before_id", None, 1, 2**62)
    request_id = params.text("request_id", 64)
    if request_id is not None and not REQUEST_ID.match(request_id):
        raise params.BadParameter("request_id", "request_id may hold A-Z a-z 0-9 _ - only")
    run_status = params.text("status", 10)
    if run_status is not None and run_status not in RUN_STATUSES:
        raise params.BadParameter("status", f"status must be one of {', '.join(RUN_STATUSES)}")
    found = q.runs(db, limit, before, request_id, run_status)
    return jsonify(
        {
            "runs": [run_dict(r) for r in found],
            "next_before_id": found[-1]["id"] if len(found) == limit else None,
        }
    )


def _expected(beat: dict, now: float) -> tuple[float | None, str | None]:
    """When the collector will answer a request queued now, by the rule it follows."""
    guard, gap = beat.get("slot_guard_seconds"), beat.get("manual_gap_seconds")
    if not isinstance(guard, int | float) or not isinstance(gap, int | float):
        return None, None  # no collector, or one too old to say
    return expected_start(
        now, beat.get("last_manual_started_at"), beat.get("next_slot"), guard, gap
    )


@bp.post("/import/trigger")
@protected
def trigger() -> Response:
    """202 queued (with when it will run), 429 when MAX_PENDING requests already wait,
    503 when the request cannot be written (disk full, read-only data directory)."""
    state, beat = _heartbeat()
    now = now_ts()
    at, by = _expected(beat, now) if state == "running" else (None, None)
    try:
        made = channel().submit(limit=MAX_PENDING)
    except TooManyPending as exc:
        wait = max(1, math.ceil(at - now)) if at is not None else 60
        response = jsonify({"error": f"{exc}; try again in {wait} s", "retry_after": wait})
        response.status_code = 429
        response.headers["Retry-After"] = str(wait)
        return response
    except OSError as exc:
        current_app.logger.warning("manual import request not written: %s", exc)
        reason = exc.strerror or str(exc)
        response = jsonify({"error": f"cannot queue the request in the data directory: {reason}"})
        response.status_code = 503
        return response
    except PeeweeException as exc:  # PostgreSQL: the server refused the insert
        current_app.logger.warning("manual import request not queued: %s", exc)
        raise Unavailable(f"cannot queue the request in the database: {exc}".strip()) from None
    response = jsonify(
        {
            "request_id": made.request_id,
            "status": "queued",
            "requested_at": when(made.requested_at),
            "expected_at": when(at),
            "answered_by": by,
            "collector": state,
            "imports_url": f"/api/imports?request_id={made.request_id}",
        }
    )
    response.status_code = 202
    return response
