"""What the API knows of the collector beyond the database, and what it may ask of it.

The collector's heartbeat (state, effective settings, poll interval) and requests through
the manual-import channel (shared.channel: trigger files or the import_request table, with
a `kind`): backups and test emails, which the collector carries out and records in
`collector_task`. The REST endpoints
(api.rest.tasks) and the pages (api.dashboard.backups, settings) share these.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, current_app, send_file
from peewee import PeeweeException

from api.collectors import channel, collectors
from api.dbconn import get_db
from api.errors import ApiError
from api.queries import tasks as q
from shared.backups import backup_path
from shared.db import is_sqlite_url, sqlite_path
from shared.triggers import MAX_PENDING, TooManyPending


def collector_heartbeat() -> tuple[str, dict]:
    """('running' | 'stale' | 'never', the active collector's heartbeat or {}), from the
    deployment's channel: the heartbeat file, or the collector_state rows."""
    view = collectors()
    return view.state, view.beat or {}


def poll_interval_minutes() -> int:
    """The collector's poll interval, as its heartbeat says; the API's own setting only while
    no collector has reported (the two may differ: the Settings page flags it)."""
    _state, beat = collector_heartbeat()
    minutes = beat.get("interval_minutes")
    if isinstance(minutes, int) and not isinstance(minutes, bool) and 1 <= minutes <= 60:
        return minutes
    return int(current_app.config["POLL_INTERVAL_MINUTES"])


def backups_supported() -> bool:
    return is_sqlite_url(current_app.config["DATABASE_URL"])


def backup_dir() -> Path:
    return Path(current_app.config["BACKUP_DIR"])


def database_stem() -> str | None:
    url = current_app.config["DATABASE_URL"]
    return sqlite_path(url).stem if is_sqlite_url(url) else None


def queue_request(kind: str) -> str:
    """Write the request for the collector and return its id. ApiError 409 for a backup on
    PostgreSQL, 429 when too many requests wait, 503 when the data directory refuses it."""
    if kind == "backup" and not backups_supported():
        raise ApiError(409, "the database is PostgreSQL: back it up with pg_dump")
    try:
        made = channel().submit(kind=kind, limit=MAX_PENDING)
    except TooManyPending as exc:
        raise ApiError(429, str(exc)) from None
    except OSError as exc:
        current_app.logger.warning("%s request not written: %s", kind, exc)
        reason = exc.strerror or str(exc)
        raise ApiError(503, f"cannot queue the request in the data directory: {reason}") from None
    except PeeweeException as exc:  # PostgreSQL: the server refused the insert
        current_app.logger.warning("%s request not queued: %s", kind, exc)
        raise ApiError(503, f"cannot queue the request in the database: {exc}") from None
    return made.request_id


def task_state(request_id: str) -> dict | None:
    """The request as the collector recorded it; 'queued' while its file waits; else None."""
    found = q.task(get_db(), request_id)
    if found is not None:
        return found
    waiting = channel().waiting(request_id)
    if waiting is None or waiting.kind == "import":
        return None
    return {
        "request_id": request_id,
        "kind": waiting.kind,
        "requested_at": waiting.requested_at,
        "started_at": None,
        "finished_at": None,
        "status": "queued",
        "message": "waiting for the collector to take it",
        "detail": {},
    }


def send_backup(name: str) -> Response:
    """The backup file `name` as an attachment; 404 for any name that is not a backup
    directly in BACKUP_DIR (no folders, no '..', no links out of it)."""
    path = backup_path(backup_dir(), name) if backups_supported() else None
    if path is None:
        raise ApiError(404, f"no backup named {name[:100]!r}", "name")
    return send_file(path, mimetype="application/gzip", as_attachment=True, download_name=name)
