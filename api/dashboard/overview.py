"""The front page (`/`): collector state, runs, database figures, gaps.

Reads through the API's status queries (api.queries.status); the row counts of the big
tables are the counts the collector keeps (`row_count`), never a COUNT(*) over them.
"""

from __future__ import annotations

import json
from typing import Any

from flask import current_app, render_template
from peewee import Database

from api.collector_requests import poll_interval_minutes
from api.collectors import collectors
from api.dashboard.blueprint import bp
from api.dbconn import database_problem
from api.queries import alerts as alerts_q
from api.queries import load as load_q
from api.queries import peak as peak_q
from api.queries import status as q
from api.queries.common import database_size
from shared.estimate import area_estimate, stale_after
from shared.heartbeat import STALE_AFTER, problems
from shared.timeutil import HOUR, now_ts

DAY = 86400
GAP_DAYS = 7
MAX_GAP_RANGES = 20
RECENT_RUNS = 20


def collector() -> dict[str, Any]:
    """The collector as its heartbeat file tells it: running, stale or never seen."""
    view = collectors()
    state, beat = view.state, view.beat or {}
    stuck = problems(beat, zone=current_app.config["ZONE"]) if state == "running" else []
    return {
        "state": state,
        "badge": "stuck" if stuck else state,
        "problems": stuck,  # a fresh heartbeat whose content says collection has stopped
        "doing": beat.get("state"),
        "stale_after": STALE_AFTER,
        "heartbeat_at": beat.get("updated_at"),
        "pid": beat.get("pid"),
        "version": beat.get("version"),
        "last_status": beat.get("last_status"),
        "next_poll": beat.get("next_slot") if state == "running" else None,
    }


def area_names(db: Database) -> dict[int, tuple[str, str]]:
    """{area_id: (name, abbreviation)}."""
    return {i: (name, abbr) for i, name, abbr, _ in load_q.cooperatives(db)}


def decode_run(run: dict[str, Any], areas: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """An import_run row for a page: errors keyed by area abbreviation, warnings as a list."""
    out = dict(run)
    try:
        errors = json.loads(run.get("area_errors") or "{}") or {}
    except ValueError:
        errors = {}
    try:
        warnings = json.loads(run.get("warnings") or "[]") or []
    except ValueError:
        warnings = []
    out["errors"] = [
        (areas.get(int(k), (None, f"area {k}"))[1] if str(k).isdigit() else str(k), str(v))
        for k, v in (errors.items() if isinstance(errors, dict) else [])
    ]
    out["warning_list"] = [str(w) for w in warnings] if isinstance(warnings, list) else []
    ids = run.get("request_ids")
    if not isinstance(ids, list):  # straight from the table: a JSON list or NULL
        try:
            ids = json.loads(ids or "null")
        except ValueError:
            ids = None
    out["request_ids"] = [str(i) for i in ids] if isinstance(ids, list) else []
    finished = run.get("finished_at")
    out["duration"] = finished - run["started_at"] if finished is not None else None
    return out


def rate(counts: dict[str, int]) -> dict[str, Any]:
    total = sum(counts.values())
    ok = counts.get("success", 0) + counts.get("partial", 0)
    return {
        "runs": total,
        "ok": ok,
        "failed": counts.get("failed", 0),
        "partial": counts.get("partial", 0),
        "share": ok / total if total else None,
    }


def gaps(db: Database, now: float, areas: dict[int, tuple[str, str]]) -> dict[str, Any]:
    """Missing hours per area over the last GAP_DAYS days (up to the current hour, which is
    still filling), merged into ranges that list the areas missing them, and failed polls."""
    end = int(now) - int(now) % HOUR
    start = end - GAP_DAYS * DAY
    by_range: dict[tuple[int, int], list[str]] = {}
    missing_total, per_area = 0, []
    for area_id, abbr, stored, oldest in q.hours_per_area(db, start, end):
        first = max(start, oldest) if oldest is not None else end
        missing = max(0, (end - first) // HOUR - stored)
        if not missing:
            continue
        missing_total += missing
        per_area.append((abbr, missing))
        present = set(q.hours_present(db, area_id, first, end))
        run_start = None
        for ts in range(first - first % HOUR, end + HOUR, HOUR):
            if ts < end and ts not in present:
                run_start = ts if run_start is None else run_start
            elif run_start is not None:
                by_range.setdefault((run_start, ts), []).append(abbr)
                run_start = None
    ranges = sorted(by_range.items(), reverse=True)
    everyone = len(areas)
    return {
        "start": start,
        "end": end,
        "missing_hours": missing_total,
        "per_area": per_area,
        "ranges": [
            {
                "start": a,
                "end": b,
                "hours": (b - a) // HOUR,
                "areas": "all areas" if everyone and len(names) == everyone else ", ".join(names),
            }
            for (a, b), names in ranges[:MAX_GAP_RANGES]
        ],
        "more_ranges": max(0, len(ranges) - MAX_GAP_RANGES),
        "failed_polls": q.runs_since(db, start).get("failed", 0),
        "recent_failed": [decode_run(r, areas) for r in q.failed_runs(db, start, 5)],
    }


def overview(db: Database, now: float) -> dict[str, Any]:
    """Everything the front page shows that comes from the database."""
    areas = area_names(db)
    counts = q.kept_counts(db)
    small = q.small_counts(db)
    readings = counts.get("substation_reading")
    size = database_size(db).bytes
    load_span, readings_span = q.load_span(db), q.readings_span(db)
    last = q.last_run(db)
    success = q.last_success(db)
    system = load_q.current_load(db, load_q.SYSTEM_AREA)
    return {
        "areas": areas,
        "last_run": decode_run(last, areas) if last else None,
        "last_success": decode_run(success, areas) if success else None,
        "rate_24h": rate(q.runs_since(db, now - DAY)),
        "rate_7d": rate(q.runs_since(db, now - 7 * DAY)),
        "rows": {
            "hourly_load": counts.get("hourly_load"),
            "substation_reading": readings,
            "substation": small["substation"],
            "area": small["area"],
            "import_run": small["import_run"],
        },
        "file_size": size,
        "bytes_per_reading": size / readings if size and readings else None,
        "load_span": load_span,
        "readings_span": readings_span,
        "system_load": system,
        "system_now": system_now(db, now),
        "peak_watches": [
            {**w, "area_name": areas.get(w["area_id"], (f"area {w['area_id']}",))[0]}
            for w in peak_q.open_watches(db)
        ],
        "gaps": gaps(db, now, areas),
        "runs": [decode_run(r, areas) for r in q.runs(db, RECENT_RUNS)],
        "alerts": [_alert(a) for a in alerts_q.alert_states(db)],
    }


def system_now(db: Database, now: float) -> dict[str, Any]:
    """KAMO's real-time estimate (shared.estimate), for the "now, estimated" line."""
    stale = stale_after(poll_interval_minutes())
    found = area_estimate(db, load_q.SYSTEM_AREA, now, stale)
    found.pop("members", None)
    return found


def _alert(state: dict) -> dict:
    """An active alert (alert_state), as /api/status shows it: title, then its lines."""
    title, *lines = (state["detail"] or state["key"]).splitlines()
    return {"key": state["key"], "title": title, "since": state["since"], "lines": lines}


@bp.get("/")
def index():
    db, problem = database_problem(current_app)
    data = overview(db, now_ts()) if problem is None else None
    return render_template(
        "dashboard.html",
        collector=collector(),
        problem=problem,
        data=data,
        trigger_ready=bool(current_app.config.get("API_KEY")),
        poll_minutes=poll_interval_minutes(),
        peak_percent=current_app.config.get("PEAK_WATCH_PERCENT", 97.0),
    )
