"""backup.sh: a consistent copy of the live database (VACUUM INTO), checked, gzipped, rotated.
Also the safety copies restore and import make before they replace a database."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path

from .checks import DbInfo, check_database, damage_in
from .errors import BadDatabase, Failed, Refused
from .locate import locate, require_sqlite
from .output import human_size, say, utc_now
from .sqlite_files import gzip_to, match_owner, snapshot, work_dir

BACKUP_PATTERN = r"^{stem}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.db\.gz$"


@dataclass
class Made:
    path: Path
    info: DbInfo


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
        except sqlite3.OperationalError as exc:  # busy or no space, unless the source is damaged
            damage = damage_in(db)
            if damage is None:
                raise Failed(f"could not copy {db} into {directory}: {exc}") from None
            raise damaged(db, f"{exc}; quick_check: {damage}") from None
        except (sqlite3.DatabaseError, BadDatabase) as exc:
            raise damaged(db, str(exc)) from None
        gzip_to(copy, target)
    match_owner([directory, target], db)
    return Made(target, info)


def damaged(db: Path, reason: str) -> BadDatabase:
    return BadDatabase(
        f"no sound copy of {db} could be made ({reason}), so the database itself is "
        "probably damaged; no backup was written and the older ones were left alone"
    )


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


def save_current(db: Path, directory: Path, kind: str) -> str:
    """The safety copy before a database is replaced; a line for the output. Refused when it
    cannot be written (a full disk): then nothing is replaced."""
    try:
        return _safety_copy(db, directory, kind)
    except (Failed, OSError) as exc:
        raise Refused(f"the current database could not be saved first: {exc}") from None


def _safety_copy(db: Path, directory: Path, kind: str) -> str:
    """A sound database is saved like a backup. A damaged one is saved as its raw files (the
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


def backup_command(data_dir: str | None) -> int:
    """backup.sh [DATA_DIR]."""
    c = "backup"
    loc = locate(data_dir)
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
