"""Disk full: a small real filesystem (a tmpfs mounted for the case) holds DATA_DIR and the
database. A collector child writes cycle after cycle on it while a ballast file leaves only
a little room, until SQLite cannot grow; then the ballast goes and collection must resume
by itself. Asserted per outage: one clear log line names the cause (no traceback), the
failed cycles are recorded afterwards as failed import runs whose message names the cause,
integrity_check is ok, and a later run succeeds.

Mounting needs root (CI runs as root). Elsewhere the case reports itself as skipped.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from pathlib import Path

from .common import CaseResult, child_command, child_env, integrity, query
from sim_process import start_simulator
from support import wait_for

FIRST_SLOT = 1795000200
CAUSE_LINE = "cannot write the database: database or disk is full"
CAUSE = "database or disk is full"
ROOM_LEFT = 256 * 1024  # bytes the ballast leaves free: a few cycles' worth of WAL


def outage_recorded(db_path: Path, since: float) -> int:
    """How many cycles started at or after `since` were recorded as failed import runs that
    name the full disk (the daemon writes them once the database takes writes again)."""
    return query(
        db_path,
        "select count(*) from import_run where status = 'failed' and started_at >= ?"
        " and message like ?",
        since,
        f"%{CAUSE}%",
    )[0][0]


def mount_tmpfs(where: Path, size_kb: int) -> str | None:
    """Mount a tmpfs; return None when done, or why it could not be."""
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size_kb}k", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    return None if done.returncode == 0 else (done.stderr.strip() or "mount failed")


def disk_full(size_kb: int, outages: int) -> CaseResult:
    result = CaseResult(unit="s", worst_label="slowest recovery after space freed")
    with tempfile.TemporaryDirectory() as tmp:
        mnt = Path(tmp) / "mnt"
        mnt.mkdir()
        why = mount_tmpfs(mnt, size_kb)
        if why is not None:
            return CaseResult(status=f"skipped: cannot mount a tmpfs ({why})")
        try:
            with start_simulator("--quiet") as sim:
                _run(sim.base_url, mnt, Path(tmp), outages, result)
        finally:
            subprocess.run(["umount", "-l", str(mnt)], capture_output=True)
    return result


def _run(sim_url: str, mnt: Path, outside: Path, outages: int, result: CaseResult) -> None:
    db = mnt / "kamo.db"
    log_path = outside / "collector.log"
    stop = outside / "stop"
    env = child_env(sim_url, mnt)
    with open(log_path, "w+") as log:
        child = subprocess.Popen(
            child_command("cycles", "--first-slot", str(FIRST_SLOT), "--stop-file", str(stop)),
            env=env,
            cwd=outside,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            for round_no in range(1, outages + 1):
                label = f"outage {round_no}"
                result.tried += 1
                ok_before = _successes(db)
                if not wait_for(lambda n=ok_before: _successes(db) > n, 60, 0.2):
                    result.fail(f"{label}: no successful cycle before filling the disk")
                    return
                recorded_before = outage_recorded(db, FIRST_SLOT)
                ballast = mnt / "ballast"
                _fill(ballast, ROOM_LEFT)
                mark = log_path.stat().st_size
                named = wait_for(lambda m=mark: _cause_logged(log_path, m), 60, 0.2)
                if named:
                    result.figures.setdefault("cause_line", named[:160])
                else:
                    result.fail(f"{label}: no log line says {CAUSE_LINE!r}")
                ballast.unlink()
                freed = time.monotonic()
                ok_at_free = _successes(db)
                if not wait_for(lambda n=ok_at_free: _successes(db) > n, 60, 0.2):
                    result.fail(f"{label}: collection did not resume after space was freed")
                    return
                result.note_worst(round(time.monotonic() - freed, 2))
                recorded = outage_recorded(db, FIRST_SLOT) - recorded_before
                failed = _failures_logged(log_path, mark)
                result.figures[f"{label} failed cycles logged / recorded"] = (
                    f"{failed} / {recorded}"
                )
                if failed < 1 or recorded < failed:
                    result.fail(
                        f"{label}: {failed} cycles failed on the full disk, {recorded} recorded"
                        " as failed import runs"
                    )
                check = integrity(db)
                if check != "ok":
                    result.fail(f"{label}: integrity_check says {check}")
        finally:
            stop.touch()
            try:
                child.wait(30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    tracebacks = log_path.read_text(errors="replace").count("Traceback")
    if tracebacks:
        result.fail(f"the log holds {tracebacks} traceback(s); one clear line was expected")
    check = integrity(db)
    if check != "ok":
        result.fail(f"after the run: integrity_check says {check}")


def _successes(db: Path) -> int:
    try:
        return query(db, "select count(*) from import_run where status='success'")[0][0]
    except Exception:
        return 0


def _fill(ballast: Path, leave: int) -> None:
    """Write a file that leaves `leave` bytes free on its filesystem."""
    stats = os.statvfs(ballast.parent)
    size = max(0, stats.f_bavail * stats.f_frsize - leave)
    chunk = b"\0" * (1 << 20)
    with open(ballast, "wb") as out:
        try:
            while size > 0:
                size -= out.write(chunk[: min(len(chunk), size)])
        except OSError:
            pass  # full already: the collector grew meanwhile


def _failures_logged(log_path: Path, offset: int) -> int:
    """Cycles that failed on the full disk, by their log lines after `offset`."""
    with open(log_path, errors="replace") as log:
        log.seek(offset)
        return sum(1 for line in log if " failed: " in line and CAUSE in line)


def _cause_logged(log_path: Path, offset: int) -> str | None:
    """The first log line after `offset` that names the cause clearly, if any."""
    with open(log_path, errors="replace") as log:
        log.seek(offset)
        return next((line.strip() for line in log if CAUSE_LINE in line), None)
