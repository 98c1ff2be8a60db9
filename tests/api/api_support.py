"""Helpers for the API tests (a module with a unique name: `conftest` is ambiguous).

Databases are built once per session: the collector runs as a subprocess
(`python -m collector once`) against the simulator, pinned to fixed instants, or
serving the real captured fixtures. Tests only read them, like the API does.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from flask import Flask

from api import create_app

from sim_process import SimProcess

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


def check_ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


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
