"""GET /api/health: whether the database is readable and the collector is collecting.

Also the collector's part of /api/status (api.rest.status): active and standby instances,
heartbeat, MQTT broker.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from werkzeug.wrappers import Response

from api import __version__, params
from api.collector_requests import collector_heartbeat
from api.collectors import collectors
from api.dbconn import database_problem
from api.rest.present import number, when
from shared.heartbeat import problems

bp = Blueprint("health", __name__)


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


def collector_summary() -> dict:
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
        "collector": collector_summary(),
    }
    response = jsonify(body)
    response.status_code = 503 if status == "unavailable" or (strict and reasons) else 200
    return response
