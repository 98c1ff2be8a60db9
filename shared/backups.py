"""Backup files: their names, the record each carries, and listing them.

The collector writes backups (collector.backup, also behind scripts/backup.sh); the API
lists them and serves them for download. Both read the format from here.

Each backup records how it was made (by hand or on schedule, integrity result, schema
version) in its own gzip header, in the comment field (RFC 1952 FCOMMENT): the record
cannot be separated from its file when backups are copied elsewhere, no second file sits
beside each backup, and gunzip and every gzip reader simply skip it.
"""

from __future__ import annotations

import calendar
import json
import os
import re
import struct
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# <stem>-[pre-restore-|pre-import-]YYYYMMDDTHHMMSSZ[-N].db.gz ; the time is UTC.
NAME = re.compile(
    r"^(?P<stem>[A-Za-z0-9_.-]+?)-(?:(?P<kind>pre-restore|pre-import)-)?"
    r"(?P<stamp>\d{8}T\d{6}Z)(?:-(?P<n>\d+))?\.db\.gz$"
)
MAX_COMMENT = 4096  # bytes of header read when listing; a record is a few hundred
GZIP_ID = b"\x1f\x8b"
FNAME, FCOMMENT, FEXTRA, FHCRC = 0x08, 0x10, 0x04, 0x02
MADE_BY = ("hand", "schedule")


@dataclass(frozen=True)
class BackupFile:
    name: str
    path: Path
    size: int
    created_at: float  # from the name (UTC), so a copied file keeps its time
    kind: str  # "backup" | "pre-restore" | "pre-import" (safety copies)
    record: dict[str, Any] | None  # what the header says; None for files made before it

    @property
    def made_by(self) -> str | None:
        if self.kind != "backup":
            return self.kind
        return self.record.get("made_by") if self.record else None

    @property
    def integrity(self) -> str | None:
        return self.record.get("integrity") if self.record else None

    @property
    def schema_version(self) -> int | None:
        return self.record.get("schema_version") if self.record else None


def write_gzip(source: Path, target: Path, record: dict[str, Any], level: int = 6) -> None:
    """Compress `source` into `target` with `record` (JSON) as the header's comment. Written
    under a temporary name, then renamed: a half-written file never looks like a backup."""
    comment = json.dumps(record, separators=(",", ":"), ensure_ascii=True).encode("latin-1")
    tmp = target.with_name(f".{target.name}.tmp")
    crc, total = 0, 0
    packer = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
    try:
        with source.open("rb") as src, tmp.open("wb") as dst:
            mtime = int(source.stat().st_mtime) & 0xFFFFFFFF
            dst.write(GZIP_ID + bytes([8, FNAME | FCOMMENT]) + struct.pack("<I", mtime))
            dst.write(b"\x00\xff")  # XFL, OS unknown
            dst.write(target.name.removesuffix(".gz").encode("latin-1", "replace") + b"\x00")
            dst.write(comment.replace(b"\x00", b"") + b"\x00")
            while chunk := src.read(1024 * 1024):
                crc = zlib.crc32(chunk, crc)
                total += len(chunk)
                dst.write(packer.compress(chunk))
            dst.write(packer.flush())
            dst.write(struct.pack("<II", crc & 0xFFFFFFFF, total & 0xFFFFFFFF))
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def read_record(path: Path) -> dict[str, Any] | None:
    """The record in a backup's gzip header, or None (no comment, not gzip, unreadable)."""
    try:
        with path.open("rb") as fh:
            head = fh.read(MAX_COMMENT + 512)
    except OSError:
        return None
    if len(head) < 10 or head[:2] != GZIP_ID:
        return None
    flags, pos = head[3], 10
    if flags & FEXTRA:
        if len(head) < pos + 2:
            return None
        pos += 2 + struct.unpack("<H", head[pos : pos + 2])[0]
    if flags & FNAME:
        end = head.find(b"\x00", pos)
        if end < 0:
            return None
        pos = end + 1
    if not flags & FCOMMENT:
        return None
    end = head.find(b"\x00", pos)
    if end < 0:
        return None
    try:
        record = json.loads(head[pos:end].decode("latin-1"))
    except ValueError:
        return None
    return record if isinstance(record, dict) else None


def list_backups(directory: Path, stem: str | None = None) -> list[BackupFile]:
    """Backups in `directory`, newest first; only those of database `stem` when given.
    A missing directory has none."""
    found = []
    try:
        entries = list(os.scandir(directory))
    except (FileNotFoundError, NotADirectoryError):
        return []
    for entry in entries:
        match = NAME.match(entry.name)
        if not match or (stem is not None and match["stem"] != stem):
            continue
        try:
            if not entry.is_file(follow_symlinks=False):
                continue
            size = entry.stat().st_size
        except OSError:
            continue
        path = Path(entry.path)
        found.append(
            BackupFile(
                name=entry.name,
                path=path,
                size=size,
                created_at=_stamp_ts(match["stamp"]),
                kind=match["kind"] or "backup",
                record=read_record(path),
            )
        )
    found.sort(key=lambda b: (b.created_at, b.name), reverse=True)
    return found


def backup_path(directory: Path, name: str) -> Path | None:
    """The file `name` names in `directory`, or None: only a plain backup name (no folder
    part, no '..'), only a regular file directly inside the directory."""
    if not NAME.match(name) or "/" in name or "\\" in name or name.startswith("."):
        return None
    path = directory / name
    try:
        if path.is_symlink() or not path.is_file():
            return None
        if path.resolve().parent != directory.resolve():
            return None
    except OSError:
        return None
    return path


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def _stamp_ts(stamp: str) -> float:
    # 20261126T091500Z -> epoch seconds, UTC; a plain calendar computation, no zones.
    return float(calendar.timegm(time.strptime(stamp, "%Y%m%dT%H%M%SZ")))
