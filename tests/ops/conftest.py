"""Fixtures for the ops tests: a simulator, a live collector daemon, a finished database."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from .helpers import Collector, app_env
from sim_process import SimProcess, start_simulator


@pytest.fixture(scope="session")
def ops_simulator() -> Iterator[SimProcess]:
    """The KAMO simulator; a little latency makes each cycle's fetch phase last a while, so a
    reader polling the database sees every state the collector commits."""
    with start_simulator("--quiet", "--latency-ms", "20") as sim:
        yield sim


@pytest.fixture(scope="session")
def sample_db(ops_simulator: SimProcess, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database written by two real `collector once` runs; copy it before changing it."""
    data = tmp_path_factory.mktemp("sample") / "data"
    data.mkdir()
    db = data / "kamo_load.db"
    env = app_env(data, db, KAMO_BASE_URL=ops_simulator.base_url)
    for _ in range(2):
        done = subprocess.run(
            [sys.executable, "-m", "collector", "once"],
            env=env,
            cwd=data.parent,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 0, done.stdout + done.stderr
    assert not Path(f"{db}-wal").exists()  # closed cleanly: the file alone is the database
    return db


@pytest.fixture
def copy_of_sample(sample_db: Path, tmp_path: Path) -> Path:
    """A private copy of the sample database in tmp_path/data/kamo_load.db."""
    data = tmp_path / "data"
    data.mkdir()
    target = data / "kamo_load.db"
    shutil.copyfile(sample_db, target)
    return target


@pytest.fixture(scope="module")
def live_collector(
    ops_simulator: SimProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Collector]:
    """A collector daemon (hourly; tests trigger its cycles) writing its own data directory."""
    data = tmp_path_factory.mktemp("live") / "data"
    data.mkdir()
    collector = Collector(data, ops_simulator.base_url)
    try:
        collector.wait_started()
        yield collector
    finally:
        code = collector.stop()
    assert code == 0, f"collector exit {code}:\n{collector.log_text()}"
