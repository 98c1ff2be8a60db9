"""How the collector and the API reach each other: files in DATA_DIR, or database tables.

This is the one place that chooses by DATABASE_URL:
- SQLite: both processes share a data directory. The heartbeat is a file
  (shared.heartbeat), manual requests are trigger files (shared.triggers), one writer at a
  time by a file lock (collector.lock).
- PostgreSQL: the processes may run on different machines with nothing shared but the
  database. Heartbeats live in `collector_state`, requests in `import_request`
  (shared.pg_channel), and an advisory lock picks the one collector that polls.

Both channels offer the same calls, and a request carries a `kind` ("import" today) so
other kinds of request can travel the same way.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from peewee import Database, SqliteDatabase

from shared import triggers
from shared.db import is_sqlite_url
from shared.heartbeat import collector_state
from shared.timeutil import now_ts

# Advisory lock keys (two int4 keys: a namespace, then which lock). Per database.
LOCK_NAMESPACE = 0x4B414D4F  # "KAMO"
WRITER_LOCK = 1  # held by the collector that polls
MIGRATION_LOCK = 2  # held while a collector migrates the schema
REQUEST_KIND = "import"


def uses_tables(url: str) -> bool:
    """True where collector and API talk through tables rather than DATA_DIR."""
    return not is_sqlite_url(url)


def serialize_migrations(db: Database) -> None:
    """Two collectors starting together on PostgreSQL migrate one after the other (the lock
    ends with the transaction). SQLite needs none: one collector holds the file lock."""
    if not isinstance(db, SqliteDatabase):
        db.execute_sql("SELECT pg_advisory_xact_lock(%s, %s)", (LOCK_NAMESPACE, MIGRATION_LOCK))


@dataclass(frozen=True)
class Request:
    """A queued request. `path` is the trigger file (file channel only)."""

    request_id: str
    kind: str = REQUEST_KIND
    requested_at: float | None = None
    path: Path | None = None


@dataclass
class CollectorView:
    """What the API and the healthcheck know about the collectors.

    `state` and `beat` as shared.heartbeat.collector_state gives them, for the active
    collector; `active` and `standby` name the instances (host, pid, since, heartbeat age).
    """

    state: str
    beat: dict[str, Any] | None
    active: dict[str, Any] | None = None
    standby: list[dict[str, Any]] = field(default_factory=list)


def instance_view(beat: dict[str, Any], now: float) -> dict[str, Any]:
    updated = beat.get("updated_at")
    return {
        "instance": beat.get("instance"),
        "host": beat.get("host"),
        "pid": beat.get("pid"),
        "role": beat.get("role") or "active",
        "since": beat.get("role_since") or beat.get("started_at"),
        "heartbeat_at": updated,
        "heartbeat_age_seconds": round(now - updated, 1)
        if isinstance(updated, int | float)
        else None,
    }


class Channel(Protocol):
    def submit(
        self, kind: str = REQUEST_KIND, request_id: str | None = None, limit: int | None = None
    ) -> Request: ...

    def count_pending(self) -> int: ...

    def waiting(self, request_id: str) -> Request | None: ...

    def pending(
        self, kinds: tuple[str, ...] = (REQUEST_KIND,), limit: int = 100
    ) -> list[Request]: ...

    def claim(self, requests: list[Request], instance: str) -> list[Request]: ...

    def release(self, claimed: list[Request]) -> None: ...

    def restore(self, only: list[Request] | None = None) -> list[str]: ...

    def collectors(self, now: float | None = None) -> CollectorView: ...


class FileChannel:
    """DATA_DIR/triggers and DATA_DIR/collector.heartbeat (the SQLite deployment)."""

    def __init__(self, data_dir: Path) -> None:
        self.directory = data_dir / "triggers"
        self.heartbeat_path = data_dir / "collector.heartbeat"

    def submit(
        self, kind: str = REQUEST_KIND, request_id: str | None = None, limit: int | None = None
    ) -> Request:
        made = triggers.write_trigger(self.directory, request_id, limit, kind=kind)
        return Request(made.request_id, kind, made.requested_at, made.path)

    def count_pending(self) -> int:
        return triggers.count_pending(self.directory)

    def waiting(self, request_id: str) -> Request | None:
        """The request while its file waits or is taken but not yet recorded, else None."""
        found = triggers.waiting_request(self.directory, request_id)
        if found is None:
            return None
        return Request(found.request_id, found.kind, found.requested_at, found.path)

    def pending(self, kinds: tuple[str, ...] = (REQUEST_KIND,), limit: int = 100) -> list[Request]:
        found = [t for t in triggers.pending_triggers(self.directory) if t.kind in kinds]
        return [Request(t.request_id, t.kind, t.requested_at, t.path) for t in found[:limit]]

    def claim(self, requests: list[Request], instance: str = "") -> list[Request]:
        taken = []
        for request in requests:
            trigger = triggers.Trigger(request.request_id, request.path, request.requested_at)
            path = triggers.claim(trigger) if request.path is not None else None
            if path is not None:
                taken.append(Request(request.request_id, request.kind, request.requested_at, path))
        return taken

    def release(self, claimed: list[Request]) -> None:
        triggers.release([r.path for r in claimed if r.path is not None])

    def restore(self, only: list[Request] | None = None) -> list[str]:
        paths = None if only is None else [r.path for r in only if r.path is not None]
        return triggers.restore_claims(self.directory, paths)

    def collectors(self, now: float | None = None) -> CollectorView:
        now = now_ts() if now is None else now
        state, beat = collector_state(self.heartbeat_path, now)
        active = instance_view(beat, now) if beat is not None else None
        return CollectorView(state, beat, active, [])


def open_channel(database_url: str, data_dir: Path, db: Any = None) -> Channel:
    """The channel for this deployment. The table channel uses `db` (a database, or a
    callable giving the request's database in the API), else the models' database."""
    if uses_tables(database_url):
        from shared.pg_channel import TableChannel

        return TableChannel(db)
    return FileChannel(data_dir)
