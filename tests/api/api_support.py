"""Helpers for the API tests (a module with a unique name: `conftest` is ambiguous).

Databases are built once per session and backend (SQLite, PostgreSQL): the collector
runs as a subprocess (`python -m collector once`) against the simulator, pinned to fixed
instants, or serving the real captured fixtures. Tests only read them, like the API does.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, NamedTuple

import pytest
from flask import Flask

from api import create_app
from shared.backend import portable_sql, url_kind
from shared.db import sqlite_path

from sim_process import SimProcess

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "scripts" / "kamo_fixtures" / "real-2026-01-04"
API_KEY = "test-key-0123456789"
SIM_NOW = "2026-11-26T17:12:00Z"
# Pinned simulator clocks whose 12-hour windows cover both DST days in Central time.
AUTUMN_RUNS = ("2026-11-01T16:30:00Z", "2026-11-02T04:30:00Z", "2026-11-02T07:30:00Z")
SPRING_RUNS = ("2026-03-08T17:30:00Z", "2026-03-09T05:30:00Z")


# The opt-out from running on both backends, for API tests about SQLite deployments only
# (the trigger files in DATA_DIR); each use says why.
SQLITE_ONLY = pytest.mark.parametrize("api_backend", ["sqlite"], indirect=True)


class Store(NamedTuple):
    """A database the collector filled, and the DATA_DIR it ran with."""

    url: str
    data_dir: Path

    @property
    def kind(self) -> str:
        return url_kind(self.url)


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{data_dir / 'kamo.db'}"


def collector_once(
    sim: SimProcess, data_dir: Path, database_url: str | None = None
) -> subprocess.CompletedProcess:
    """One real collector cycle into `database_url` (default data_dir/kamo.db); no .env or
    KAMO_ variables leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_", "API_"))}
    env.update(
        KAMO_BASE_URL=sim.base_url,
        DATABASE_URL=database_url or sqlite_url(data_dir),
        DATA_DIR=str(data_dir),
        TZ="America/Chicago",
        KAMO_TIMEOUT_SECONDS="5",
        PYTHONPATH=str(REPO_ROOT),
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "collector", "once"],
        env=env,
        cwd=data_dir,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done


def check_ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


def make_app(where: Path | Store, **config: object) -> Flask:
    """The API on a Store, or on data_dir/kamo.db for a bare directory."""
    store = where if isinstance(where, Store) else Store(sqlite_url(where), where)
    settings = {
        "DATABASE_URL": store.url,
        "DATA_DIR": str(store.data_dir),
        "TZ": "America/Chicago",
        "API_KEY": API_KEY,
        "TESTING": True,
    }
    settings.update(config)
    return create_app(settings)


class ReadSql:
    """Expected values straight from a Store's database: `execute(sql, params)` with `?`
    placeholders on either backend, read-only."""

    def __init__(self, store: Store) -> None:
        self.kind = store.kind
        if self.kind == "sqlite":
            path = sqlite_path(store.url)
            self.conn: Any = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        else:
            import psycopg2

            self.conn = psycopg2.connect(store.url, options="-c default_transaction_read_only=on")
            self.conn.autocommit = True

    def execute(self, sql: str, params: tuple = ()) -> Any:
        cursor = self.conn.cursor()
        cursor.execute(portable_sql(self.kind, sql), params)
        return cursor

    def close(self) -> None:
        self.conn.close()
