"""Requests the collector carried out (backups, test emails): table `collector_task`."""

from __future__ import annotations

import json

from peewee import Database

FIELDS = (
    "request_id",
    "kind",
    "requested_at",
    "started_at",
    "finished_at",
    "status",
    "message",
    "detail",
)


def _row(row: tuple) -> dict:
    task = dict(zip(FIELDS, row, strict=True))
    try:
        detail = json.loads(task["detail"] or "{}")
    except ValueError:
        detail = {}
    task["detail"] = detail if isinstance(detail, dict) else {}
    return task


def task(db: Database, request_id: str) -> dict | None:
    found = db.execute_sql(
        f"SELECT {', '.join(FIELDS)} FROM collector_task WHERE request_id = {db.param}",
        (request_id,),
    ).fetchone()
    return _row(found) if found else None


def recent_tasks(db: Database, kind: str, limit: int = 10) -> list[dict]:
    rows = db.execute_sql(
        f"SELECT {', '.join(FIELDS)} FROM collector_task WHERE kind = {db.param} "
        f"ORDER BY requested_at DESC LIMIT {int(limit)}",
        (kind,),
    ).fetchall()
    return [_row(r) for r in rows]
