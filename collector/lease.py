"""Who may poll, and where this collector's heartbeat goes.

- SQLite (`FileLease`): the DATA_DIR flock of collector.lock, taken at start and held for
  the process's life (a second collector fails at start); the heartbeat is the file.
- PostgreSQL (`PgLease`): a session-level advisory lock on a dedicated connection. Any
  number of collectors may run; the holder polls, the others stand by and try the lock
  every TAKEOVER_POLL seconds. The heartbeat row is written through the same session, so a
  fresh row means a live lock session.

  The lock ends with its session: at once when the holder's process dies (the kernel closes
  its socket), and after TCP keepalives give up when the network is lost (the server
  probes an idle peer after 5 s, then every 2 s, 3 times; tcp_user_timeout bounds unacked
  writes to 10 s). The holder checks its session every LEASE_CHECK seconds and stops
  polling as soon as a check fails; each cycle's write also checks, inside its own
  transaction, that the lock session still holds the lock, so a holder cut off from its
  lock never stores a slot the new holder polls too.
"""

from __future__ import annotations

import contextlib
import logging
import os
import secrets
import socket
import threading
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

from peewee import Database, SqliteDatabase

from collector.lock import LockHeld, writer_lock
from shared.channel import LOCK_NAMESPACE, WRITER_LOCK, uses_tables
from shared.heartbeat import write_heartbeat
from shared.pg_channel import FORGET_COLLECTOR_SECONDS, FORGET_COLLECTORS, write_heartbeat_row
from shared.timeutil import now_ts

log = logging.getLogger("collector")

TAKEOVER_POLL = 2.0  # seconds between a standby's tries for the lock
LEASE_CHECK = 2.0  # seconds between the holder's checks of its lock session
INSTANCE_FILE = "collector.id"
SESSION_OPTIONS = (
    "-c statement_timeout=5000 -c idle_in_transaction_session_timeout=10000 "
    "-c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3 "
    "-c tcp_user_timeout=10000"
)
HOLDS_LOCK = (
    "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = %s "
    "AND classid = %s AND objid = %s AND objsubid = 2 AND granted"
)


class LeaseLost(RuntimeError):
    """This collector no longer holds the writer lock: another may be polling."""


def instance_id(data_dir: Path) -> str:
    """This collector's id, kept in its own DATA_DIR (not shared) so a restart reuses its
    row; the healthcheck beside it reads the same file."""
    path = data_dir / INSTANCE_FILE
    try:
        found = path.read_text().strip()
        if found:
            return found
    except OSError:
        pass
    made = f"{socket.gethostname()[:40]}-{secrets.token_hex(3)}"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(made + "\n")
    except OSError as exc:  # a read-only data dir: a new row per start, pruned after a week
        log.warning("could not keep the collector id in %s: %s", path, exc)
    return made


class FileLease(AbstractContextManager):
    """SQLite: the DATA_DIR file lock; always held once entered."""

    shared = False  # no other collector can have polled: nothing to look up at start

    def __init__(self, lock_path: Path, heartbeat_path: Path, held: bool = False) -> None:
        """`held=True`: the caller already holds the flock (scripts that take it themselves)."""
        self.lock_path = lock_path
        self.heartbeat_path = heartbeat_path
        self._cm = writer_lock(lock_path)
        self.held = held
        self.since: float | None = now_ts() if held else None

    def __enter__(self) -> FileLease:
        self._cm.__enter__()  # raises LockHeld
        self.held, self.since = True, now_ts()
        return self

    def __exit__(self, *exc: object) -> None:
        self.held = False
        self._cm.__exit__(*exc)

    def try_acquire(self) -> bool:
        return self.held

    def holder(self) -> str:
        return f"lock {self.lock_path}"

    def verify(self, every: float = 0.0) -> bool:
        return self.held

    def release(self) -> None:
        """Kept until the process exits (the context manager lets go)."""

    def write_heartbeat(self, state: dict[str, Any]) -> None:
        write_heartbeat(self.heartbeat_path, state)

    def guard(self, db: Database) -> None:
        """Nothing to check: the flock cannot be lost while the process lives."""


class PgLease(AbstractContextManager):
    """PostgreSQL: the advisory lock on a dedicated session (see the module docstring)."""

    shared = True  # another collector may have polled: the import log says which slots

    def __init__(self, url: str, instance: str) -> None:
        scheme, _, rest = url.partition("://")
        self.dsn = f"postgresql://{rest}" if scheme.lower().startswith("postgres") else url
        self.instance = instance
        self.held = False
        self.since: float | None = None
        self.backend_pid: int | None = None
        self._conn: Any = None
        self._lock = threading.Lock()
        self._last_check = 0.0

    def __enter__(self) -> PgLease:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    # --- the session ----------------------------------------------------------------------

    def _cursor(self) -> Any:
        if self._conn is None or self._conn.closed:
            import psycopg2

            self._conn = psycopg2.connect(
                self.dsn,
                application_name="kamo-collector-lock",
                connect_timeout=5,
                keepalives=1,
                keepalives_idle=5,
                keepalives_interval=2,
                keepalives_count=3,
                tcp_user_timeout=10000,
                options=SESSION_OPTIONS,
            )
            self._conn.autocommit = True
            with self._conn.cursor() as cur:
                cur.execute("SELECT pg_backend_pid()")
                self.backend_pid = cur.fetchone()[0]
        return self._conn.cursor()

    def _drop(self) -> None:
        """Close the session; the server frees the lock with it (if it still had it)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):  # already broken: nothing to close
                conn.close()

    def _lost(self, why: str) -> None:
        if self.held:
            log.error("lost the collector lock (%s): this collector stops polling", why)
        self.held = False
        self._drop()

    # --- the lock -------------------------------------------------------------------------

    def try_acquire(self) -> bool:
        """Take the lock if it is free; False (and try again later) when held elsewhere or
        when the server cannot be reached."""
        with self._lock:
            if self.held:
                return True
            try:
                with self._cursor() as cur:
                    cur.execute(
                        "SELECT pg_try_advisory_lock(%s, %s)", (LOCK_NAMESPACE, WRITER_LOCK)
                    )
                    got = bool(cur.fetchone()[0])
            except Exception as exc:
                log.debug("lock try failed: %s", exc)
                self._drop()
                return False
            if got:
                self.held, self.since, self._last_check = True, now_ts(), now_ts()
            return got

    def verify(self, every: float = 0.0) -> bool:
        """Still the holder? A round trip on the lock session (at most once per `every`
        seconds); any failure counts as lost, and the session is closed."""
        with self._lock:
            if not self.held:
                return False
            if every and now_ts() - self._last_check < every:
                return True
            try:
                with self._cursor() as cur:
                    cur.execute(HOLDS_LOCK, (self.backend_pid, LOCK_NAMESPACE, WRITER_LOCK))
                    if not cur.fetchone()[0]:
                        self._lost("the server no longer lists it")
                        return False
            except Exception as exc:
                self._lost(f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}")
                return False
            self._last_check = now_ts()
            return True

    def release(self) -> None:
        with self._lock:
            if self.held and self._conn is not None:
                try:
                    with self._conn.cursor() as cur:
                        cur.execute(
                            "SELECT pg_advisory_unlock(%s, %s)", (LOCK_NAMESPACE, WRITER_LOCK)
                        )
                except Exception as exc:
                    log.debug("unlock failed (the session ends anyway): %s", exc)
            self.held = False
            self._drop()

    def guard(self, db: Database) -> None:
        """Inside the cycle's write transaction (on the data session): raise LeaseLost unless
        the lock session still holds the lock, so a stale holder's write rolls back."""
        if isinstance(db, SqliteDatabase):
            return
        found = db.execute_sql(
            HOLDS_LOCK, (self.backend_pid, LOCK_NAMESPACE, WRITER_LOCK)
        ).fetchone()
        if not found or not found[0]:
            self.held = False
            raise LeaseLost("this collector lost the writer lock; the standby polls now")

    # --- the heartbeat row ----------------------------------------------------------------

    def write_heartbeat(self, state: dict[str, Any]) -> None:
        """Upsert this collector's row through the lock session. A failure while holding the
        lock means the session is gone: the lock is treated as lost."""
        with self._lock:
            try:
                with self._cursor() as cur:
                    write_heartbeat_row(cur, state, self.backend_pid)
                    if state.get("role") == "active":
                        cur.execute(
                            FORGET_COLLECTORS,
                            (now_ts() - FORGET_COLLECTOR_SECONDS, state["instance"]),
                        )
            except Exception as exc:
                if self.held:
                    self.held = False
                    log.error("lost the collector lock (heartbeat failed): stop polling")
                self._drop()
                raise OSError(f"heartbeat row not written: {str(exc).strip()[:200]}") from exc

    def holder(self) -> str:
        """Who holds the lock, for `once`'s message."""
        try:
            with self._lock, self._cursor() as cur:
                cur.execute(
                    'SELECT s."host", s."pid" FROM pg_locks l JOIN "collector_state" s '
                    "ON s.\"lock_pid\" = l.pid WHERE l.locktype = 'advisory' AND l.classid = %s "
                    "AND l.objid = %s AND l.objsubid = 2 AND l.granted",
                    (LOCK_NAMESPACE, WRITER_LOCK),
                )
                found = cur.fetchone()
        except Exception:
            found = None
        return f"pid {found[1]} on {found[0]}" if found else "another process"


def open_lease(
    database_url: str, data_dir: Path, lock_path: Path, heartbeat_path: Path
) -> FileLease | PgLease:
    """The lease for this deployment (the choice itself: shared.channel.uses_tables)."""
    if uses_tables(database_url):
        return PgLease(database_url, instance_id(data_dir))
    return FileLease(lock_path, heartbeat_path)


def identity(lease: FileLease | PgLease) -> dict[str, Any]:
    """Host, pid and instance id that go into every heartbeat."""
    instance = lease.instance if isinstance(lease, PgLease) else f"{socket.gethostname()}-file"
    return {"instance": instance, "host": socket.gethostname(), "pid": os.getpid()}


__all__ = ["FileLease", "LeaseLost", "LockHeld", "PgLease", "open_lease", "instance_id"]
