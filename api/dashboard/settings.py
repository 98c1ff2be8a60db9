"""The Settings page (`/settings`): the effective settings of the collector (from its
heartbeat) and of the API side by side, where each came from (environment, `.env`,
default), flags where the two disagree, and "Send test email", which the collector sends."""

from __future__ import annotations

from flask import current_app
from werkzeug.wrappers import Response

from api.collector_requests import collector_heartbeat
from api.dashboard.blueprint import bp
from api.dashboard.request_status import queue_from_form, render_page
from api.dbconn import get_db
from api.queries import tasks as q
from shared.settings_report import disagreements, settings_report


def _rows(collector: dict | None, api: dict, differ: list[str]) -> list[dict]:
    names = list(api) + [n for n in (collector or {}) if n not in api]
    return [
        {
            "name": name,
            "collector": (collector or {}).get(name),
            "api": api.get(name),
            "disagree": name in differ,
        }
        for name in names
    ]


@bp.get("/settings")
def settings():
    state, beat = collector_heartbeat()
    theirs = beat.get("settings") if isinstance(beat.get("settings"), dict) else None
    mine = settings_report(current_app.config["SETTINGS"])
    differ = disagreements(theirs, mine)
    return render_page(
        "settings.html",
        rows=_rows(theirs, mine, differ),
        disagree=differ,
        collector=theirs,
        collector_state=state,
        key_ready=bool(current_app.config.get("API_KEY")),
        tasks=q.recent_tasks(get_db(), "test_email", 5),
    )


@bp.post("/settings/test-email")
def settings_test_email() -> Response:
    return queue_from_form("test_email")
