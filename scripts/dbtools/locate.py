"""Which database and data directory the commands work on: the ones the processes use."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from dotenv import dotenv_values

from shared.config import Settings, load_settings
from shared.db import is_sqlite_url, sqlite_path

from .errors import Refused

DEFAULT_DB_NAME = "kamo_load.db"


@dataclass
class Location:
    settings: Settings
    db_path: Path | None  # None when DATABASE_URL is not SQLite
    source: str  # how the database was found, for the output

    @property
    def database_url(self) -> str:
        return self.settings.database_url

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def backup_dir(self) -> Path:
        return self.settings.backup_dir


def locate(data_dir: str | None = None) -> Location:
    """The settings as the processes load them; `data_dir` (backup.sh's argument) wins over
    DATA_DIR. Without DATABASE_URL, load_settings already puts the database in DATA_DIR."""
    environ = dict(os.environ)
    if data_dir:
        environ["DATA_DIR"] = data_dir
    settings = load_settings(environ)
    if _database_url_is_set():
        source = "DATABASE_URL"
    else:
        source = f"DATA_DIR/{DEFAULT_DB_NAME}; DATABASE_URL is not set"
    url = settings.database_url
    db_path = sqlite_path(url) if is_sqlite_url(url) else None
    return Location(settings, db_path, source)


def _database_url_is_set() -> bool:
    # Only for the output line: load_settings does not say whether it used its default.
    explicit = (os.environ.get("DATABASE_URL") or "").strip()
    if not explicit and Path(".env").is_file():
        explicit = (dotenv_values(".env").get("DATABASE_URL") or "").strip()
    return bool(explicit)


def require_sqlite(loc: Location, what: str) -> Path:
    if loc.db_path is None:
        raise Refused(
            f"DATABASE_URL is not SQLite ({redact(loc.database_url)}): {what} works on the SQLite "
            "file only; for PostgreSQL use pg_dump/pg_restore, or migrate.sh export/import"
        )
    return loc.db_path


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@/]*@", r"//\1:***@", url)


def container_path(file: Path, loc: Location) -> str:
    """FILE as the collector container sees it, when it lies in the data directory."""
    try:
        rel = file.resolve().relative_to(loc.data_dir.resolve())
    except ValueError:
        return str(file)
    return f"/data/{rel}"
