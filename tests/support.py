"""Helpers shared by test modules (import from here, not from conftest: several
conftest.py files exist and only one can be the module named `conftest`)."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "scripts" / "kamo_fixtures" / "real-2026-01-04"

# The opt-out from running on both backends, for tests about SQLite itself (its file, WAL,
# backups of the file); each use says why. Other tests take `db_url`/`writer_db` as they are.
SQLITE_ONLY = pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)


def collector_env(
    sim_url: str, data_dir: Path, database_url: str | None = None, **extra: str
) -> dict[str, str]:
    """Environment for a collector subprocess; nothing leaks in from a developer's .env.
    The database is `database_url` (the `db_url` fixture), else data_dir/kamo.db."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_"))}
    env.update(
        KAMO_BASE_URL=sim_url,
        DATABASE_URL=database_url or f"sqlite:///{data_dir / 'kamo.db'}",
        DATA_DIR=str(data_dir),
        KAMO_TIMEOUT_SECONDS="2",
        TZ="America/Chicago",
        PYTHONUNBUFFERED="1",
        MANUAL_MIN_GAP_SECONDS="0",  # tests drive cycles with triggers; the limit has its own
    )
    env.update(extra)
    return env


def run_collector(
    env: dict[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess:
    """`python -m collector ARGS` in a temp working dir (so no .env is read)."""
    return subprocess.run(
        [sys.executable, "-m", "collector", *args],
        env=dict(env, PYTHONPATH=str(REPO_ROOT)),
        cwd=env["DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wait_for(predicate: Callable[[], Any], timeout: float, step: float = 0.1) -> Any:
    """Poll `predicate` until it is truthy or `timeout` seconds pass; return its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(step)
    return predicate()


def query(url: str, sql: str, *args: Any) -> list[tuple]:
    """Rows of `sql` (with `?` placeholders) from the database at `url`, on either backend,
    each in its own short connection (as another process would see them)."""
    return [tuple(row) for row in _fetch(url, sql, args)[1]]


def query_dicts(url: str, sql: str, *args: Any) -> list[dict]:
    names, rows = _fetch(url, sql, args)
    return [dict(zip(names, row, strict=True)) for row in rows]


def _fetch(url: str, sql: str, args: tuple) -> tuple[list[str], list]:
    from shared.backend import portable_sql, url_kind
    from shared.db import sqlite_path

    kind = url_kind(url)
    if kind == "sqlite":
        conn: Any = sqlite3.connect(sqlite_path(url))
    else:
        import psycopg2

        conn = psycopg2.connect(url)
    try:
        cursor = conn.cursor()
        cursor.execute(portable_sql(kind, sql), args)
        return [d[0] for d in cursor.description], cursor.fetchall()
    finally:
        conn.close()


def import_runs(url: str) -> list[dict]:
    """Every import_run row, oldest first; [] before the collector created the table."""
    from shared.backend import url_kind
    from shared.db import sqlite_path

    if url_kind(url) == "sqlite" and not sqlite_path(url).exists():
        return []
    try:
        return query_dicts(url, "select * from import_run order by id")
    except Exception as exc:  # no table yet: sqlite3.OperationalError, psycopg2 UndefinedTable
        if "import_run" in str(exc):
            return []
        raise


@contextmanager
def request_channel(url: str, data_dir: Path) -> Iterator[Any]:
    """The deployment's channel to the collector (shared.channel): trigger files and the
    heartbeat file on SQLite, the import_request and collector_state tables on PostgreSQL."""
    from shared.backend import url_kind
    from shared.channel import open_channel
    from shared.db import open_writer

    if url_kind(url) == "sqlite":
        yield open_channel(url, data_dir)
        return
    db = open_writer(url)
    db.connect()
    try:
        yield open_channel(url, data_dir, db)
    finally:
        db.close()
