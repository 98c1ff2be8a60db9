"""The table channel (PostgreSQL): `import_request` for requests, `collector_state` for
heartbeats. Chosen by shared.channel; SQLite deployments use files instead.

Requests: the API inserts a row (the only write its role may make); the collector polls
for pending rows every second while idle, claims the ones a cycle answers
(status claimed, claimed_by) and marks them done once a run row names them. A collector
that dies in between leaves them claimed; the next active collector puts them back to
pending, so no request is lost to a kill -9.

Heartbeats: each collector upserts its own row (instance, host, pid, role, the heartbeat
JSON) through its lock session, so any API on any machine reads the same state.
"""

from __future__ import annotations

import json
from typing import Any

from shared.channel import REQUEST_KIND, CollectorView, Request, instance_view
from shared.db import database
from shared.heartbeat import STALE_AFTER
from shared.models import CollectorState, ImportRequest
from shared.timeutil import now_ts
from shared.triggers import REQUEST_ID, TooManyPending, new_request_id

KEEP_DONE_SECONDS = 7 * 86400  # answered requests kept this long (the import log has the run)
FORGET_COLLECTOR_SECONDS = 7 * 86400  # rows of collectors not seen for this long are removed
OPEN = ("pending", "claimed")


class TableChannel:
    def submit(
        self, kind: str = REQUEST_KIND, request_id: str | None = None, limit: int | None = None
    ) -> Request:
        """Queue a request in one statement that also keeps the bound (so two API processes
        cannot both take the last place by much). The API's sessions default to read-only:
        this one transaction is opened READ WRITE; the role allows INSERT here only."""
        request_id = request_id or new_request_id()
        if not REQUEST_ID.match(request_id):
            raise ValueError(f"request id {request_id!r} has characters other than A-Z a-z 0-9 _ -")
        requested_at = now_ts()
        bound = limit if limit is not None else 2**31 - 1
        with database.atomic():
            database.execute_sql("SET TRANSACTION READ WRITE")
            row = database.execute_sql(
                'INSERT INTO "import_request" ("request_id", "kind", "requested_at", "status") '
                "SELECT %s, %s, %s, 'pending' WHERE (SELECT count(*) FROM \"import_request\" "
                "WHERE \"status\" IN ('pending', 'claimed')) < %s RETURNING \"request_id\"",
                (request_id, kind, requested_at, bound),
            ).fetchone()
        if row is None:
            raise TooManyPending(f"{limit} manual import requests are already waiting")
        return Request(request_id, kind, requested_at)

    def count_pending(self) -> int:
        return ImportRequest.select().where(ImportRequest.status.in_(OPEN)).count()

    def pending(self, kinds: tuple[str, ...] = (REQUEST_KIND,), limit: int = 100) -> list[Request]:
        rows = (
            ImportRequest.select(
                ImportRequest.request_id, ImportRequest.kind, ImportRequest.requested_at
            )
            .where((ImportRequest.status == "pending") & ImportRequest.kind.in_(kinds))
            .order_by(ImportRequest.requested_at, ImportRequest.request_id)
            .limit(limit)
            .tuples()
        )
        return [Request(rid, kind, at) for rid, kind, at in rows]

    def claim(self, requests: list[Request], instance: str) -> list[Request]:
        if not requests:
            return []
        ids = [r.request_id for r in requests]
        with database.atomic():
            taken = {
                rid
                for (rid,) in ImportRequest.update(
                    status="claimed", claimed_by=instance, claimed_at=now_ts()
                )
                .where(ImportRequest.request_id.in_(ids) & (ImportRequest.status == "pending"))
                .returning(ImportRequest.request_id)
                .tuples()
                .execute()
            }
        return [r for r in requests if r.request_id in taken]

    def release(self, claimed: list[Request]) -> None:
        """A run row names these requests: done. Old answered rows are pruned on the way."""
        now = now_ts()
        with database.atomic():
            if claimed:
                ImportRequest.update(status="done", done_at=now).where(
                    ImportRequest.request_id.in_([r.request_id for r in claimed])
                ).execute()
            ImportRequest.delete().where(
                (ImportRequest.status == "done") & (ImportRequest.done_at < now - KEEP_DONE_SECONDS)
            ).execute()

    def restore(self, only: list[Request] | None = None) -> list[str]:
        """Claimed but never answered (the claiming collector died, or a run was dropped):
        pending again. Call only while holding the writer lock."""
        query = ImportRequest.update(status="pending", claimed_by=None, claimed_at=None).where(
            ImportRequest.status == "claimed"
        )
        if only is not None:
            if not only:
                return []
            query = query.where(ImportRequest.request_id.in_([r.request_id for r in only]))
        with database.atomic():
            return [rid for (rid,) in query.returning(ImportRequest.request_id).tuples().execute()]

    def collectors(self, now: float | None = None) -> CollectorView:
        now = now_ts() if now is None else now
        rows = list(CollectorState.select().order_by(CollectorState.updated_at.desc()).limit(50))
        pids = [r.lock_pid for r in rows if r.lock_pid is not None]
        alive: set[int] = set()
        if pids:  # pg_stat_activity lists every session's pid to any role
            found = database.execute_sql(
                "SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,)
            ).fetchall()
            alive = {pid for (pid,) in found}
        return view_of(rows, now, alive)


def row_beat(row: CollectorState) -> dict[str, Any]:
    """The heartbeat JSON of a row, with the row's own columns (they are authoritative)."""
    try:
        beat = json.loads(row.heartbeat)
    except ValueError:
        beat = {}
    if not isinstance(beat, dict):
        beat = {}
    beat.update(
        instance=row.instance,
        host=row.host,
        pid=row.pid,
        role=row.role,
        role_since=row.since,
        updated_at=row.updated_at,
        lock_pid=row.lock_pid,
    )
    return beat


def view_of(rows: list[CollectorState], now: float, alive: set[int] | None = None) -> CollectorView:
    """The freshest active row is the collector; fresh standby rows are its standbys. With
    `alive` (the server's live session pids), a row whose lock session has ended is not
    fresh, as a freed file lock says on SQLite: a kill -9 shows at once, not after 90 s."""
    beats = [row_beat(row) for row in rows]

    def fresh(beat: dict[str, Any]) -> bool:
        if alive is not None and beat.get("lock_pid") not in alive:
            return False
        updated = beat.get("updated_at")
        return (
            isinstance(updated, int | float)
            and now - updated <= STALE_AFTER
            and beat.get("state") != "stopped"
        )

    active = next((b for b in beats if b["role"] == "active"), None)
    standby = [instance_view(b, now) for b in beats if b["role"] == "standby" and fresh(b)]
    if active is None:
        return CollectorView("never", None, None, standby)
    return CollectorView(
        "running" if fresh(active) else "stale", active, instance_view(active, now), standby
    )


UPSERT_HEARTBEAT = (
    'INSERT INTO "collector_state" ("instance", "host", "pid", "role", "since", "lock_pid", '
    '"heartbeat", "updated_at") VALUES (%s, %s, %s, %s, %s, %s, %s, %s) '
    'ON CONFLICT ("instance") DO UPDATE SET "host" = EXCLUDED."host", "pid" = EXCLUDED."pid", '
    '"role" = EXCLUDED."role", "since" = EXCLUDED."since", "lock_pid" = EXCLUDED."lock_pid", '
    '"heartbeat" = EXCLUDED."heartbeat", "updated_at" = EXCLUDED."updated_at"'
)
FORGET_COLLECTORS = 'DELETE FROM "collector_state" WHERE "updated_at" < %s AND "instance" <> %s'


def write_heartbeat_row(cursor: Any, state: dict[str, Any], lock_pid: int | None) -> None:
    """Upsert this collector's row with a DB-API cursor (the collector's lock session)."""
    updated = now_ts()
    payload = dict(state, updated_at=updated)
    cursor.execute(
        UPSERT_HEARTBEAT,
        (
            state["instance"],
            state["host"],
            state["pid"],
            state["role"],
            state["role_since"],
            lock_pid,
            json.dumps(payload),
            updated,
        ),
    )


def read_instance(cursor: Any, instance: str | None, host: str) -> dict[str, Any] | None:
    """One collector's heartbeat (by instance id, else the freshest of this host) and
    whether its lock session is still alive on the server (for the healthcheck)."""
    where, arg = ('"instance" = %s', instance) if instance else ('"host" = %s', host)
    cursor.execute(
        'SELECT "instance", "host", "pid", "role", "since", "lock_pid", "heartbeat", '
        f'"updated_at" FROM "collector_state" WHERE {where} ORDER BY "updated_at" DESC LIMIT 1',
        (arg,),
    )
    found = cursor.fetchone()
    if found is None:
        return None
    row = CollectorState(
        instance=found[0],
        host=found[1],
        pid=found[2],
        role=found[3],
        since=found[4],
        lock_pid=found[5],
        heartbeat=found[6],
        updated_at=found[7],
    )
    beat = row_beat(row)
    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (row.lock_pid,))
    beat["session_alive"] = bool(cursor.fetchone()[0])
    return beat
