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
from collections.abc import Callable
from typing import Any

from peewee import Database, DatabaseProxy

from shared.channel import REQUEST_KIND, CollectorView, Request, instance_view
from shared.db import database
from shared.heartbeat import STALE_AFTER
from shared.models import CollectorState
from shared.timeutil import now_ts
from shared.triggers import REQUEST_ID, TooManyPending, new_request_id

KEEP_DONE_SECONDS = 7 * 86400  # answered requests kept this long (the import log has the run)
FORGET_COLLECTOR_SECONDS = 7 * 86400  # rows of collectors not seen for this long are removed
OPEN = ("pending", "claimed")


COLUMNS = '"instance", "host", "pid", "role", "since", "lock_pid", "heartbeat", "updated_at"'


def _ids(requests: list[Request]) -> list[str]:
    return [r.request_id for r in requests]


class TableChannel:
    """Requests and heartbeats in tables, through `db`: the collector's writer (the models'
    proxy by default) or, in the API, a callable giving the request's read-only pool."""

    def __init__(self, db: Database | Callable[[], Database] | None = None) -> None:
        self._db = db if callable(db) and not isinstance(db, Database | DatabaseProxy) else None
        self._fixed = database if db is None else db

    @property
    def db(self) -> Database:
        return self._db() if self._db is not None else self._fixed

    def _rows(self, sql: str, args: tuple = ()) -> list[tuple]:
        return list(self.db.execute_sql(sql, args).fetchall())

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
        db = self.db
        with db.atomic():
            db.execute_sql("SET TRANSACTION READ WRITE")
            row = db.execute_sql(
                'INSERT INTO "import_request" ("request_id", "kind", "requested_at", "status") '
                "SELECT %s, %s, %s, 'pending' WHERE (SELECT count(*) FROM \"import_request\" "
                "WHERE \"status\" IN ('pending', 'claimed')) < %s RETURNING \"request_id\"",
                (request_id, kind, requested_at, bound),
            ).fetchone()
        if row is None:
            raise TooManyPending(f"{limit} manual import requests are already waiting")
        return Request(request_id, kind, requested_at)

    def count_pending(self) -> int:
        return self._rows(
            "SELECT count(*) FROM \"import_request\" WHERE \"status\" IN ('pending', 'claimed')"
        )[0][0]

    def waiting(self, request_id: str) -> Request | None:
        """The request while no run or task has recorded it (pending or claimed), else None."""
        rows = self._rows(
            'SELECT "kind", "requested_at" FROM "import_request" '
            "WHERE \"request_id\" = %s AND \"status\" IN ('pending', 'claimed')",
            (request_id,),
        )
        return Request(request_id, rows[0][0], rows[0][1]) if rows else None

    def pending(self, kinds: tuple[str, ...] = (REQUEST_KIND,), limit: int = 100) -> list[Request]:
        rows = self._rows(
            'SELECT "request_id", "kind", "requested_at" FROM "import_request" '
            'WHERE "status" = \'pending\' AND "kind" = ANY(%s) '
            'ORDER BY "requested_at", "request_id" LIMIT %s',
            (list(kinds), limit),
        )
        return [Request(rid, kind, at) for rid, kind, at in rows]

    def claim(self, requests: list[Request], instance: str) -> list[Request]:
        if not requests:
            return []
        with self.db.atomic():
            taken = {
                rid
                for (rid,) in self._rows(
                    'UPDATE "import_request" SET "status" = \'claimed\', "claimed_by" = %s, '
                    '"claimed_at" = %s WHERE "request_id" = ANY(%s) AND "status" = \'pending\' '
                    'RETURNING "request_id"',
                    (instance, now_ts(), _ids(requests)),
                )
            }
        return [r for r in requests if r.request_id in taken]

    def release(self, claimed: list[Request]) -> None:
        """A run row names these requests: done. Old answered rows are pruned on the way."""
        now = now_ts()
        db = self.db
        with db.atomic():
            if claimed:
                db.execute_sql(
                    'UPDATE "import_request" SET "status" = \'done\', "done_at" = %s '
                    'WHERE "request_id" = ANY(%s)',
                    (now, _ids(claimed)),
                )
            db.execute_sql(
                'DELETE FROM "import_request" WHERE "status" = \'done\' AND "done_at" < %s',
                (now - KEEP_DONE_SECONDS,),
            )

    def restore(self, only: list[Request] | None = None) -> list[str]:
        """Claimed but never answered (the claiming collector died, or a run was dropped):
        pending again. Call only while holding the writer lock."""
        if only is not None and not only:
            return []
        sql = (
            'UPDATE "import_request" SET "status" = \'pending\', "claimed_by" = NULL, '
            '"claimed_at" = NULL WHERE "status" = \'claimed\''
        )
        args: tuple = ()
        if only is not None:
            sql += ' AND "request_id" = ANY(%s)'
            args = (_ids(only),)
        with self.db.atomic():
            return [rid for (rid,) in self._rows(sql + ' RETURNING "request_id"', args)]

    def collectors(self, now: float | None = None) -> CollectorView:
        now = now_ts() if now is None else now
        rows = [
            _state_row(found)
            for found in self._rows(
                f'SELECT {COLUMNS} FROM "collector_state" ORDER BY "updated_at" DESC LIMIT 50'
            )
        ]
        pids = [r.lock_pid for r in rows if r.lock_pid is not None]
        alive: set[int] = set()
        if pids:  # pg_stat_activity lists every session's pid to any role
            found = self._rows("SELECT pid FROM pg_stat_activity WHERE pid = ANY(%s)", (pids,))
            alive = {pid for (pid,) in found}
        return view_of(rows, now, alive)


def _state_row(found: tuple) -> CollectorState:
    """A collector_state row as an (unsaved) model instance: just a holder of its values."""
    return CollectorState(**dict(zip(COLUMNS.replace('"', "").split(", "), found, strict=True)))


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
        f'SELECT {COLUMNS} FROM "collector_state" WHERE {where} ORDER BY "updated_at" DESC LIMIT 1',
        (arg,),
    )
    found = cursor.fetchone()
    if found is None:
        return None
    row = _state_row(found)
    beat = row_beat(row)
    cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s", (row.lock_pid,))
    beat["session_alive"] = bool(cursor.fetchone()[0])
    return beat
