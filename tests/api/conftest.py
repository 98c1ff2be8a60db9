"""Fixtures for the API tests: databases filled by the real collector, and app clients.

Databases are built once per session: the collector runs as a subprocess
(`python -m collector once`) against the simulator, pinned to fixed instants, or
serving the real captured fixtures. Tests only read them, like the API does.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from api import create_app

from sim_process import SimProcess, control, start_simulator

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "scripts" / "kamo_fixtures" / "real-2026-01-04"
API_KEY = "test-key-0123456789"
SIM_NOW = "2026-11-26T17:12:00Z"
# Pinned simulator clocks whose 12-hour windows cover both DST days in Central time.
AUTUMN_RUNS = ("2026-11-01T16:30:00Z", "2026-11-02T04:30:00Z", "2026-11-02T07:30:00Z")
SPRING_RUNS = ("2026-03-08T17:30:00Z", "2026-03-09T05:30:00Z")


def collector_once(sim: SimProcess, data_dir: Path) -> subprocess.CompletedProcess:
    """One real collector cycle into data_dir/kamo.db; no .env or KAMO_ variables leak in."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_", "API_"))}
    env.update(
        KAMO_BASE_URL=sim.base_url,
        DATABASE_URL=f"sqlite:///{data_dir / 'kamo.db'}",
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


def _check(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="session")
def sim_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated data: two cycles, pinned 17:12Z and 17:40Z (so hours get revised too)."""
    data_dir = tmp_path_factory.mktemp("sim")
    with start_simulator("--quiet", "--now", SIM_NOW) as sim:
        _check(collector_once(sim, data_dir))
        control(sim.base_url, now="2026-11-26T17:40:00Z")
        _check(collector_once(sim, data_dir))
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
            _check(collector_once(sim, data_dir))
    return data_dir


def make_app(data_dir: Path, **config: object) -> Flask:
    settings = {
        "DATABASE_URL": f"sqlite:///{data_dir / 'kamo.db'}",
        "DATA_DIR": str(data_dir),
        "TZ": "America/Chicago",
        "API_KEY": API_KEY,
        "TESTING": True,
    }
    settings.update(config)
    return create_app(settings)


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
