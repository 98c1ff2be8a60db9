"""The OpenAPI description of the backup and test-email endpoints (api.rest.tasks)."""

from __future__ import annotations

from typing import Any

from api.rest.openapi_parts import AUTH_ERRORS, BAD, UNAVAILABLE, error_reply, ok_reply, param
from api.rest.openapi_types import INT, INT_N, STR, STR_N, TIME, TIME_N, _arr, _obj, _t

REQUEST_ID = param(
    "request_id",
    "path",
    {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
    "The id a trigger answered with (scheduled backups: scheduled-YYYY-MM-DD)",
)
STATUS = _t("string", enum=["queued", "running", "done", "failed"])


def _queue(summary: str) -> dict:
    return {
        "post": {
            "summary": summary,
            "description": "The collector carries the request out; follow it at `status_url`.",
            "security": [{"ApiKey": []}],
            "responses": {
                "202": ok_reply("TaskQueued", "Queued"),
                **AUTH_ERRORS,
                "409": error_reply("Backups: the database is PostgreSQL (use pg_dump)"),
                "429": error_reply("Too many requests already wait"),
                "503": error_reply(
                    "API key not configured, or the request cannot be written (disk full)"
                ),
            },
        }
    }


TASK_PATHS: dict[str, Any] = {
    "/api/backups": {
        "get": {
            "summary": "The backups in BACKUP_DIR, newest first (SQLite only)",
            "responses": {"200": ok_reply("Backups"), "503": UNAVAILABLE},
        }
    },
    "/api/backups/trigger": _queue("Ask the collector for a backup now"),
    "/api/backups/{name}": {
        "get": {
            "summary": "Download one backup (gzip)",
            "security": [{"ApiKey": []}],
            "parameters": [param("name", "path", {"type": "string"}, "A name from /api/backups")],
            "responses": {
                "200": {
                    "description": "The backup (attachment)",
                    "content": {"application/gzip": {"schema": {"type": "string"}}},
                },
                "404": error_reply("No backup of that name in BACKUP_DIR"),
                **AUTH_ERRORS,
            },
        }
    },
    "/api/settings/test-email": _queue("Ask the collector to send a test email"),
    "/api/tasks/{request_id}": {
        "get": {
            "summary": "Progress of a backup or test-email request",
            "parameters": [REQUEST_ID],
            "responses": {
                "200": ok_reply("Task"),
                "400": BAD,
                "404": error_reply("No such request (or an import request: see /api/imports)"),
                "503": UNAVAILABLE,
            },
        }
    },
}

TASK_SCHEMAS: dict[str, Any] = {
    "TaskQueued": _obj(
        {
            "request_id": STR,
            "kind": _t("string", enum=["backup", "test_email"]),
            "status": STATUS,
            "status_url": STR,
        }
    ),
    "Task": _obj(
        {
            "request_id": STR,
            "kind": STR,
            "status": STATUS,
            "requested_at": TIME_N,
            "started_at": TIME_N,
            "finished_at": TIME_N,
            "message": STR,
            "detail": _t("object", description="file, made_by, deleted; smtp_reply"),
            "status_url": STR,
        }
    ),
    "Backups": _obj(
        {
            "supported": _t("boolean"),
            "note": STR_N,
            "backups": _arr(
                _obj(
                    {
                        "name": STR,
                        "created_at": TIME,
                        "size_bytes": INT,
                        "made_by": _t(
                            "string",
                            nullable=True,
                            description="hand, schedule, "
                            "pre-restore, pre-import; null: not recorded",
                        ),
                        "integrity": STR_N,
                        "schema_version": INT_N,
                    }
                )
            ),
        }
    ),
}
