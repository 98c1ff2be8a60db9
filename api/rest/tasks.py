"""Requests the collector carries out (backups, test emails), and the backup files.

`POST /api/backups/trigger` and `POST /api/settings/test-email` queue a request through the
manual-import channel and answer 202 with its id; `GET /api/tasks/{request_id}` follows it:
queued while its file waits, then running, done or failed as the collector records it.
`GET /api/backups` lists the backup directory; `GET /api/backups/{name}` downloads a
backup (API key).
"""

from __future__ import annotations

from flask import Blueprint, jsonify, url_for
from werkzeug.wrappers import Response

from api.auth import protected
from api.collector_requests import (
    backup_dir,
    backups_supported,
    database_stem,
    queue_request,
    send_backup,
    task_state,
)
from api.errors import ApiError
from api.rest.present import when
from shared.backups import list_backups
from shared.triggers import REQUEST_ID

bp = Blueprint("tasks", __name__)


def task_json(task: dict) -> dict:
    out = dict(task)
    for key in ("requested_at", "started_at", "finished_at"):
        out[key] = when(task[key])
    out["status_url"] = url_for("tasks.task", request_id=task["request_id"])
    return out


def _accepted(request_id: str, kind: str) -> Response:
    response = jsonify(
        {
            "request_id": request_id,
            "kind": kind,
            "status": "queued",
            "status_url": url_for("tasks.task", request_id=request_id),
        }
    )
    response.status_code = 202
    return response


@bp.post("/backups/trigger")
@protected
def backup_trigger() -> Response:
    return _accepted(queue_request("backup"), "backup")


@bp.post("/settings/test-email")
@protected
def test_email_trigger() -> Response:
    return _accepted(queue_request("test_email"), "test_email")


@bp.get("/tasks/<request_id>")
def task(request_id: str) -> Response:
    if not REQUEST_ID.match(request_id):
        raise ApiError(
            400, f"request_id {request_id[:80]!r} may hold A-Z a-z 0-9 _ - only", "request_id"
        )
    found = task_state(request_id)
    if found is None:
        raise ApiError(404, f"no backup or test email request {request_id!r}", "request_id")
    return jsonify(task_json(found))


@bp.get("/backups")
def backups() -> Response:
    if not backups_supported():
        note = "the database is PostgreSQL: back it up with pg_dump (docs/postgresql.md)"
        return jsonify({"supported": False, "note": note, "backups": []})
    found = list_backups(backup_dir(), database_stem())
    return jsonify(
        {
            "supported": True,
            "note": None,
            "backups": [
                {
                    "name": b.name,
                    "created_at": when(b.created_at),
                    "size_bytes": b.size,
                    "made_by": b.made_by,
                    "integrity": b.integrity,
                    "schema_version": b.schema_version,
                }
                for b in found
            ],
        }
    )


@bp.get("/backups/<path:name>")
@protected
def backup_file(name: str) -> Response:
    return send_backup(name)
