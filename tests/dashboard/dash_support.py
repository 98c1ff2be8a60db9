"""Helpers for the dashboard tests (imported by name: `conftest` is ambiguous in this repo).

Databases are filled the real way: `python -m collector once` against the simulator
(pinned to chosen instants) or against captured fixtures, as tests/api does. Tests only
read them, like the pages do.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from flask import Flask

from api import create_app
from shared.db import bind, open_writer
from shared.heartbeat import write_heartbeat
from shared.schema import migrate

from sim_process import control, free_port, start_simulator
from support import FIXTURES, REPO_ROOT, collector_env, run_collector

API_KEY = "dash-test-key-0123456789"
ZONE = "America/Chicago"
XSS = "<script>alert(1)</script>"
# The container's command, exactly (Dockerfile.api / DESIGN.md).
CONTAINER_COMMAND = ["gunicorn", "-c", "api/gunicorn.conf.py", "api:create_app()"]


def collector_once(sim_url: str, data_dir: Path) -> subprocess.CompletedProcess:
    data_dir.mkdir(parents=True, exist_ok=True)
    env = {k: v for k, v in collector_env(sim_url, data_dir).items() if not k.startswith("API_")}
    return run_collector(env, "once")


def check_ok(done: subprocess.CompletedProcess) -> None:
    assert done.returncode == 0, done.stdout + done.stderr


def history_clocks(hours_back: int, every_hours: int = 11) -> list[str]:
    """Simulator clocks from `hours_back` hours ago to now, so the 12-hour windows KAMO
    shows overlap and together cover every hour up to the current one."""
    now = datetime.now(UTC).replace(minute=20, second=0, microsecond=0)
    steps = range(hours_back, -1, -every_hours)
    clocks = [(now - timedelta(hours=h)).isoformat() for h in steps]
    return clocks if clocks[-1] == now.isoformat() else [*clocks, now.isoformat()]


def fill_from_simulator(
    data_dir: Path, clocks: list[str], faults: dict[int, dict] | None = None
) -> None:
    """One collector cycle per simulator clock (the simulator pinned to each in turn);
    `faults` maps a cycle's index to the simulator fault settings for that cycle."""
    faults = faults or {}
    with start_simulator("--quiet", "--now", clocks[0]) as sim:
        for index, clock in enumerate(clocks):
            control(sim.base_url, now=clock, **faults.get(index, {"fault": None}))
            check_ok(collector_once(sim.base_url, data_dir))


def fill_from_fixtures(data_dir: Path, fixtures: Path = FIXTURES) -> subprocess.CompletedProcess:
    """The captured KAMO answers of 2026-01-04: areas 1-9 answer, the rest 404 (partial)."""
    with start_simulator("--quiet", "--fixtures", str(fixtures)) as sim:
        done = collector_once(sim.base_url, data_dir)
    assert done.returncode == 0, done.stdout + done.stderr  # partial still exits 0
    return done


def hostile_fixtures(target: Path) -> Path:
    """The real fixtures with markup in names: substation 0 of area 1 and area 2's name."""
    shutil.copytree(FIXTURES, target)
    table = target / "arealoadtable-1.json"
    data = json.loads(table.read_text())
    data["areaLoadData"][0]["name"] = XSS
    table.write_text(json.dumps(data))
    areas = json.loads((target / "area.json").read_text())
    areas[1]["name"] = '<img src=x onerror="alert(2)">'
    (target / "area.json").write_text(json.dumps(areas))
    return target


def generate(data_dir: Path, days: int = 3) -> None:
    """The benchmark generator's database, small: `days` of 5-minute readings of ~136
    substations up to the current hour, with the hourly rollup built."""
    end = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    done = subprocess.run(
        [sys.executable, str(REPO_ROOT / "scripts" / "gen_bench_db.py"),
         "--out", str(data_dir / "kamo.db"), "--days", str(days), "--substations", "40",
         "--end", end.strftime("%Y-%m-%dT%H:%M:%SZ")],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr


def migrate_empty(data_dir: Path) -> None:
    """A database the collector created and migrated but never filled."""
    data_dir.mkdir(parents=True, exist_ok=True)
    db = bind(open_writer(f"sqlite:///{data_dir / 'kamo.db'}"))
    db.connect()
    migrate(db)
    db.close()


def beat(data_dir: Path, age: float = 0.0, interval_minutes: int = 5) -> dict:
    """A heartbeat as a running daemon writes it (optionally `age` seconds old)."""
    now = time.time()
    state = {
        "pid": 4242,
        "version": "0.1.0",
        "state": "running",
        "last_cycle": now - 60,
        "next_slot": now - now % (interval_minutes * 60) + interval_minutes * 60,
        "last_status": "success",
    }
    write_heartbeat(data_dir / "collector.heartbeat", state)
    if age:
        path = data_dir / "collector.heartbeat"
        data = json.loads(path.read_text())
        data["updated_at"] -= age
        path.write_text(json.dumps(data))
    return state


def make_app(db_dir: Path, data_dir: Path | None = None, **config: object) -> Flask:
    settings = {
        "DATABASE_URL": f"sqlite:///{db_dir / 'kamo.db'}",
        "DATA_DIR": str(data_dir or db_dir),
        "TZ": ZONE,
        "API_KEY": API_KEY,
        "TESTING": True,
    }
    settings.update(config)
    return create_app(settings)


def read_db(data_dir: Path) -> sqlite3.Connection:
    return sqlite3.connect(f"file:{data_dir / 'kamo.db'}?mode=ro", uri=True)


def text_of(html: str) -> str:
    """Visible text of a page, tags dropped and whitespace collapsed (for value checks)."""
    html = re.sub(r"<(script|style|svg|title)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"</?(a|b|strong|em|span|small|time|code)\b[^>]*>", "", html)  # inline
    text = re.sub(r"<[^>]+>", " ", html)
    for entity, char in (("&lt;", "<"), ("&gt;", ">"), ("&#34;", '"'), ("&#39;", "'")):
        text = text.replace(entity, char)
    return re.sub(r"\s+", " ", text.replace("&amp;", "&"))


def path_points(d: str) -> int:
    """How many points an SVG path `d` of M/L commands draws through."""
    return len(re.findall(r"[ML]", d))


class Gunicorn:
    """The API under gunicorn with the container's command, on a free loopback port."""

    def __init__(self, db_dir: Path, data_dir: Path, log: Path, **extra: str) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_"))}
        env.update(
            DATABASE_URL=f"sqlite:///{db_dir / 'kamo.db'}",
            DATA_DIR=str(data_dir),
            TZ=ZONE,
            HOST="127.0.0.1",
            PORT=str(self.port),
            API_KEY=API_KEY,
            PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
            PYTHONPATH=str(REPO_ROOT),
            **extra,
        )
        self.prefix = extra.get("SCRIPT_NAME", "").rstrip("/")
        self.base = f"http://127.0.0.1:{self.port}{self.prefix}"
        self._log = log.open("w")
        self.proc = subprocess.Popen(
            CONTAINER_COMMAND, cwd=REPO_ROOT, env=env, stdout=self._log, stderr=self._log
        )
        self.log_path = log

    def wait(self, timeout: float = 30) -> None:
        import requests

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:
                requests.get(f"{self.base}/api/health", timeout=2)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.1)
        raise AssertionError(f"gunicorn did not answer in {timeout} s")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
