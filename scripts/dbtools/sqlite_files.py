"""SQLite files on disk: opened without changing them, copied while live, installed through
SQLite's backup API, and never left owned by root."""

from __future__ import annotations

import contextlib
import gzip
import os
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from .errors import Failed, Refused

STALE_TEMP_SECONDS = 24 * 3600
SQLITE_HEADER = b"SQLite format 3\x00"


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


def gzip_to(source: Path, target: Path) -> None:
    """Compress `source` to `target` under a temporary name, then rename: a half-written file
    never looks like a backup."""
    tmp = target.with_name(f".{target.name}.tmp")
    with source.open("rb") as src, gzip.open(tmp, "wb", compresslevel=6) as dst:
        shutil.copyfileobj(src, dst, 1024 * 1024)
    os.replace(tmp, target)


def remove_if_not_sqlite(path: Path) -> bool:
    """Delete `path` and its -wal/-shm when it is not an SQLite file at all (another file
    put in its place), which SQLite's backup API cannot write into. Only for files whose
    copy was saved first. An empty file is left: SQLite takes it as an empty database."""
    with path.open("rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if not head or head == SQLITE_HEADER:
        return False
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        part.unlink(missing_ok=True)
    return True


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
