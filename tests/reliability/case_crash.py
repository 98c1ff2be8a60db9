"""Crash while writing: SIGKILL a real `collector once` at random points, then restart it.

Each attempt polls its own slot (the child's clock is set to it), so every import run owns
exactly the readings of its slot and the hourly loads first seen at its start. Half the kills
come at a random time after the process starts; the other half a random moment after a
randomly chosen BEGIN, to land inside write transactions. The child's SQLite trace tells
which kills came while a transaction was open.

After each kill: integrity_check ok; a restarted collector closes the orphaned run and
succeeds; no run stays "running"; every finished run is stored wholly (its counted readings
and new loads are all there) and every failed one not at all; nothing committed before the
kill is missing.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from .common import CaseResult, child_command, child_env, file_size, integrity, query, run_child
from sim_process import start_simulator
from support import wait_for

BASE_SLOT = 1795000200  # 2026-11-18T12:30Z; any aligned slot works: the child's clock is set
SLOT = 300


def crash_while_writing(kills: int, seed: int = 20261201) -> CaseResult:
    rnd = random.Random(seed)
    result = CaseResult(unit="KB", worst_label="largest WAL after a kill")
    with start_simulator("--quiet") as sim, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = child_env(sim.base_url, data)
        db = data / "kamo.db"
        began = time.monotonic()
        clean = _once(env, BASE_SLOT, data / "trace-clean")
        duration = time.monotonic() - began
        if clean.returncode != 0:
            result.fail(f"the first clean run failed: {clean.stderr[-1500:]}")
            return result
        begins = _markers(data / "trace-clean").count("BEGIN")
        mid, orphaned = 0, 0
        for attempt in range(kills):
            slot = BASE_SLOT + (2 * attempt + 1) * SLOT
            before = _committed(db)
            trace = data / f"trace-{attempt}"
            proc = subprocess.Popen(
                child_command("once", "--at", str(slot + 2), "--trace", str(trace)),
                env=env,
                cwd=data,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            if attempt % 2 == 0:
                time.sleep(rnd.uniform(0.2, 1.0) * duration)
            else:
                nth = rnd.randint(1, max(1, begins))
                wait_for(
                    lambda n=nth, t=trace: _markers(t).count("BEGIN") >= n, duration * 3, 0.002
                )
                time.sleep(rnd.uniform(0, 0.05))
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait(10)
            result.tried += 1
            marks = _markers(trace)
            mid += bool(marks) and marks[-1] == "BEGIN"
            result.note_worst(round(file_size(data / "kamo.db-wal") / 1024, 1))
            label = f"kill {attempt + 1} ({'after BEGIN' if attempt % 2 else 'timed'})"
            check = integrity(db)
            if check != "ok":
                result.fail(f"{label}: integrity_check says {check}")
                continue
            orphaned += query(db, "select count(*) from import_run where status='running'")[0][0]
            restart = _once(env, slot + SLOT, None)
            if restart.returncode != 0:
                result.fail(f"{label}: the restarted collector failed: {restart.stderr[-800:]}")
            _check_after(db, before, label, result)
        result.figures.update(kills=kills, mid_transaction=mid, runs_left_running_by_kills=orphaned)
    return result


def _once(env: dict[str, str], at: int, trace: Path | None) -> subprocess.CompletedProcess:
    args = ["once", "--at", str(at + 2)] + (["--trace", str(trace)] if trace else [])
    return run_child(env, *args, timeout=60)


def _markers(trace: Path) -> list[str]:
    try:
        return trace.read_text().split()
    except OSError:
        return []


def _committed(db: Path) -> dict[str, set]:
    return {
        "readings": set(query(db, "select substation_id, ts from substation_reading")),
        "loads": set(query(db, "select area_id, ts from hourly_load")),
        "runs": set(query(db, "select id, status from import_run where status != 'running'")),
    }


def _check_after(db: Path, before: dict[str, set], label: str, result: CaseResult) -> None:
    after = _committed(db)
    for table, keys in before.items():
        missing = keys - after[table]
        if missing:
            result.lost += len(missing)
            result.fail(f"{label}: {len(missing)} committed {table} rows gone, e.g. {min(missing)}")
    running = query(db, "select id from import_run where status='running'")
    if running:
        result.fail(f"{label}: runs still 'running' after the restart: {running}")
    runs = query(
        db,
        "select id, status, slot_ts, cast(started_at as integer), readings_stored, load_new "
        "from import_run",
    )
    for run_id, status, slot, started, counted, new_loads in runs:
        readings = query(db, "select count(*) from substation_reading where ts=?", slot)[0][0]
        loads = query(db, "select count(*) from hourly_load where first_seen=?", started)[0][0]
        stored = (readings, loads)
        want = (counted, new_loads) if status in ("success", "partial") else (0, 0)
        if stored != want:
            result.fail(f"{label}: run {run_id} ({status}) stored {stored}, counted {want}")
