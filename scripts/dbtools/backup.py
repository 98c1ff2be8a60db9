"""backup.sh: collector.backup does the work (the collector's own backups run the same code).
Also the safety copies restore and import make before they replace a database."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from collector.backup import back_up, backup_name, make_backup, unique_path
from collector.backup_files import match_owner, utc_now

from .errors import BadDatabase, Failed, Refused
from .locate import locate, require_sqlite
from .output import say


def save_current(db: Path, directory: Path, kind: str) -> tuple[str, bool]:
    """The safety copy before a database is replaced: (a line for the output, whether the
    database was damaged and its raw files were saved). Refused when it cannot be written
    (a full disk): then nothing is replaced."""
    try:
        return _safety_copy(db, directory, kind)
    except (Failed, OSError) as exc:
        raise Refused(f"the current database could not be saved first: {exc}") from None


def _safety_copy(db: Path, directory: Path, kind: str) -> tuple[str, bool]:
    """A sound database is saved like a backup. A damaged one is saved as its raw files (the
    collector is stopped and we hold its lock, so they do not move): a copy made through
    SQLite could silently leave out what it cannot read."""
    try:
        made = make_backup(db, directory, kind=kind, made_by=kind.strip("-"))
        return f"saved the current database as {made.path}", False
    except (sqlite3.DatabaseError, BadDatabase) as exc:
        reason = str(exc)
    directory.mkdir(parents=True, exist_ok=True)
    folder = unique_path(directory, backup_name(db.stem, utc_now(), kind), "")
    folder.mkdir(parents=True)
    for path in (db, Path(f"{db}-wal"), Path(f"{db}-shm")):
        if path.exists():
            shutil.copy2(path, folder / path.name)
    match_owner([folder, *folder.iterdir()], db)
    return (
        f"saved the current files as they were in {folder} (a checked copy failed: {reason})",
        True,
    )


def backup_command(data_dir: str | None) -> int:
    """backup.sh [DATA_DIR]."""
    c = "backup"
    loc = locate(data_dir)
    db = require_sqlite(loc, "backup.sh")
    say(c, f"database {db} ({loc.source})")
    for line in back_up(db, loc.settings, made_by="hand").lines:
        say(c, line)
    return 0
