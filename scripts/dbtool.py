"""Backup, restore and SQL export/import of the KAMO Load Logger database.

The shell scripts beside this file (backup.sh, restore.sh, migrate.sh) call it; it can also be
run directly: `python scripts/dbtool.py backup|restore|export|import ...`.

Which database: the scripts find it the way the collector and the API do, with one rule for a
missing DATABASE_URL:

* DATA_DIR comes from the first argument of backup.sh when given, else from the environment,
  else from `.env` in the current directory, else `data`.
* The database is the file DATABASE_URL names (environment first, then `.env`); relative paths
  count from the current directory, as for the processes.
* When DATABASE_URL is set nowhere, the database is DATA_DIR/kamo_load.db.

Every command prints what it found and what it did. Exit status: 0 done, 1 refused or failed
(nothing was changed unless the output says so), 2 wrong usage or configuration.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import math
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from dotenv import dotenv_values  # noqa: E402

from collector.lock import LockHeld, lock_is_held, writer_lock  # noqa: E402
from shared.config import ConfigError, Settings, load_settings  # noqa: E402
from shared.db import is_sqlite_url, sqlite_path  # noqa: E402
from shared.heartbeat import STALE_AFTER, collector_state  # noqa: E402
from shared.schema import SCHEMA_VERSION  # noqa: E402

DEFAULT_DB_NAME = "kamo_load.db"
DUMP_MAGIC = "-- KAMO Load Logger SQL dump"
DUMP_FORMAT = 1
INSERT_BATCH = 500
GZIP_MAGIC = b"\x1f\x8b"
SQLITE_MAGIC = b"SQLite format 3\x00"
# Tables that hold collected data; a database without a row in any of them counts as empty.
DATA_TABLES = ("area", "hourly_load", "substation", "substation_reading", "import_run")
STALE_TEMP_SECONDS = 24 * 3600


class Refused(Exception):
    """The command will not go on; the message says why and what to do."""


class BadDatabase(Refused):
    pass


class Failed(Exception):
    """Something went wrong; the message says in what state things are."""


# --- where things are ------------------------------------------------------------------------


@dataclass
class Location:
    settings: Settings
    database_url: str
    db_path: Path | None  # None when DATABASE_URL is not SQLite
    source: str  # how the database was found, for the output

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def backup_dir(self) -> Path:
        return self.settings.backup_dir


def locate(data_dir: str | None = None) -> Location:
    environ = dict(os.environ)
    if data_dir:
        environ["DATA_DIR"] = data_dir
    settings = load_settings(environ)
    explicit = (os.environ.get("DATABASE_URL") or "").strip()
    if not explicit and Path(".env").is_file():
        explicit = (dotenv_values(".env").get("DATABASE_URL") or "").strip()
    if explicit:
        url, source = settings.database_url, "DATABASE_URL"
    else:
        path = settings.data_dir / DEFAULT_DB_NAME
        url, source = f"sqlite:///{path}", f"DATA_DIR/{DEFAULT_DB_NAME}; DATABASE_URL is not set"
    db_path = sqlite_path(url) if is_sqlite_url(url) else None
    return Location(settings, url, db_path, source)


def require_sqlite(loc: Location, what: str) -> Path:
    if loc.db_path is None:
        raise Refused(
            f"DATABASE_URL is not SQLite ({redact(loc.database_url)}): {what} works on the SQLite "
            "file only; for PostgreSQL use pg_dump/pg_restore, or migrate.sh export/import"
        )
    return loc.db_path


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def say(command: str, message: str) -> None:
    print(f"{command}: {message}", flush=True)


# --- SQLite helpers --------------------------------------------------------------------------


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


def stamp(ts: float | None) -> str:
    if ts is None:
        return "none"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


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


def snapshot(source: Path, target: Path) -> None:
    """A consistent copy of a live database: VACUUM INTO runs in one read transaction, so the
    collector keeps writing (WAL) and the copy is the database as of one commit."""
    conn = connect_existing(source, query_only=False)
    with closing_owned(conn, source):
        conn.execute("VACUUM INTO ?", (str(target),))


def gzip_to(source: Path, target: Path) -> None:
    """Compress `source` to `target` under a temporary name, then rename: a half-written file
    never looks like a backup."""
    tmp = target.with_name(f".{target.name}.tmp")
    with source.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    os.replace(tmp, target)


def install_or_explain(candidate: Path, target: Path) -> None:
    try:
        install(candidate, target)
    except sqlite3.Error as exc:
        raise Failed(
            f"SQLite could not write {target} ({exc}); it rolls such a copy back, so the "
            "database should be as it was: check it with `sqlite3 FILE 'PRAGMA integrity_check'`"
        ) from None


def install(candidate: Path, target: Path) -> None:
    """Copy `candidate` into the live file through SQLite's backup API.

    SQLite writes the pages through its own journal, so the target's -wal and -shm stay
    consistent and a reader (the API) sees either the old or the new database, never a mix.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    existed = target.exists()
    src = sqlite3.connect(str(candidate), isolation_level=None)
    dst = sqlite3.connect(str(target), timeout=30, isolation_level=None)
    try:
        src_page = src.execute("PRAGMA page_size").fetchone()[0]
        dst_page = dst.execute("PRAGMA page_size").fetchone()[0]
        mode = dst.execute("PRAGMA journal_mode").fetchone()[0]
        if mode == "wal" and src_page != dst_page:
            # WAL cannot change the page size; leave WAL for the copy, the collector re-enables it.
            dst.execute("PRAGMA journal_mode=DELETE")
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=WAL")
        dst.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        src.close()
        dst.close()
    owner_ref = target if existed else target.parent
    match_owner([target, Path(f"{target}-wal"), Path(f"{target}-shm")], owner_ref)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def backup_name(stem: str, when: dt.datetime, kind: str = "") -> str:
    return f"{stem}-{kind}{when:%Y%m%dT%H%M%SZ}"


def unique_path(directory: Path, base: str, suffix: str) -> Path:
    """base+suffix, or base-N+suffix with N above any taken so far: a later backup in the
    same second always sorts after the earlier ones, even if rotation deleted those."""
    taken = re.compile(rf"^{re.escape(base)}(?:-(\d+))?{re.escape(suffix)}$")
    numbers = [int(m[1] or 0) for p in directory.iterdir() if (m := taken.match(p.name))]
    if not numbers:
        return directory / f"{base}{suffix}"
    return directory / f"{base}-{max(numbers) + 1}{suffix}"


def scratch_near(db: Path | None) -> Path:
    """Where to unpack a candidate: beside the database when its folder exists (same disk),
    else the system's temp folder, so a refused restore does not even create a folder."""
    if db is not None and db.parent.is_dir():
        return db.parent
    return Path(tempfile.gettempdir())


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


# --- the collector must be stopped for restore/import -----------------------------------------


def collector_running(loc: Location, check_lock: bool = True) -> str | None:
    """Why we think the collector is running, or None. check_lock=False while we hold the
    lock ourselves (a second flock from this process would see our own)."""
    lock = loc.settings.lock_path
    held = False
    if check_lock:
        try:
            held = lock_is_held(lock)
        except PermissionError:
            held = _lock_held_readonly(lock)
    if held:
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


def _lock_held_readonly(path: Path) -> bool:
    import fcntl

    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    else:
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)


def container_path(file: Path, loc: Location) -> str:
    """FILE as the collector container sees it, when it lies in the data directory."""
    try:
        rel = file.resolve().relative_to(loc.data_dir.resolve())
    except ValueError:
        return str(file)
    return f"/data/{rel}"


def refuse_if_collector_runs(
    loc: Location, command: str, retry: str, check_lock: bool = True
) -> None:
    """`retry`: the command to run in a one-off collector container while it is stopped."""
    why = collector_running(loc, check_lock)
    if why is None:
        return
    raise Refused(
        f"the collector is running: {why}.\n"
        f"Stop it first, so that nothing writes while the database is replaced. With Docker:\n"
        f"  docker compose stop collector\n"
        f"  docker compose run --rm {retry}\n"
        f"  docker compose start collector\n"
        f"Without Docker: stop `python -m collector` (Ctrl-C in `make run`), then run {command} "
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


# --- backup -------------------------------------------------------------------------------------

BACKUP_PATTERN = r"^{stem}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.db\.gz$"


@dataclass
class Made:
    path: Path
    info: DbInfo


def make_backup(db: Path, directory: Path, kind: str = "") -> Made:
    """Snapshot, integrity check, gzip. `kind` ('pre-restore-') marks safety copies, which
    rotation leaves alone. A copy that fails its check is not kept."""
    directory.mkdir(parents=True, exist_ok=True)
    when = utc_now()
    target = unique_path(directory, backup_name(db.stem, when, kind), ".db.gz")
    with work_dir(directory, ".backup-") as tmp:
        copy = tmp / "copy.db"
        try:
            snapshot(db, copy)
            info = check_database(copy)
        except sqlite3.OperationalError as exc:  # busy, no space, cannot write: not damage
            raise Failed(f"could not copy {db} into {directory}: {exc}") from None
        except (sqlite3.DatabaseError, BadDatabase) as exc:
            raise BadDatabase(
                f"no sound copy of {db} could be made ({exc}), so the database itself is "
                "probably damaged; no backup was written and the older ones were left alone"
            ) from None
        gzip_to(copy, target)
    match_owner([directory, target], db)
    return Made(target, info)


def rotate(directory: Path, stem: str, daily: int, weekly: int, keep: Path) -> list[Path]:
    """Keep the newest backup of each of the `daily` most recent days that have one, and of
    each of the `weekly` most recent ISO weeks (UTC); delete the other regular backups.
    Safety copies (pre-restore, pre-import) and foreign files are never touched."""
    pattern = re.compile(BACKUP_PATTERN.format(stem=re.escape(stem)))
    found = []
    for path in directory.iterdir():
        match = pattern.match(path.name)
        if match and path.is_file():
            when = dt.datetime.strptime(match[1], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
            found.append((when, int(match[2] or 0), path))
    found.sort(reverse=True)
    kept: set[Path] = {keep}
    days: list[dt.date] = []
    weeks: list[tuple[int, int]] = []
    for when, _n, path in found:
        day, week = when.date(), tuple(when.isocalendar())[:2]
        if day not in days:
            days.append(day)
            if len(days) <= daily:
                kept.add(path)
        if week not in weeks:
            weeks.append(week)
            if len(weeks) <= weekly:
                kept.add(path)
    deleted = []
    for _when, _n, path in found:
        if path not in kept:
            path.unlink(missing_ok=True)
            deleted.append(path)
    return deleted


def cmd_backup(args: argparse.Namespace) -> int:
    c = "backup"
    loc = locate(args.data_dir)
    db = require_sqlite(loc, "backup.sh")
    say(c, f"database {db} ({loc.source})")
    if not db.is_file():
        raise Refused(f"no database file at {db}: has the collector run with this DATA_DIR?")
    made = make_backup(db, loc.backup_dir)
    size = made.path.stat().st_size
    say(c, f"wrote {made.path} ({human_size(size)}; the copy was {human_size(made.info.size)})")
    say(c, f"integrity ok, {made.info.summary()}")
    s = loc.settings
    deleted = rotate(loc.backup_dir, db.stem, s.backup_keep_daily, s.backup_keep_weekly, made.path)
    policy = f"{s.backup_keep_daily} daily and {s.backup_keep_weekly} weekly"
    if deleted:
        names = ", ".join(p.name for p in deleted)
        say(c, f"rotation (keeps {policy}): deleted {len(deleted)}: {names}")
    else:
        say(c, f"rotation (keeps {policy}): nothing to delete")
    return 0


# --- restore ------------------------------------------------------------------------------------


def unpack(source: Path, target: Path) -> str:
    """Put the backup at `target` as a plain database; returns what it was."""
    try:
        with source.open("rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise Refused(f"cannot read {source}: {exc.strerror}") from None
    if head.startswith(GZIP_MAGIC):
        try:
            with gzip.open(source, "rb") as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, 1024 * 1024)
        except (OSError, EOFError, zlib.error) as exc:
            raise BadDatabase(f"{source} is a damaged gzip file ({exc})") from None
        return "gzip-compressed database"
    if head != SQLITE_MAGIC:
        raise BadDatabase(f"{source} is neither a gzip file nor an SQLite database")
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        # Committed changes may still sit in the -wal beside a copied database: keep them.
        shutil.copyfile(wal, Path(f"{target}-wal"))
        return "SQLite database with its -wal file"
    return "SQLite database"


def safety_copy(db: Path, directory: Path, kind: str) -> str:
    """Save the current database before it is replaced. Returns a line for the output.

    A sound database is saved like a backup. A damaged one is saved as its raw files (the
    collector is stopped and we hold its lock, so they do not move): a copy made through
    SQLite could silently leave out what it cannot read."""
    try:
        made = make_backup(db, directory, kind=kind)
        return f"saved the current database as {made.path}"
    except (sqlite3.DatabaseError, BadDatabase) as exc:
        reason = str(exc)
    directory.mkdir(parents=True, exist_ok=True)
    folder = unique_path(directory, backup_name(db.stem, utc_now(), kind), "")
    folder.mkdir(parents=True)
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists():
            shutil.copy2(path, folder / path.name)
    match_owner([folder, *folder.iterdir()], db)
    return f"saved the current files as they were in {folder} (a checked copy failed: {reason})"


def save_current(db: Path, directory: Path, kind: str) -> str:
    try:
        return safety_copy(db, directory, kind)
    except (Failed, OSError) as exc:
        raise Refused(f"the current database could not be saved first: {exc}") from None


def current_state(db: Path) -> tuple[bool, str]:
    """(exists, a line about it). A damaged database is described, not fatal."""
    if not db.is_file():
        return False, "does not exist yet: it will be created"
    try:
        conn = connect_existing(db)
        with closing_owned(conn, db):
            return True, describe(conn).summary()
    except sqlite3.DatabaseError as exc:
        return True, f"cannot be read ({exc}): it will be replaced, after a copy of its files"


def release_lock_file(loc: Location) -> None:
    match_owner([loc.settings.lock_path], loc.data_dir)


def cmd_restore(args: argparse.Namespace) -> int:
    c = "restore"
    loc = locate(None)
    db = require_sqlite(loc, "restore.sh")
    source = Path(args.file)
    if not source.is_file():
        raise Refused(f"no file {source}")
    retry = f"collector /app/scripts/restore.sh {container_path(source, loc)}"
    refuse_if_collector_runs(loc, "restore.sh", retry)
    say(c, f"backup   {source}")
    with work_dir(scratch_near(db), ".restore-") as tmp:
        candidate = tmp / "candidate.db"
        try:
            what = unpack(source, candidate)
            info = check_database(candidate)
        except BadDatabase as exc:
            raise BadDatabase(f"{exc}.\nThis file cannot be restored; try another backup") from None
        say(c, f"         {what}, integrity ok, {info.summary()}")
        if info.schema_version < SCHEMA_VERSION:
            say(
                c,
                f"         (older schema than this program's {SCHEMA_VERSION}: the collector "
                "upgrades it when it starts)",
            )
        exists, line = current_state(db)
        say(c, f"database {db} ({loc.source}): {line}")
        confirm(f"Replace the database {db} with this backup?", args.yes)
        try:
            with writer_lock(loc.settings.lock_path):
                # Checked again under the lock: a collector may have started meanwhile.
                refuse_if_collector_runs(loc, "restore.sh", retry, check_lock=False)
                if exists:
                    say(c, save_current(db, loc.backup_dir, "pre-restore-"))
                install_or_explain(candidate, db)
        except LockHeld as exc:
            raise Refused(f"the collector started meanwhile ({exc})") from None
        finally:
            release_lock_file(loc)
    conn = connect_existing(db)
    with closing_owned(conn, db):
        restored = describe(conn)
    if restored.counts != info.counts:
        raise Failed(
            f"{db} was replaced but does not match the backup ({restored.counts} against "
            f"{info.counts}); the previous database is in {loc.backup_dir}"
        )
    say(c, f"restored {db} from {source.name}: {restored.summary()}")
    say(c, "done; start the collector again (docker compose start collector)")
    return 0


# --- SQL export / import -----------------------------------------------------------------------


def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "X'" + bytes(value).hex() + "'"
    return "'" + str(value).replace("'", "''") + "'"


def write_inserts(out, table: str, columns: list[str], rows) -> int:
    head = f"INSERT INTO {qident(table)} ({', '.join(qident(c) for c in columns)}) VALUES\n"
    count = 0
    batch: list[str] = []
    for row in rows:
        batch.append("(" + ", ".join(sql_literal(v) for v in row) + ")")
        count += 1
        if len(batch) >= INSERT_BATCH:
            out.write(head + ",\n".join(batch) + ";\n")
            batch = []
    if batch:
        out.write(head + ",\n".join(batch) + ";\n")
    return count


def _sqlite_schema(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """(CREATE TABLE statements, the other statements: indexes, views, triggers)."""
    tables, others = [], []
    rows = conn.execute(
        "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name"
    )
    for kind, sql in rows:
        (tables if kind == "table" else others).append(sql + ";")
    return tables, others


def _program_sqlite_schema() -> tuple[list[str], list[str], list[str]]:
    """(tables, other statements, table names) of the SQLite schema this program creates;
    used when exporting from PostgreSQL."""
    from peewee import SqliteDatabase

    from shared.db import bind
    from shared.schema import migrate

    db = bind(SqliteDatabase(":memory:"))
    migrate(db)
    conn = db.connection()
    tables, others = _sqlite_schema(conn)
    names = user_tables(conn)
    db.close()
    return tables, others, names


def _dump_header(out, version: int, source: str, counts: dict[str, int]) -> None:
    out.write(f"{DUMP_MAGIC} (scripts/migrate.sh export)\n")
    out.write(f"-- format: {DUMP_FORMAT}\n-- schema_version: {version}\n")
    out.write(f"-- exported_at: {utc_now():%Y-%m-%dT%H:%M:%SZ}\n-- source: {source}\n")
    out.write("-- rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()) + "\n")
    out.write(
        "-- Load with: scripts/migrate.sh import < dump.sql  (or: sqlite3 new.db < dump.sql)\n"
    )
    out.write("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")


def export_sqlite(db: Path, out) -> tuple[int, dict[str, int]]:
    conn = connect_existing(db)
    with closing_owned(conn, db):
        conn.execute("BEGIN")  # one read transaction: the dump is one consistent state
        info = describe(conn)
        if info.schema_version is None:
            raise Refused(f"{db} has no schema_version table: not a KAMO Load Logger database")
        tables, others = _sqlite_schema(conn)
        _dump_header(out, info.schema_version, f"sqlite ({db.name})", info.counts)
        for sql in tables:
            out.write(sql + "\n")
        for table in user_tables(conn):
            cur = conn.execute(f"SELECT * FROM {qident(table)}")
            columns = [d[0] for d in cur.description]
            write_inserts(out, table, columns, cur)
        for sql in others:
            out.write(sql + "\n")
        out.write("COMMIT;\n")
        conn.execute("COMMIT")
    return info.schema_version, info.counts


def _pg_primary_keys(cur, table: str) -> list[str]:
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)",
        (qident(table),),
    )
    return [r[0] for r in cur.fetchall()]


def export_postgres(url: str, out) -> tuple[int, dict[str, int]]:
    from playhouse.db_url import connect as connect_url

    tables, others, names = _program_sqlite_schema()
    pg = connect_url(url)
    conn = pg.connection()
    # One REPEATABLE READ transaction: every table is read from the same snapshot.
    conn.autocommit = False
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    cur = conn.cursor()
    cur.execute("SELECT max(version) FROM schema_version")
    version = cur.fetchone()[0]
    if version != SCHEMA_VERSION:
        raise Refused(
            f"the PostgreSQL schema is version {version}; this program exports version "
            f"{SCHEMA_VERSION} only: upgrade it by starting the collector first"
        )
    counts = {}
    for table in names:
        cur.execute(f"SELECT count(*) FROM {qident(table)}")
        counts[table] = cur.fetchone()[0]
    _dump_header(out, version, "postgresql", counts)
    for sql in tables:
        out.write(sql + "\n")
    for table in names:
        order = ", ".join(qident(k) for k in _pg_primary_keys(cur, table)) or "1"
        named = conn.cursor(name=f"dump_{table}")  # server-side cursor: big tables stream
        named.itersize = 5000
        named.execute(f"SELECT * FROM {qident(table)} ORDER BY {order}")
        first = named.fetchmany(1)
        columns = [d[0] for d in named.description]
        write_inserts(out, table, columns, _chain(first, named))
        named.close()
    for sql in others:
        out.write(sql + "\n")
    out.write("COMMIT;\n")
    conn.rollback()
    pg.close()
    return version, counts


def _chain(first, rest):
    yield from first
    yield from rest


def cmd_export(args: argparse.Namespace) -> int:
    c = "export"
    loc = locate(None)
    out = sys.stdout
    if out.isatty():
        raise Refused("the dump goes to standard output: scripts/migrate.sh export > dump.sql")
    if loc.db_path is not None:
        print(f"{c}: database {loc.db_path} ({loc.source})", file=sys.stderr)
        version, counts = export_sqlite(loc.db_path, out)
    else:
        print(f"{c}: database {redact(loc.database_url)}", file=sys.stderr)
        version, counts = export_postgres(loc.database_url, out)
    out.flush()
    rows = ", ".join(f"{t} {n:,}" for t, n in counts.items())
    print(f"{c}: wrote schema version {version} and {rows}", file=sys.stderr)
    return 0


def load_dump(stream, target: Path) -> None:
    """Run the SQL from `stream` into a new SQLite file, statement by statement."""
    conn = sqlite3.connect(str(target), isolation_level=None)
    try:
        buffer = ""
        first = True
        for line in stream:
            if first:
                first = False
                if not line.startswith(DUMP_MAGIC):
                    raise Refused(
                        "standard input does not start like a dump from migrate.sh export "
                        f"({DUMP_MAGIC!r})"
                    )
            buffer += line
            # Statements end a line with ';' (checking only there keeps long INSERTs linear).
            if line.rstrip().endswith(";") and sqlite3.complete_statement(buffer):
                conn.execute(buffer)
                buffer = ""
        if first:
            raise Refused("standard input is empty: scripts/migrate.sh import < dump.sql")
        if buffer.strip():
            raise Refused("the dump ends in the middle of a statement (cut short?)")
        if conn.in_transaction:
            raise Refused("the dump has no final COMMIT (cut short?)")
    except sqlite3.DatabaseError as exc:
        raise BadDatabase(f"the dump does not load: {exc}") from None
    finally:
        conn.close()


def import_postgres(candidate: Path, url: str, info: DbInfo, force: bool) -> dict[str, int]:
    from playhouse.db_url import connect as connect_url

    from shared.db import bind
    from shared.schema import migrate

    if info.schema_version != SCHEMA_VERSION:
        raise Refused(
            f"the dump has schema version {info.schema_version}; PostgreSQL takes version "
            f"{SCHEMA_VERSION} only: import it into SQLite, run the collector once, export again"
        )
    pg = bind(connect_url(url))
    pg.connect(reuse_if_open=True)
    existing = {t for t in pg.get_tables()}
    rows_there = {
        t: pg.execute_sql(f"SELECT count(*) FROM {qident(t)}").fetchone()[0]
        for t in DATA_TABLES
        if t in existing
    }
    if any(rows_there.values()) and not force:
        raise Refused(_not_empty(rows_there))
    src = sqlite3.connect(str(candidate))
    counts = {}
    try:
        with pg.atomic():
            migrate(pg)
            for table in user_tables(src):
                pg.execute_sql(f"DELETE FROM {qident(table)}")
                types = dict(
                    pg.execute_sql(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s",
                        (table,),
                    ).fetchall()
                )
                cur = src.execute(f"SELECT * FROM {qident(table)}")
                columns = [d[0] for d in cur.description]
                booleans = [types.get(col) == "boolean" for col in columns]
                sql = (
                    f"INSERT INTO {qident(table)} ({', '.join(qident(c) for c in columns)}) "
                    f"VALUES ({', '.join(['%s'] * len(columns))})"
                )
                n = 0
                while batch := cur.fetchmany(2000):
                    rows = [
                        tuple(
                            bool(v) if b and v is not None else v
                            for v, b in zip(r, booleans, strict=True)
                        )
                        for r in batch
                    ]
                    pg.cursor().executemany(sql, rows)
                    n += len(rows)
                counts[table] = n
                serial = pg.execute_sql(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND table_name = %s AND column_default LIKE 'nextval%%'",
                    (table,),
                ).fetchall()
                for (col,) in serial:
                    pg.execute_sql(
                        f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                        f"coalesce(max({qident(col)}), 0) + 1, false) FROM {qident(table)}",
                        (table, col),
                    )
    finally:
        src.close()
        pg.close()
    return counts


def _pg_row(row: tuple, booleans: list[bool]) -> tuple:
    """SQLite keeps booleans as 0/1; PostgreSQL wants real booleans in those columns."""
    return tuple(
        bool(v) if is_bool and v is not None else v
        for v, is_bool in zip(row, booleans, strict=True)
    )


def _not_empty(counts: dict[str, int]) -> str:
    rows = ", ".join(f"{t} {n:,}" for t, n in counts.items() if n)
    return (
        f"the target database is not empty ({rows}): add --force to replace its contents "
        "(SQLite: a safety backup is made first)"
    )


def cmd_import(args: argparse.Namespace) -> int:
    c = "import"
    loc = locate(None)
    if sys.stdin.isatty():
        raise Refused("the dump is read from standard input: scripts/migrate.sh import < dump.sql")
    retry = "-T collector /app/scripts/migrate.sh import < dump.sql"
    refuse_if_collector_runs(loc, "migrate.sh import", retry)
    with work_dir(scratch_near(loc.db_path), ".import-") as tmp:
        candidate = tmp / "import.db"
        load_dump(sys.stdin, candidate)
        info = check_database(candidate)
        say(c, f"dump loads, integrity ok, {info.summary()}")
        if loc.db_path is None:
            say(c, f"target {redact(loc.database_url)}")
            counts = import_postgres(candidate, loc.database_url, info, args.force)
            rows = ", ".join(f"{t} {n:,}" for t, n in counts.items())
            say(c, f"imported into PostgreSQL: {rows}")
            return 0
        db = loc.db_path
        has_data = False
        if db.is_file():
            try:
                conn = connect_existing(db)
                with closing_owned(conn, db):
                    current = describe(conn)
                has_data = current.has_data()
                if has_data and not args.force:
                    raise Refused(_not_empty({t: current.counts.get(t, 0) for t in DATA_TABLES}))
            except sqlite3.DatabaseError as exc:
                has_data = True
                if not args.force:
                    raise Refused(
                        f"{db} exists but cannot be read ({exc}): --force replaces it"
                    ) from None
        say(c, f"target {db} ({loc.source})" + (" has data" if has_data else ""))
        try:
            with writer_lock(loc.settings.lock_path):
                refuse_if_collector_runs(loc, "migrate.sh import", retry, check_lock=False)
                if has_data:
                    say(c, save_current(db, loc.backup_dir, "pre-import-"))
                install_or_explain(candidate, db)
        except LockHeld as exc:
            raise Refused(f"the collector started meanwhile ({exc})") from None
        finally:
            release_lock_file(loc)
    conn = connect_existing(db)
    with closing_owned(conn, db):
        done = describe(conn)
    say(c, f"imported into {db}: {done.summary()}")
    return 0


# --- command line -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="dbtool.py", description="Backup, restore, export and import the database."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("backup", help="consistent, checked, compressed backup with rotation")
    p.add_argument("data_dir", nargs="?", help="data directory (overrides DATA_DIR)")
    p.set_defaults(func=cmd_backup)
    p = sub.add_parser("restore", help="restore a backup (.db.gz or .db) into the database")
    p.add_argument("file")
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.set_defaults(func=cmd_restore)
    p = sub.add_parser("export", help="write a portable SQL dump to standard output")
    p.set_defaults(func=cmd_export)
    p = sub.add_parser("import", help="load a dump from standard input into an empty database")
    p.add_argument("--force", action="store_true", help="replace a database that has data")
    p.set_defaults(func=cmd_import)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"{args.command}: configuration error: {exc}", file=sys.stderr)
        return 2
    except Refused as exc:
        print(f"{args.command}: refused: {exc}", file=sys.stderr)
        if args.command in ("restore", "import"):
            print(f"{args.command}: nothing was changed", file=sys.stderr)
        return 1
    except Failed as exc:
        print(f"{args.command}: failed: {exc}", file=sys.stderr)
        return 1
    except (OSError, sqlite3.Error) as exc:
        print(f"{args.command}: failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
