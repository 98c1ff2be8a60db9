"""Per-request read-only database access (connect on first use, close at teardown).

The API never writes: SQLite is opened with a `mode=ro` URI, PostgreSQL sessions are
read-only and pooled, so "close" at teardown returns the connection to the worker's pool
(shared.db.open_reader). Before a request reads, the database must exist and carry
exactly the schema version this code knows; otherwise the request answers 503 with a
message saying what to do.
"""

from __future__ import annotations

from flask import Flask, current_app, g
from peewee import Database, DatabaseError, InterfaceError, OperationalError, ProgrammingError
from playhouse.pool import MaxConnectionsExceeded

from api.errors import Unavailable
from shared.db import is_sqlite_url, open_reader, sqlite_path
from shared.schema import SCHEMA_VERSION

EXTENSION = "kamo_db"


def init_app(app: Flask) -> None:
    url = app.config["DATABASE_URL"]
    app.extensions[EXTENSION] = open_reader(url)
    app.teardown_appcontext(_close)


def _close(_exc: BaseException | None) -> None:
    db: Database | None = g.pop("db", None)
    if db is not None and not db.is_closed():
        db.close()


def database_problem(app: Flask) -> tuple[Database | None, str | None]:
    """(connected database, None) when it can serve, else (None or db, the reason)."""
    url = app.config["DATABASE_URL"]
    if is_sqlite_url(url):
        path = sqlite_path(url)
        if not path.is_file():
            return None, (
                f"database file {path} does not exist yet: start the collector "
                "(python -m collector) to create it"
            )
    db: Database = app.extensions[EXTENSION]
    try:
        db.connect(reuse_if_open=True)
        g.db = db
        version = schema_version(db)
    except MaxConnectionsExceeded:
        return None, "database busy: every pooled connection is in use, try again shortly"
    except (OperationalError, InterfaceError, DatabaseError) as exc:
        return None, f"database cannot be read: {exc}"
    if version is None:
        return db, "database has no schema yet: the collector creates it at its first start"
    if version > SCHEMA_VERSION:
        return db, (
            f"database schema is version {version}, newer than this API knows "
            f"({SCHEMA_VERSION}): upgrade the API"
        )
    if version < SCHEMA_VERSION:
        return db, (
            f"database schema is version {version}, this API needs {SCHEMA_VERSION}: "
            "upgrade in progress (the collector migrates the database at start)"
        )
    return db, None


def schema_version(db: Database) -> int | None:
    """The stored schema version; None when the schema table does not exist yet."""
    try:
        row = db.execute_sql("SELECT max(version) FROM schema_version").fetchone()
    except (OperationalError, ProgrammingError) as exc:
        if _missing_table(exc):
            return None
        raise
    return row[0] if row else None


def _missing_table(exc: Exception) -> bool:
    """SQLite says "no such table"; PostgreSQL raises SQLSTATE 42P01 (undefined_table).

    peewee keeps the driver's exception as `orig`. On PostgreSQL the failed statement ran
    in its own autocommit transaction, so the connection stays usable.
    """
    driver = getattr(exc, "orig", None) or exc.__context__
    return "no such table" in str(exc) or getattr(driver, "pgcode", None) == "42P01"


def get_db() -> Database:
    """The request's connected database, or Unavailable (503) with the reason."""
    if "db_ready" in g:
        return g.db
    db, problem = database_problem(current_app)
    if problem:
        raise Unavailable(problem)
    g.db_ready = True
    return db
