"""SQLite files on disk for restore and import: installed through SQLite's backup API, and
never left owned by root. Opening and copying live files is collector.backup_files."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

from collector.backup_files import match_owner

from .errors import Failed

SQLITE_HEADER = b"SQLite format 3\x00"


def remove_if_not_sqlite(path: Path) -> bool:
    """Delete `path` and its -wal/-shm when it is not an SQLite file at all (another file
    put in its place), which SQLite's backup API cannot write into. Only for files whose
    copy was saved first. An empty file is left: SQLite takes it as an empty database."""
    with path.open("rb") as f:
        head = f.read(len(SQLITE_HEADER))
    if not head or head == SQLITE_HEADER:
        return False
    remove_database_files(path)
    return True


def remove_database_files(path: Path) -> None:
    """The database file and its -wal/-shm. Only for files whose copy was saved first."""
    for part in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        part.unlink(missing_ok=True)


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
