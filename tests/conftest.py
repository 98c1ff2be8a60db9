"""Fixtures shared by the whole suite: temp databases, the simulator, collector runs."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db import bind, open_writer
from shared.schema import migrate

from sim_process import SimProcess, start_simulator

REPO_ROOT = Path(__file__).resolve().parent.parent
FIXTURES = REPO_ROOT / "scripts" / "kamo_fixtures" / "real-2026-01-04"


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kamo.db'}"


@pytest.fixture
def writer_db(db_url: str):
    """A migrated SQLite database bound to the models, as the collector opens it."""
    db = bind(open_writer(db_url))
    db.connect(reuse_if_open=True)
    migrate(db)
    yield db
    db.close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimProcess]:
    """One simulator per test module; tests that change its settings reset them."""
    with start_simulator("--quiet") as sim:
        yield sim


def collector_env(sim_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    """Environment for a collector subprocess; nothing leaks in from a developer's .env."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_"))}
    env.update(
        KAMO_BASE_URL=sim_url,
        DATABASE_URL=f"sqlite:///{data_dir / 'kamo.db'}",
        DATA_DIR=str(data_dir),
        KAMO_TIMEOUT_SECONDS="2",
        TZ="America/Chicago",
        PYTHONUNBUFFERED="1",
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
