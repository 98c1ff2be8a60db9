"""Collector benchmark figures: storage density, WAL pages per poll, cycle time, memory.

Run through `make bench`. Prints rows of (figure, value, target); speed figures are
medians with their spread (min-max) since the machines are shared and noisy.
"""

from __future__ import annotations

import json
import os
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from shared.db import bind, open_writer  # noqa: E402
from shared.schema import migrate  # noqa: E402
from shared.triggers import write_trigger  # noqa: E402

from sim_process import start_simulator  # noqa: E402
from storage_workload import (  # noqa: E402
    SLOT,
    bulk_week,
    make_substations,
    poll,
    readings_bytes,
    wal_frames,
)

Row = tuple[str, str, str]


def storage_figures(tmp: Path) -> list[Row]:
    db = bind(open_writer(f"sqlite:///{tmp / 'week.db'}"))
    db.connect()
    migrate(db)
    subs = make_substations()
    rnd = random.Random(42)
    first = 1_795_000_000 - 1_795_000_000 % 3600
    week = 7 * 24 * 12
    bulk_week(db, subs, first, week, rnd)
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    frames, times = [], []
    for i in range(1, 13):  # the last poll opens a new hour and builds its rollup
        started = time.perf_counter()
        poll(db, first + (week + i) * SLOT, subs, rnd)
        times.append(time.perf_counter() - started)
        frames.append(wal_frames(db))
    rows = db.execute_sql("SELECT count(*) FROM substation_reading").fetchone()[0]
    per_reading = readings_bytes(db) / rows
    db.close()
    return [
        ("bytes per reading (week, 302 substations)", f"{per_reading:.2f}", "<= 30"),
        (
            "WAL pages per poll (an hour of polls)",
            f"mean {statistics.mean(frames):.1f} (min {min(frames)}, max {max(frames)})",
            "<= 100",
        ),
        ("DB write time per poll", _spread([t * 1000 for t in times], "ms"), ""),
    ]


def _spread(values: list[float], unit: str) -> str:
    return f"median {statistics.median(values):.2f} {unit} ({min(values):.2f}-{max(values):.2f})"


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _wait_consumed(path: Path, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while path.exists() and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.02)


def cycle_figures(tmp: Path, cycles: int = 100) -> list[Row]:
    """A real daemon against the simulator at 100 ms latency, driven by trigger files."""
    rows: list[Row] = []
    with start_simulator("--quiet", "--latency-ms", "100") as sim:
        env = dict(
            os.environ,
            KAMO_BASE_URL=sim.base_url,
            DATABASE_URL=f"sqlite:///{tmp / 'cycles.db'}",
            DATA_DIR=str(tmp),
            POLL_INTERVAL_MINUTES="60",
            MANUAL_MIN_GAP_SECONDS="0",  # one triggered cycle after another
            PYTHONPATH=str(REPO),
        )
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector"],
            env=env,
            cwd=tmp,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            rss = {}
            for i in range(1, cycles + 1):
                trigger = write_trigger(tmp / "triggers", f"bench-{i}")
                _wait_consumed(trigger.path, proc)
                _wait_run_done(tmp / "cycles.db", f"bench-{i}")
                if i in (10, 100):
                    rss[i] = _rss_mb(proc.pid)
        finally:
            proc.send_signal(signal.SIGTERM)
            output = proc.communicate(timeout=20)[0]
    durations = _durations(tmp / "cycles.db")
    rows.append(("cycle time, simulator at 100 ms latency", _spread(durations, "s"), "<= 1.5 s"))
    rows.append(
        (
            "collector RSS after 10 / 100 cycles",
            f"{rss[10]:.1f} / {rss[100]:.1f} MB",
            "<= 60 MB, flat",
        )
    )
    if "Traceback" in output:
        rows.append(("collector errors", "see output", "none"))
    return rows


def _wait_run_done(db_path: Path, request_id: str, timeout: float = 60) -> None:
    import sqlite3

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with sqlite3.connect(db_path) as db:
                row = db.execute(
                    "SELECT status FROM import_run WHERE request_id = ?", (request_id,)
                ).fetchone()
            if row and row[0] != "running":
                return
        except sqlite3.OperationalError:
            pass
        time.sleep(0.02)


def _durations(db_path: Path) -> list[float]:
    import sqlite3

    with sqlite3.connect(db_path) as db:
        return [
            r[0]
            for r in db.execute(
                "SELECT finished_at - started_at FROM import_run WHERE trigger = 'manual'"
            )
        ]


def main() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        rows = storage_figures(Path(tmp))
        rows += cycle_figures(Path(tmp))
    return rows


if __name__ == "__main__":
    print(json.dumps(main()))
