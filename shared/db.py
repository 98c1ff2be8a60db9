"""Opening the database named by DATABASE_URL: a writer for the collector, readers for the API.

SQLite is the default (one file, WAL mode). The collector is its only writer; the API
opens it read-only with a `mode=ro` URI. PostgreSQL works through the same models.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, unquote, urlparse

from peewee import Database, DatabaseProxy, SqliteDatabase
from playhouse.db_url import connect as connect_url

database = DatabaseProxy()

BUSY_TIMEOUT_MS = 5000
WRITER_PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": 1,  # NORMAL: durable at checkpoints, safe in WAL mode
    "busy_timeout": BUSY_TIMEOUT_MS,
    "journal_size_limit": 16 * 1024 * 1024,
    "wal_autocheckpoint": 1000,
    "cache_size": -8000,
}
READER_PRAGMAS = {"busy_timeout": BUSY_TIMEOUT_MS, "query_only": 1, "cache_size": -16000}


def is_sqlite_url(url: str) -> bool:
    return url.lower().startswith("sqlite:")


def sqlite_path(url: str) -> Path:
    """`sqlite:///data/x.db` -> data/x.db (relative); `sqlite:////abs/x.db` -> /abs/x.db."""
    parsed = urlparse(url)
    path = unquote(parsed.path)
    if not path or path == "/":
        raise ValueError(f"{url!r} names no database file")
    return Path(path[1:] if path.startswith("/") else path)


def open_writer(url: str) -> Database:
    """The collector's connection: creates the SQLite file and its directory if needed."""
    if is_sqlite_url(url):
        path = sqlite_path(url)
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteDatabase(
            str(path), pragmas=WRITER_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False
        )
    return connect_url(url)


def open_reader(url: str) -> Database:
    """A read-only connection. On SQLite, opening a missing file fails rather than creating it."""
    if is_sqlite_url(url):
        path = sqlite_path(url).resolve()
        uri = f"file:{quote(str(path))}?mode=ro"
        return SqliteDatabase(uri, uri=True, pragmas=READER_PRAGMAS, check_same_thread=False)
    return connect_url(url)


def bind(db: Database) -> Database:
    """Point the models at `db`. WITHOUT ROWID is SQLite syntax, so it is dropped elsewhere."""
    from shared.models import WITHOUT_ROWID_MODELS

    database.initialize(db)
    for model in WITHOUT_ROWID_MODELS:
        model._meta.without_rowid = isinstance(db, SqliteDatabase)
    return db
