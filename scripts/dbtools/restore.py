"""restore.sh: a checked backup put in place of the live database, and the step restore and
import share: replacing the database under the collector's lock, after a safety copy."""

from __future__ import annotations

import gzip
import shutil
import sqlite3
import zlib
from pathlib import Path

from collector.backup_files import check_database, match_owner, work_dir
from collector.lock import LockHeld, writer_lock
from shared.schema import SCHEMA_VERSION

from .backup import save_current
from .checks import SoleWriter, confirm, read_info, refuse_if_collector_runs
from .errors import BadDatabase, Failed, Refused
from .locate import Location, container_path, locate, require_sqlite
from .output import say
from .sqlite_files import (
    SQLITE_HEADER,
    install_or_explain,
    remove_database_files,
    remove_if_not_sqlite,
    scratch_near,
)

GZIP_MAGIC = b"\x1f\x8b"


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
    if head != SQLITE_HEADER:
        raise BadDatabase(f"{source} is neither a gzip file nor an SQLite database")
    shutil.copyfile(source, target)
    wal = Path(f"{source}-wal")
    if wal.is_file() and wal.stat().st_size > 0:
        # Committed changes may still sit in the -wal beside a copied database: keep them.
        shutil.copyfile(wal, Path(f"{target}-wal"))
        return "SQLite database with its -wal file"
    return "SQLite database"


def current_state(db: Path) -> tuple[bool, str]:
    """(exists, a line about it). A damaged database is described, not fatal."""
    if not db.is_file():
        return False, "does not exist yet: it will be created"
    try:
        return True, read_info(db).summary()
    except sqlite3.DatabaseError as exc:
        return True, f"cannot be read ({exc}): it will be replaced, after a copy of its files"


def replace_live_database(
    loc: Location, job: SoleWriter, candidate: Path, db: Path, save_kind: str | None
) -> None:
    """Install `candidate` as `db` while holding the collector's lock, after saving the
    current database as BACKUP_DIR/<db>-<save_kind>*.db.gz (when save_kind is given)."""
    try:
        with writer_lock(loc.settings.lock_path):
            # Checked again under the lock: a collector may have started meanwhile.
            refuse_if_collector_runs(loc, job, check_lock=False)
            if save_kind:
                line, damaged = save_current(db, loc.backup_dir, save_kind)
                say(job.name, line)
                if remove_if_not_sqlite(db):
                    say(job.name, f"removed {db}: not an SQLite file, and saved above")
                elif damaged:
                    # SQLite cannot write into a file whose schema it cannot read; its files
                    # are saved, so the new database starts from a clean file.
                    remove_database_files(db)
                    say(job.name, f"removed {db}: damaged, and its files saved above")
            install_or_explain(candidate, db)
    except LockHeld as exc:
        raise Refused(f"the collector started meanwhile ({exc})") from None
    finally:
        # The lock file may be new: the collector, not root, must be able to open it later.
        match_owner([loc.settings.lock_path], loc.data_dir)


def restore_command(file: str, assume_yes: bool) -> int:
    """restore.sh FILE [--yes]."""
    c = "restore"
    loc = locate(None)
    db = require_sqlite(loc, "restore.sh")
    source = Path(file)
    if not source.is_file():
        raise Refused(f"no file {source}")
    retry = f"collector /app/scripts/restore.sh {container_path(source, loc)}"
    job = SoleWriter(c, "restore.sh", retry)
    refuse_if_collector_runs(loc, job)
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
        confirm(f"Replace the database {db} with this backup?", assume_yes)
        replace_live_database(loc, job, candidate, db, "pre-restore-" if exists else None)
    restored = read_info(db)
    if restored.counts != info.counts:
        raise Failed(
            f"{db} was replaced but does not match the backup ({restored.counts} against "
            f"{info.counts}); the previous database is in {loc.backup_dir}"
        )
    say(c, f"restored {db} from {source.name}: {restored.summary()}")
    say(c, "done; start the collector again (docker compose start collector)")
    return 0
