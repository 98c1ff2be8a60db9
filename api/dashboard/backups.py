"""The Backups page (`/backups`): the backups in BACKUP_DIR, "Back up now" (the collector
makes it: it is the only writer), downloads behind the API key, the recent requests and
the scheduled backup's state. On PostgreSQL it points to pg_dump instead."""

from __future__ import annotations

from pathlib import Path

from flask import current_app, request
from werkzeug.wrappers import Response

from api.collector_requests import (
    backup_dir,
    backups_supported,
    collector_heartbeat,
    database_stem,
    send_backup,
)
from api.dashboard.blueprint import bp
from api.dashboard.request_status import queue_from_form, render_page, require_key
from api.dbconn import get_db
from api.errors import ApiError
from api.queries import alerts as alerts_q
from api.queries import tasks as q
from shared.backups import list_backups

# The PostgreSQL guide, when the API runs from a checkout that has it.
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "postgresql.md"


def _backup_alert(db) -> dict | None:
    found = next((a for a in alerts_q.alert_states(db) if a["key"] == "backup"), None)
    if found is None:
        return None
    title, *lines = (found["detail"] or "backup").splitlines()
    return {"title": title, "lines": lines}


@bp.get("/backups")
def backups():
    db = get_db()
    state, beat = collector_heartbeat()
    supported = backups_supported()
    settings = current_app.config["SETTINGS"]
    return render_page(
        "backups.html",
        sqlite=supported,
        guide=GUIDE.is_file(),
        backups=list_backups(backup_dir(), database_stem()) if supported else [],
        backup_dir=backup_dir(),
        key_ready=bool(current_app.config.get("API_KEY")),
        backup_time=beat.get("backup_time"),
        collector_seen=state != "never",
        backup_alert=_backup_alert(db),
        keep_daily=settings.backup_keep_daily,
        keep_weekly=settings.backup_keep_weekly,
        tasks=q.recent_tasks(db, "backup"),
    )


@bp.post("/backups/now")
def backup_now() -> Response:
    return queue_from_form("backup")


@bp.post("/backups/download")
def backup_download() -> Response:
    require_key()
    return send_backup(request.form.get("file", ""))


@bp.get("/guide/postgresql")
def postgres_guide() -> Response:
    """docs/postgresql.md as plain text (the Backups page links it on PostgreSQL)."""
    if not GUIDE.is_file():
        raise ApiError(404, "the PostgreSQL guide is docs/postgresql.md in the project")
    return Response(GUIDE.read_text(), mimetype="text/plain")
