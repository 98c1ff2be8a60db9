"""Readers during writes: the real API (in-process, read-only connections) and raw `mode=ro`
SQLite readers query without pause while a collector child writes cycle after cycle.

The writer runs the daemon's `run_cycle` back to back, each cycle on the next 5-minute slot
(its clock moved), so every cycle appends new readings and hours. Any 5xx, exception or
"database is locked" counts as a failure; the WAL's size is sampled throughout.
"""

from __future__ import annotations

import subprocess
import tempfile
import threading
import time
from pathlib import Path

from api import create_app

from .common import CaseResult, child_command, child_env, connect_ro, file_size, query
from sim_process import start_simulator
from support import wait_for

FIRST_SLOT = 1795000200
WAL_LIMIT_BYTES = 32 * 1024 * 1024  # journal_size_limit is 16 MB; twice that is not "bounded"
API_PATHS = [
    "/api/health",
    "/api/status",
    "/api/load/current/5",
    "/api/load/history/5",
    "/api/substations/current/5",
    "/api/imports",
    "/",
]
RAW_SQL = (
    "select count(*), avg(r.kw) from substation_reading r join substation s "
    "on s.id = r.substation_id where r.ts = (select max(ts) from substation_reading)"
)


class Tally:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.reads = 0
        self.worst_ms = 0.0
        self.errors: list[str] = []

    def add(self, seconds: float, error: str | None) -> None:
        with self.lock:
            self.reads += 1
            self.worst_ms = max(self.worst_ms, seconds * 1000)
            if error and len(self.errors) < 1000:
                self.errors.append(error)


def readers_during_writes(seconds: float) -> CaseResult:
    result = CaseResult(unit="ms", worst_label="worst API latency")
    with start_simulator("--quiet") as sim, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        db = data / "kamo.db"
        env = child_env(sim.base_url, data)
        writer = subprocess.Popen(
            child_command(
                "cycles", "--first-slot", str(FIRST_SLOT), "--sim-clock", "--seconds", str(seconds)
            ),
            env=env,
            cwd=data,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        ready = wait_for(lambda: _finished_runs(db), 30, 0.2)
        if not ready:
            writer.kill()
            result.fail(f"the writer never finished a cycle: {writer.communicate()[0][-1500:]}")
            return result
        tally, wal_sizes, done = Tally(), [], threading.Event()
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{db}", "DATA_DIR": str(data), "TESTING": True}
        )
        threads = [
            threading.Thread(target=_api_reader, args=(app, tally, done, i)) for i in range(2)
        ]
        threads.append(threading.Thread(target=_raw_reader, args=(db, tally, done)))
        threads.append(threading.Thread(target=_wal_sampler, args=(db, wal_sizes, done)))
        for thread in threads:
            thread.start()
        try:
            output, _ = writer.communicate(timeout=seconds + 120)
        finally:
            done.set()
            for thread in threads:
                thread.join(30)
        cycles = _finished_runs(db)
        failed_cycles = query(db, "select count(*) from import_run where status != 'success'")
        result.tried = tally.reads
        result.worst = round(tally.worst_ms, 1)
        largest = max(wal_sizes, default=0)
        result.figures.update(
            reads=tally.reads, cycles=cycles, largest_wal_kb=round(largest / 1024, 1)
        )
        for error in tally.errors[:20]:
            result.fail(error)
        result.failures = len(tally.errors)
        if writer.returncode != 0 or failed_cycles[0][0]:
            result.fail(f"the writer failed ({writer.returncode}): {output[-1500:]}")
        if "locked" in output:
            result.fail("the writer logged 'database is locked'")
        if largest > WAL_LIMIT_BYTES:
            result.fail(f"the WAL reached {largest} bytes (limit {WAL_LIMIT_BYTES})")
    return result


def _finished_runs(db: Path) -> int:
    try:
        return query(db, "select count(*) from import_run where status != 'running'")[0][0]
    except Exception:
        return 0


def _api_reader(app, tally: Tally, done: threading.Event, offset: int) -> None:
    client = app.test_client()
    i = offset
    while not done.is_set():
        path = API_PATHS[i % len(API_PATHS)]
        i += 1
        began = time.monotonic()
        error = None
        try:
            response = client.get(path)
            body = response.get_data(as_text=True)
            if response.status_code >= 500 or "locked" in body:
                error = f"GET {path}: {response.status_code} {body[:200]}"
        except Exception as exc:
            error = f"GET {path}: {type(exc).__name__}: {exc}"
        tally.add(time.monotonic() - began, error)


def _raw_reader(db: Path, tally: Tally, done: threading.Event) -> None:
    while not done.is_set():
        began = time.monotonic()
        error = None
        try:
            with connect_ro(db) as conn:
                conn.execute(RAW_SQL).fetchone()
            conn.close()
        except Exception as exc:
            error = f"raw read: {type(exc).__name__}: {exc}"
        tally.add(time.monotonic() - began, error)


def _wal_sampler(db: Path, sizes: list[int], done: threading.Event) -> None:
    wal = db.with_name(db.name + "-wal")
    while not done.wait(0.05):
        sizes.append(file_size(wal))
