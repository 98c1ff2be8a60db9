"""Fixtures for the API tests: databases filled by the real collector, and app clients.

Databases are built once per session and backend: `api_backend` runs every test that
reads them on SQLite and on PostgreSQL (a throwaway database the collector writes and
the app reads). Tests only read them, like the API does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
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


@pytest.fixture(scope="session")
def new_store(
    request: pytest.FixtureRequest, api_backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[str], Store]]:
    """Makes empty Stores on this session's backend; they last until the session ends."""
    # Asked for here, not inside make(): pytest ties a fixture asked for later to the asker.
    admin: Any = request.getfixturevalue("pg_admin") if api_backend == "postgresql" else None
    with ExitStack() as stack:

        def make(name: str) -> Store:
            data_dir = tmp_path_factory.mktemp(name)
            if admin is None:
                return Store(sqlite_url(data_dir), data_dir)
            # ICU collation where the server has it: names sort as most installations do.
            url = stack.enter_context(throwaway_database(admin, "kamo_api", icu=True))
            return Store(url, data_dir)

        yield make


@pytest.fixture(scope="session")
def sim_dir(new_store: Callable[[str], Store]) -> Store:
    """Simulated data: two cycles, pinned 17:12Z and 17:40Z (so hours get revised too)."""
    store = new_store("sim")
    with start_simulator("--quiet", "--now", SIM_NOW) as sim:
        check_ok(collector_once(sim, store.data_dir, store.url))
        control(sim.base_url, now="2026-11-26T17:40:00Z")
        check_ok(collector_once(sim, store.data_dir, store.url))
    return store


@pytest.fixture(scope="session")
def fixture_dir(new_store: Callable[[str], Store]) -> Store:
    """The real capture of 2026-01-04: areas 1-9 answer, 10-20 are 404 (a partial run)."""
    store = new_store("real")
    with start_simulator("--quiet", "--fixtures", str(FIXTURES)) as sim:
        done = collector_once(sim, store.data_dir, store.url)
    assert done.returncode == 0, done.stdout + done.stderr  # partial still exits 0
    return store


@pytest.fixture(scope="session")
def dst_dir(new_store: Callable[[str], Store]) -> Store:
    store = new_store("dst")
    with start_simulator("--quiet", "--now", AUTUMN_RUNS[0]) as sim:
        for now in AUTUMN_RUNS + SPRING_RUNS:
            control(sim.base_url, now=now)
            check_ok(collector_once(sim, store.data_dir, store.url))
    return store


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
