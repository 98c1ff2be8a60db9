"""Helpers for the API-on-PostgreSQL tests (a module with a unique name: `conftest` is
ambiguous in this repository).

A throwaway PostgreSQL database and a SQLite file are filled by the real collector from the
same pinned simulator runs, then the same API code serves both.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from flask import Flask

from api import create_app

from sim_process import SimProcess, control

REPO_ROOT = Path(__file__).resolve().parents[2]
PINNED_COLLECTOR = Path(__file__).with_name("pinned_collector.py")
API_KEY = "pg-test-key-0123456789"
TZ = "America/Chicago"

# Collector runs in time order, with the simulator's data clock and the collector's clock
# pinned to the same instant: both DST days in Central time (the spring one first, so the
# hourly rollup is built over it; later hours are read raw), then three polls of one
# afternoon: a success, a partial run (area 7 fails) and a failed one (every area fails).
SPRING_RUNS = ("2026-03-08T17:30:00Z", "2026-03-09T05:30:00Z")
AUTUMN_RUNS = ("2026-11-01T16:30:00Z", "2026-11-02T04:30:00Z", "2026-11-02T07:30:00Z")
RUNS: tuple[tuple[str, dict[str, Any]], ...] = (
    *((now, {}) for now in SPRING_RUNS + AUTUMN_RUNS),
    ("2026-11-26T17:12:00Z", {}),
    ("2026-11-26T17:40:00Z", {"fault": "html", "fault_areas": [7]}),
    ("2026-11-26T17:43:00Z", {"fault": "http404", "fault_areas": None}),
)
API_NOW = "2026-11-26T17:45:00Z"  # the API's clock while the endpoints are compared


class Filled(NamedTuple):
    """Both databases after RUNS, and the DATA_DIR both API instances use."""

    sqlite_url: str
    pg_url: str
    api_data_dir: Path


def epoch(instant: str) -> float:
    return datetime.fromisoformat(instant.replace("Z", "+00:00")).timestamp()


def pin_simulator(sim: SimProcess, instant: str, **settings: Any) -> None:
    """Serve data as of `instant`, with a Date header close to it too (the simulator's
    Date is real time plus a skew), so the pinned collector sees no clock warning."""
    control(
        sim.base_url,
        now=instant,
        date_skew_seconds=epoch(instant) - time.time(),
        fault=settings.get("fault"),
        fault_areas=settings.get("fault_areas"),
        revise=0,
    )


def run_collector(
    sim: SimProcess, instant: str, data_dir: Path, database_url: str
) -> subprocess.CompletedProcess:
    """`python -m collector once` with its clock pinned at `instant` (pinned_collector.py)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_", "API_"))}
    env.pop("DATABASE_URL", None)
    env.update(
        KAMO_BASE_URL=sim.base_url,
        DATABASE_URL=database_url,
        DATA_DIR=str(data_dir),
        TZ=TZ,
        KAMO_TIMEOUT_SECONDS="5",
        PYTHONPATH=str(REPO_ROOT),
    )
    return subprocess.run(
        [sys.executable, str(PINNED_COLLECTOR), instant, "once"],
        env=env,
        cwd=data_dir,  # no .env of a developer is read
        capture_output=True,
        text=True,
        timeout=120,
    )


def fill_both(sim: SimProcess, sqlite_url: str, pg_url: str, work: Path) -> None:
    """Every run of RUNS into both databases, the simulator pinned afresh before each."""
    for instant, settings in RUNS:
        for url, data_dir in (
            (sqlite_url, work / "collector-sqlite"),
            (pg_url, work / "collector-pg"),
        ):
            pin_simulator(sim, instant, **settings)
            done = run_collector(sim, instant, data_dir, url)
            assert done.returncode in (0, 1), done.stdout + done.stderr
            assert "Traceback" not in done.stderr, done.stderr
    control(sim.base_url, now=None, date_skew_seconds=0, fault=None, fault_areas=None)


def make_app(database_url: str, data_dir: Path) -> Flask:
    """The API on `database_url`; DATA_DIR (heartbeat, triggers) is shared by both apps, so
    the collector section of /api/status reads the same (absent) heartbeat."""
    return create_app(
        {
            "DATABASE_URL": database_url,
            "DATA_DIR": str(data_dir),
            "TZ": TZ,
            "API_KEY": API_KEY,
            "POLL_INTERVAL_MINUTES": 5,
            "TESTING": True,
        }
    )


def pg_sessions(
    admin: Any, pg_url: str, application_name: str = "kamo-api", settle: int | None = None
) -> int:
    """Server sessions the API holds on the database of `pg_url`.

    A server process leaves pg_stat_activity a moment after its client closed the
    connection: with `settle`, wait up to 5 s for the count to come down to it.
    """
    deadline = time.monotonic() + 5
    while True:
        with admin.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = %s AND application_name = %s",
                (pg_url.rsplit("/", 1)[1], application_name),
            )
            count = cur.fetchone()[0]
        if settle is None or count <= settle or time.monotonic() > deadline:
            return count
        time.sleep(0.05)
