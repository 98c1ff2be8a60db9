"""Fixtures for the API tests: databases filled by the real collector, and app clients.

Databases are built once per session; tests only read them, like the API does.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from api_support import (
    AUTUMN_RUNS,
    FIXTURES,
    SIM_NOW,
    SPRING_RUNS,
    check_ok,
    collector_once,
    make_app,
)
from flask import Flask
from flask.testing import FlaskClient

from sim_process import control, start_simulator


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated data: two cycles, pinned 17:12Z and 17:40Z (so hours get revised too)."""
    data_dir = tmp_path_factory.mktemp("sim")
    with start_simulator("--quiet", "--now", SIM_NOW) as sim:
        check_ok(collector_once(sim, data_dir))
        control(sim.base_url, now="2026-11-26T17:40:00Z")
        check_ok(collector_once(sim, data_dir))
    return data_dir


@pytest.fixture(scope="session")
def fixture_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real capture of 2026-01-04: areas 1-9 answer, 10-20 are 404 (a partial run)."""
    data_dir = tmp_path_factory.mktemp("real")
    with start_simulator("--quiet", "--fixtures", str(FIXTURES)) as sim:
        done = collector_once(sim, data_dir)
    assert done.returncode == 0, done.stdout + done.stderr  # partial still exits 0
    return data_dir


@pytest.fixture(scope="session")
def dst_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    data_dir = tmp_path_factory.mktemp("dst")
    with start_simulator("--quiet", "--now", AUTUMN_RUNS[0]) as sim:
        for now in AUTUMN_RUNS + SPRING_RUNS:
            control(sim.base_url, now=now)
            check_ok(collector_once(sim, data_dir))
    return data_dir


@pytest.fixture(scope="session")
def app(sim_dir: Path) -> Flask:
    return make_app(sim_dir)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture(scope="session")
def real_client(fixture_dir: Path) -> FlaskClient:
    return make_app(fixture_dir).test_client()


@pytest.fixture(scope="session")
def dst_client(dst_dir: Path) -> FlaskClient:
    return make_app(dst_dir).test_client()


@pytest.fixture
def sim_sql(sim_dir: Path) -> Iterator[sqlite3.Connection]:
    """A read-only sqlite3 connection to the simulated database, for expected values."""
    conn = sqlite3.connect(f"file:{sim_dir / 'kamo.db'}?mode=ro", uri=True)
    yield conn
    conn.close()
