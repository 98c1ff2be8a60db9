"""One hostile-upstream case, end to end: the simulator misbehaves for one or two areas, and a
real collector cycle (`python -m collector once`, a subprocess, a fresh SQLite file) runs
against it. Used by tests/test_hostile_upstream.py and by the long-form reliability suite.

    figures = run_hostile_case("huge-body", tmp_path)
    assert figures["other_areas_stored"] == figures["other_areas_expected"]

Returns a dict of figures (see `run_hostile_case`). Loopback only.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from shared.config import cycle_deadline_seconds

from sim_process import SimProcess, control, start_simulator
from support import REPO_ROOT, collector_env

PINNED = "2026-11-26T16:07:00Z"  # a fixed data clock: every run sees the same answers
ALL_AREAS = range(1, 21)
# What the faulted area's reason must contain, per simulator fault mode.
EXPECTED_REASON = {
    "trickle": "timeout",
    "huge-body": "answer over 4 MiB",
    "huge-chunked": "answer over 4 MiB",
    "redirect-loop": "redirect loop",
    "http429": "deferred until",
    "huge-number": "number of 400 digits",
    "huger-number": "number of 5000 digits",
    "deep-nesting": "nested too deeply",
    "nan": "NaN is not a number",
    "infinity": "Infinity is not a number",
    "out-of-range": "is outside",
    "reset": "connection reset",
    "html": "HTML instead of JSON",
    "truncated": "invalid JSON",
    "nulls": "expected",
}
HOSTILE_MODES = tuple(EXPECTED_REASON)


def run_hostile_case(
    mode: str | None,
    workdir: Path,
    fault_areas: tuple[int, ...] = (3,),
    timeout_seconds: float = 1.0,
    interval_minutes: int = 1,
    sim: SimProcess | None = None,
    sim_settings: dict | None = None,
) -> dict:
    """Run one collector cycle with simulator fault `mode` (None: no fault) on `fault_areas`.

    `workdir` gets the collector's DATA_DIR and database (use an empty directory). A running
    simulator `sim` is reused (its settings are changed, then reset), else one is started for
    the case. `sim_settings` go to the simulator's control endpoint too (e.g. trickle_ms).
    KAMO_TIMEOUT_SECONDS is `timeout_seconds`; POLL_INTERVAL_MINUTES `interval_minutes` sets
    the cycle deadline (1 minute: 30 s).

    Returns: mode, fault_areas, exit_code, status, areas_ok, areas_total,
    other_areas_expected / other_areas_stored (areas outside fault_areas with stored loads),
    faulted_errors ({area id: reason}), faulted_rows_stored (loads + readings of the faulted
    areas), cycle_seconds (the run row), wall_seconds (the subprocess), deadline_seconds,
    peak_rss_mb (the collector process's own peak), log_line (its last stdout line).
    """
    own_sim = sim is None
    if own_sim:
        sim = start_simulator("--quiet")
    try:
        faulted = list(fault_areas) if mode else []
        control(
            sim.base_url,
            now=PINNED,
            fault=mode,
            fault_areas=faulted or None,
            **{"trickle_ms": 200, **(sim_settings or {})},
        )
        workdir.mkdir(parents=True, exist_ok=True)
        env = collector_env(
            sim.base_url,
            workdir,
            KAMO_TIMEOUT_SECONDS=f"{timeout_seconds:g}",
            POLL_INTERVAL_MINUTES=str(interval_minutes),
        )
        deadline = cycle_deadline_seconds(interval_minutes)
        exit_code, stdout, wall, peak_kb = _run_once(env, limit=deadline + 60)
    finally:
        if own_sim:
            sim.close()
        else:
            control(sim.base_url, fault=None, fault_areas=None)
    return {
        "mode": mode,
        "fault_areas": faulted,
        "exit_code": exit_code,
        "wall_seconds": wall,
        "deadline_seconds": deadline,
        "peak_rss_mb": peak_kb / 1024,
        "log_line": (stdout.strip().splitlines() or [""])[-1],
        **_stored_figures(workdir / "kamo.db", faulted),
    }


def _run_once(env: dict[str, str], limit: float) -> tuple[int, str, float, int]:
    """`python -m collector once`; returns (exit code, stdout, seconds, peak RSS in KiB)."""
    out_path = Path(env["DATA_DIR"]) / "collector.out"
    started = time.monotonic()
    with open(out_path, "wb") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "collector", "once"],
            env=dict(env, PYTHONPATH=str(REPO_ROOT)),
            cwd=env["DATA_DIR"],
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        peak_kb = 0
        deadline = started + limit  # a hung collector must not hang the suite
        while proc.poll() is None:
            peak_kb = max(peak_kb, _own_peak_kb(proc.pid))
            if time.monotonic() > deadline:
                proc.kill()
                proc.wait()
                break
            time.sleep(0.02)
    return proc.returncode, out_path.read_text(), time.monotonic() - started, peak_kb


def _own_peak_kb(pid: int) -> int:
    """The process's own peak RSS so far (VmHWM). Not wait4's ru_maxrss: Linux carries the
    parent's RSS at fork over the exec into it, so it measured the test runner, not us."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass  # exited meanwhile: the last reading stands
    return 0


def _stored_figures(db_path: Path, faulted: list[int]) -> dict:
    with sqlite3.connect(db_path) as db:
        run = db.execute(
            "select status, areas_ok, areas_total, area_errors, started_at, finished_at "
            "from import_run order by id desc limit 1"
        ).fetchone()
        stored = {a for (a,) in db.execute("select distinct area_id from hourly_load")}
        marks = ",".join("?" * len(faulted))
        faulted_rows = db.execute(
            f"select (select count(*) from hourly_load where area_id in ({marks}))"
            " + (select count(*) from substation_reading r join substation s"
            f" on r.substation_id = s.id where s.area_id in ({marks}))",
            faulted * 2,
        ).fetchone()[0]
    errors = json.loads(run[3] or "{}")
    others = set(ALL_AREAS) - set(faulted)
    return {
        "status": run[0],
        "areas_ok": run[1],
        "areas_total": run[2],
        "other_areas_expected": len(others),
        "other_areas_stored": len(stored & others),
        "faulted_errors": {int(a): errors.get(str(a)) for a in faulted},
        "faulted_rows_stored": faulted_rows,
        "cycle_seconds": (run[5] or 0) - run[4],
    }
