"""What is checked before anything changes: a database's integrity and schema version,
whether the collector is running, and the user's confirmation."""

from __future__ import annotations

import contextlib
import sqlite3
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from collector.lock import lock_is_held
from shared.heartbeat import STALE_AFTER, collector_state
from shared.schema import SCHEMA_VERSION

from .errors import BadDatabase, Refused
from .locate import Location
from .output import stamp
from .sqlite_files import closing_owned, connect_existing, qident, user_tables

# Tables that hold collected data; a database without a row in any of them counts as empty.
DATA_TABLES = ("area", "hourly_load", "substation", "substation_reading", "import_run")


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


def read_info(db: Path) -> DbInfo:
    """describe() an existing (possibly live) database without changing it."""
    conn = connect_existing(db)
    with closing_owned(conn, db):
        return describe(conn)


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


# --- the collector must be stopped for restore/import -----------------------------------------


def collector_running(loc: Location, check_lock: bool = True) -> str | None:
    """Why we think the collector is running, or None. check_lock=False while we hold the
    lock ourselves (a second flock from this process would see our own)."""
    lock = loc.settings.lock_path
    if check_lock and lock_is_held(lock):
        pid = ""
        with contextlib.suppress(OSError):
            pid = lock.read_text().strip()
        return f"it holds the writer lock {lock}" + (f" (pid {pid})" if pid else "")
    state, beat = collector_state(loc.settings.heartbeat_path)
    if state == "running" and beat is not None:
        age = time.time() - beat.get("updated_at", 0)
        return (
            f"its heartbeat {loc.settings.heartbeat_path} is {age:.0f} s old "
            f"(a heartbeat counts as stopped after {STALE_AFTER:.0f} s)"
        )
    return None


@dataclass(frozen=True)
class SoleWriter:
    """A command that replaces the database, so the collector must be stopped meanwhile."""

    name: str  # prefixes the output: "restore"
    script: str  # named in a refusal: "restore.sh"
    retry: str  # the same in a one-off collector container, while the collector is stopped


def refuse_if_collector_runs(loc: Location, job: SoleWriter, check_lock: bool = True) -> None:
    why = collector_running(loc, check_lock)
    if why is None:
        return
    raise Refused(
        f"the collector is running: {why}.\n"
        f"Stop it first, so that nothing writes while the database is replaced. With Docker:\n"
        f"  docker compose stop collector\n"
        f"  docker compose run --rm {job.retry}\n"
        f"  docker compose start collector\n"
        f"Without Docker: stop `python -m collector` (Ctrl-C in `make run`), then run {job.script} "
        f"again."
    )


def confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise Refused("no terminal to ask for confirmation: add --yes to go ahead without asking")
    try:
        answer = input(f"{question} Type 'yes' to go on: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("cancelled at the prompt")
