"""Fixtures for the API tests: databases filled by the real collector, and app clients.

Databases are built once per session and backend: `api_backend` runs every test that
reads them on SQLite and on PostgreSQL (a throwaway database the collector writes and
the app reads). Tests only read them, like the API does.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from api_support import (
    AUTUMN_RUNS,
    FIXTURES,
    SIM_NOW,
    SPRING_RUNS,
    ReadSql,
    Store,
    check_ok,
    collector_once,
    make_app,
    sqlite_url,
)
from flask import Flask
from flask.testing import FlaskClient

from shared.backend import KINDS

from pg_throwaway import throwaway_database
from sim_process import control, start_simulator


@pytest.fixture(scope="session", params=KINDS)
def api_backend(request: pytest.FixtureRequest) -> str:
    """One parameter for all session databases, so a test reading two of them runs twice,
    not four times."""
    return request.param


def _store(request: pytest.FixtureRequest, backend: str, name: str, stack: ExitStack) -> Store:
    data_dir = request.getfixturevalue("tmp_path_factory").mktemp(name)
    if backend == "sqlite":
        return Store(sqlite_url(data_dir), data_dir)
    admin: Any = request.getfixturevalue("pg_admin")
    # ICU collation where the server has it: ORDER BY on names as most installations sort.
    return Store(stack.enter_context(throwaway_database(admin, "kamo_api", icu=True)), data_dir)


@pytest.fixture(scope="session")
def sim_dir(request: pytest.FixtureRequest, api_backend: str) -> Iterator[Store]:
    """Simulated data: two cycles, pinned 17:12Z and 17:40Z (so hours get revised too)."""
    with ExitStack() as stack:
        store = _store(request, api_backend, "sim", stack)
        with start_simulator("--quiet", "--now", SIM_NOW) as sim:
            check_ok(collector_once(sim, store.data_dir, store.url))
            control(sim.base_url, now="2026-11-26T17:40:00Z")
            check_ok(collector_once(sim, store.data_dir, store.url))
        yield store


@pytest.fixture(scope="session")
def fixture_dir(request: pytest.FixtureRequest, api_backend: str) -> Iterator[Store]:
    """The real capture of 2026-01-04: areas 1-9 answer, 10-20 are 404 (a partial run)."""
    with ExitStack() as stack:
        store = _store(request, api_backend, "real", stack)
        with start_simulator("--quiet", "--fixtures", str(FIXTURES)) as sim:
            done = collector_once(sim, store.data_dir, store.url)
        assert done.returncode == 0, done.stdout + done.stderr  # partial still exits 0
        yield store


@pytest.fixture(scope="session")
def dst_dir(request: pytest.FixtureRequest, api_backend: str) -> Iterator[Store]:
    with ExitStack() as stack:
        store = _store(request, api_backend, "dst", stack)
        with start_simulator("--quiet", "--now", AUTUMN_RUNS[0]) as sim:
            for now in AUTUMN_RUNS + SPRING_RUNS:
                control(sim.base_url, now=now)
                check_ok(collector_once(sim, store.data_dir, store.url))
        yield store


@pytest.fixture(scope="session")
def app(sim_dir: Store) -> Flask:
    return make_app(sim_dir)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def real_client(fixture_dir: Store) -> FlaskClient:
    return make_app(fixture_dir).test_client()


@pytest.fixture(scope="session")
def dst_client(dst_dir: Store) -> FlaskClient:
    return make_app(dst_dir).test_client()


@pytest.fixture
def sim_sql(sim_dir: Store) -> Iterator[ReadSql]:
    """A read-only connection to the simulated database, for expected values."""
    conn = ReadSql(sim_dir)
    yield conn
    conn.close()
