"""SQLite files for backups: opened without changing them, copied while live, checked, and
never left owned by root. Used by collector.backup and by scripts/dbtools (restore, import)."""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from shared.schema import SCHEMA_VERSION

STALE_TEMP_SECONDS = 24 * 3600
# Tables that hold collected data; a database without a row in any of them counts as empty.
DATA_TABLES = ("area", "hourly_load", "substation", "substation_reading", "import_run")


class Refused(Exception):
    """The command will not go on; the message says why and what to do."""


class BadDatabase(Refused):
    pass


class Failed(Exception):
    """Something went wrong; the message says in what state things are."""


def connect_existing(path: Path, query_only: bool = True) -> sqlite3.Connection:
    """Open an existing database without changing it.

    A normal (read-write) open, so that SQLite removes the -wal/-shm files it may create when
    the collector is not running; `query_only` keeps this connection from writing (VACUUM
    INTO needs it off, and writes only its own output file).
    """
    if not path.is_file():
        raise Refused(f"no database file at {path}")
    conn = sqlite3.connect(str(path), timeout=30.0, isolation_level=None)
    if query_only:
        conn.execute("PRAGMA query_only=1")
    return conn


@contextlib.contextmanager
def closing_owned(conn: sqlite3.Connection, path: Path) -> Iterator[sqlite3.Connection]:
    """Close `conn`, then give any -wal/-shm root left behind to the database file's owner."""
    try:
        yield conn
    finally:
        conn.close()
        match_owner([Path(f"{path}-wal"), Path(f"{path}-shm")], path)


def match_owner(paths: list[Path], reference: Path) -> None:
    """When run as root (cron on the host, `docker exec`), files we create must not end up
    owned by root, or the collector, running as its own user, could no longer write."""
    if os.geteuid() != 0:
        return
    try:
        ref = reference.stat()
    except OSError:
        return
    for path in paths:
        with contextlib.suppress(OSError):
            st = path.stat()
            if (st.st_uid, st.st_gid) != (ref.st_uid, ref.st_gid):
                os.chown(path, ref.st_uid, ref.st_gid)


def user_tables(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [name for (name,) in rows]


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a live database: VACUUM INTO runs in one read transaction, so the
    collector keeps writing (WAL) and the copy is the database as of one commit."""
    conn = connect_existing(source, query_only=False)
    with closing_owned(conn, source):
        conn.execute("VACUUM INTO ?", (str(target),))


@contextlib.contextmanager
def work_dir(near: Path, prefix: str) -> Iterator[Path]:
    """A temporary folder beside the database or the backups (same disk, so no surprise about
    free space in /tmp), removed afterwards."""
    near.mkdir(parents=True, exist_ok=True)
    for stale in near.glob(f"{prefix}*"):
        with contextlib.suppress(OSError):
            if stale.is_dir() and time.time() - stale.stat().st_mtime > STALE_TEMP_SECONDS:
                shutil.rmtree(stale)
    path = Path(tempfile.mkdtemp(prefix=prefix, dir=near))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def stamp(ts: float | None) -> str:
    if ts is None:
        return "none"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass
class DbInfo:
    schema_version: int | None
    counts: dict[str, int] = field(default_factory=dict)
    newest_reading: int | None = None
    newest_hour: int | None = None
    size: int = 0

    def has_data(self) -> bool:
        return any(self.counts.get(t, 0) for t in DATA_TABLES)

    def summary(self) -> str:
        def n(table: str) -> str:
            return f"{self.counts.get(table, 0):,}"

        parts = [
            f"schema version {self.schema_version}",
            f"readings {n('substation_reading')} (newest {stamp(self.newest_reading)})",
            f"hourly loads {n('hourly_load')} (newest {stamp(self.newest_hour)})",
            f"import runs {n('import_run')}",
        ]
        return ", ".join(parts)


def describe(conn: sqlite3.Connection) -> DbInfo:
    tables = user_tables(conn)
    version = None
    if "schema_version" in tables:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    info = DbInfo(schema_version=version)
    for table in tables:
        info.counts[table] = conn.execute(f"SELECT count(*) FROM {qident(table)}").fetchone()[0]
    if "substation_reading" in tables:
        info.newest_reading = conn.execute("SELECT max(ts) FROM substation_reading").fetchone()[0]
    if "hourly_load" in tables:
        info.newest_hour = conn.execute("SELECT max(ts) FROM hourly_load").fetchone()[0]
    return info


def check_database(path: Path) -> DbInfo:
    """Integrity and schema version of a database file we own (a copy, a backup being read)."""
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
        try:
            rows = [row[0] for row in conn.execute("PRAGMA integrity_check(100)")]
            if rows != ["ok"]:
                lines = [line for row in rows for line in row.splitlines() if "***" not in line]
                more = f" and {len(lines) - 3} more" if len(lines) > 3 else ""
                raise BadDatabase(f"integrity check failed: {'; '.join(lines[:3])}{more}")
            info = describe(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BadDatabase(f"not a readable SQLite database ({exc})") from None
    if info.schema_version is None:
        raise BadDatabase("no schema_version table: not a KAMO Load Logger database")
    if info.schema_version > SCHEMA_VERSION:
        raise BadDatabase(
            f"schema version {info.schema_version} is newer than this program knows "
            f"({SCHEMA_VERSION}): update the program first, then restore"
        )
    info.size = path.stat().st_size
    return info


def damage_in(db: Path) -> str | None:
    """What PRAGMA quick_check finds wrong in a live database, or None when it finds nothing
    or cannot tell (busy). Asked after a copy failed: SQLite reports some damage as an
    operational error ("database or disk is full"), which would otherwise read as a disk
    problem."""
    try:
        conn = connect_existing(db)
        with closing_owned(conn, db):
            rows = [row[0] for row in conn.execute("PRAGMA quick_check(3)")]
    except sqlite3.OperationalError:
        return None
    except sqlite3.DatabaseError as exc:
        return str(exc)
    return None if rows == ["ok"] else "; ".join(rows)
