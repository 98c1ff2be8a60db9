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
    # 2 MB: a poll appends to the newest pages of time-keyed tables and reads the last hours,
    # so a bigger cache only fills up with old pages. With 8 MB the collector's RSS rose
    # 6 MB over its first three days (the 30-day reliability run), then stayed flat.
    "cache_size": -2000,
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
    """The collector's connection: creates the SQLite file if needed, never its directory (a
    missing directory is more likely a typo in DATABASE_URL than a wish; see collector.cli)."""
    if is_sqlite_url(url):
        path = sqlite_path(url)
        return SqliteDatabase(
            str(path), pragmas=WRITER_PRAGMAS, lock_type="IMMEDIATE", check_same_thread=False
        )
    return connect_url(url)


def open_reader(url: str) -> Database:
    """A read-only connection. On SQLite, opening a missing file fails rather than creating it.

    On PostgreSQL each session starts with `default_transaction_read_only=on`, passed as a
    startup option: the server applies it before the first statement, and it stays with the
    connection through the pool. INSERT, UPDATE, DDL, even BEGIN; INSERT, then fail with
    "cannot execute ... in a read-only transaction". That guards against mistakes, not
    against code that switches it off; a role with SELECT rights only is the hard guarantee.

    PostgreSQL readers are pooled (PooledPostgresqlDatabase): a new connection costs a TCP
    handshake, authentication and a server process, milliseconds per request, where opening
    a SQLite file costs next to nothing. A sync gunicorn worker serves one request at a
    time, so it keeps about one connection; the pool allows 4 (for threaded workers) and
    waits up to 10 s for a free one instead of failing at once. Before handing a connection
    out it checks it with a round trip, and one opened over 5 minutes ago is closed instead
    (stale_timeout), so connections to a restarted or failed-over server do not linger.
    connect_timeout bounds the wait for an unreachable server (a 503, not a hung worker);
    `application_name` names the sessions in pg_stat_activity. URL query parameters
    (sslmode=..., options=..., connect_timeout=...) still apply.
    """
    if is_sqlite_url(url):
        path = sqlite_path(url).resolve()
        uri = f"file:{quote(str(path))}?mode=ro"
        return SqliteDatabase(uri, uri=True, pragmas=READER_PRAGMAS, check_same_thread=False)
    if url.partition("://")[0].lower().startswith("postgres"):
        from playhouse.db_url import parse
        from playhouse.pool import PooledPostgresqlDatabase

        params = parse(url)
        options = str(params.pop("options", None) or "")
        params["options"] = f"{options} -c default_transaction_read_only=on".strip()
        params.setdefault("application_name", "kamo-api")
        params.setdefault("connect_timeout", 5)
        return PooledPostgresqlDatabase(max_connections=4, stale_timeout=300, timeout=10, **params)
    return connect_url(url)


def bind(db: Database) -> Database:
    """Point the models at `db`. WITHOUT ROWID is SQLite syntax, so it is dropped elsewhere."""
    from shared.models import WITHOUT_ROWID_MODELS

    database.initialize(db)
    for model in WITHOUT_ROWID_MODELS:
        model._meta.without_rowid = isinstance(db, SqliteDatabase)
    return db
