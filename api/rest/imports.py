"""GET /api/imports (the import log) and POST /api/import/trigger (a manual import)."""

from __future__ import annotations

import math

from flask import Blueprint, current_app, jsonify
from peewee import PeeweeException
from werkzeug.wrappers import Response

from api import params
from api.auth import protected
from api.collector_requests import collector_heartbeat
from api.collectors import channel
from api.dbconn import get_db
from api.errors import Unavailable
from api.queries import status as q
from api.rest.present import run_dict, when
from shared.timeutil import now_ts
from shared.triggers import MAX_PENDING, REQUEST_ID, TooManyPending, expected_start

bp = Blueprint("imports", __name__)

RUN_STATUSES = ("running", "success", "partial", "failed")


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
    state, beat = collector_heartbeat()
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
