"""Backups of the SQLite database: the one implementation behind scripts/backup.sh, the
dashboard's "Back up now" and the collector's daily backup at BACKUP_TIME.

A consistent copy (VACUUM INTO, one read transaction, so the collector keeps writing),
PRAGMA integrity_check on the copy, gzip with a record of how it was made in the header
(shared.backups), then rotation. A copy that fails its check is not kept and nothing is
deleted.
"""

from __future__ import annotations

import datetime as dt
import re
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from collector import __version__
from collector.backup_files import (
    BadDatabase,
    DbInfo,
    Failed,
    Refused,
    check_database,
    damage_in,
    match_owner,
    snapshot,
    utc_now,
    work_dir,
)
from shared.backups import human_size, write_gzip
from shared.config import Settings
from shared.db import is_sqlite_url, sqlite_path

BACKUP_PATTERN = r"^{stem}-(\d{{8}}T\d{{6}}Z)(?:-(\d+))?\.db\.gz$"


@dataclass
class Made:
    path: Path
    info: DbInfo


@dataclass
class Report:
    """A finished backup: the file, what the copy held, what rotation deleted, and the lines
    backup.sh prints (the collector logs and records them)."""

    made: Made
    deleted: list[Path] = field(default_factory=list)
    lines: list[str] = field(default_factory=list)


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


def make_backup(db: Path, directory: Path, kind: str = "", made_by: str = "hand") -> Made:
    """Snapshot, integrity check, gzip. `kind` ('pre-restore-') marks safety copies, which
    rotation leaves alone. `made_by`: 'hand' or 'schedule', kept in the file's record."""
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
        record = {
            "made_by": made_by,
            "integrity": "ok",
            "schema_version": info.schema_version,
            "created_at": when.timestamp(),
            "database_bytes": info.size,
            "readings": info.counts.get("substation_reading", 0),
            "program": __version__,
        }
        write_gzip(copy, target, record)
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


def database_file(settings: Settings) -> Path:
    """The SQLite file to back up; Refused on PostgreSQL (pg_dump is the tool there)."""
    if not is_sqlite_url(settings.database_url):
        raise Refused(
            "the database is PostgreSQL: back it up with pg_dump (docs/postgresql.md); "
            "backups here work on the SQLite file only"
        )
    return sqlite_path(settings.database_url)


def back_up(db: Path, settings: Settings, made_by: str) -> Report:
    """One backup of `db` into BACKUP_DIR, then rotation: what every caller runs."""
    if not db.is_file():
        raise Refused(f"no database file at {db}: has the collector run with this DATA_DIR?")
    made = make_backup(db, settings.backup_dir, made_by=made_by)
    size = made.path.stat().st_size
    report = Report(made)
    report.lines.append(
        f"wrote {made.path} ({human_size(size)}; the copy was {human_size(made.info.size)})"
    )
    report.lines.append(f"integrity ok, {made.info.summary()}")
    s = settings
    report.deleted = rotate(
        s.backup_dir, db.stem, s.backup_keep_daily, s.backup_keep_weekly, made.path
    )
    policy = f"{s.backup_keep_daily} daily and {s.backup_keep_weekly} weekly"
    if report.deleted:
        names = ", ".join(p.name for p in report.deleted)
        report.lines.append(f"rotation (keeps {policy}): deleted {len(report.deleted)}: {names}")
    else:
        report.lines.append(f"rotation (keeps {policy}): nothing to delete")
    return report
