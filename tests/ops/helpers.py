"""Helpers for the ops tests: running the scripts, a live collector, database fingerprints."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCRIPTS = REPO / "scripts"
VENV_BIN = Path(sys.executable).parent

# Settings a developer's shell might carry; tests set what they need explicitly.
APP_VARIABLES = (
    "KAMO_BASE_URL",
    "DATABASE_URL",
    "DATA_DIR",
    "POLL_INTERVAL_MINUTES",
    "API_KEY",
    "BACKUP_DIR",
    "BACKUP_KEEP_DAILY",
    "BACKUP_KEEP_WEEKLY",
    "HOST",
    "PORT",
    "PUID",
    "PGID",
    "KAMO_CONTAINER",
    "PYTHON",
)


def app_env(data_dir: Path, db: Path | None = None, **extra: str) -> dict[str, str]:
    """Environment for the scripts and the processes: the repo venv on PATH, like a user who
    activated it; DATABASE_URL naming `db` (unset when db is None)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in APP_VARIABLES and not k.startswith(("SMTP_", "KAMO_"))
    }
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    env["DATA_DIR"] = str(data_dir)
    env["TZ"] = "America/Chicago"
    env["PYTHONPATH"] = str(REPO)
    if db is not None:
        env["DATABASE_URL"] = f"sqlite:///{db}"
    env.update(extra)
    return env


def run_script(
    name: str,
    *args: str,
    env: dict[str, str],
    cwd: Path,
    stdin=None,
    stdout=None,
    timeout: float = 60,
) -> subprocess.CompletedProcess:
    """`bash scripts/NAME ARGS` from `cwd` (a temp dir, so no developer .env is read).
    stdin defaults to /dev/null (no terminal); stdout to a pipe unless a file is given."""
    return subprocess.run(
        ["bash", str(SCRIPTS / name), *args],
        env=env,
        cwd=cwd,
        stdin=stdin if stdin is not None else subprocess.DEVNULL,
        stdout=stdout if stdout is not None else subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        timeout=timeout,
    )


def output(result: subprocess.CompletedProcess) -> str:
    return f"exit {result.returncode}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"


# --- database fingerprints --------------------------------------------------------------------


def table_names(conn: sqlite3.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' "
        "ORDER BY name"
    )
    return [r[0] for r in rows]


def fingerprint_conn(conn: sqlite3.Connection) -> dict[str, tuple[int, str]]:
    """{table: (rows, sha256 of the rows, order-independent, with their Python types)}.
    Call inside one read transaction for a consistent picture of a live database."""
    result = {}
    for table in table_names(conn):
        rows = sorted(repr(row) for row in conn.execute(f'SELECT * FROM "{table}"'))
        digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        result[table] = (len(rows), digest)
    return result


def fingerprint(path: Path) -> dict[str, tuple[int, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, isolation_level=None)
    try:
        conn.execute("BEGIN")
        return fingerprint_conn(conn)
    finally:
        conn.close()


def schema_statements(path: Path) -> set[str]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")
        return {r[0].replace("CREATE TABLE IF NOT EXISTS", "CREATE TABLE") for r in rows}
    finally:
        conn.close()


def row_count_consistent(path: Path) -> dict[str, tuple[int, int]]:
    """{table: (row_count's figure, real count)} for the tables the collector counts."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        kept = dict(conn.execute('SELECT "table", rows FROM row_count'))
        real = {t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0] for t in kept}
        return {t: (kept[t], real[t]) for t in kept}
    finally:
        conn.close()


def file_state(*paths: Path) -> dict[str, str | None]:
    """sha256 of each file (None when missing): 'nothing changed' means equal states."""
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() if p.exists() else None for p in paths
    }


# --- a live collector ---------------------------------------------------------------------------


@dataclass
class Observed:
    """Every committed state of a database seen by a polling reader, with when it was seen."""

    states: list[tuple[float, dict]] = field(default_factory=list)

    def fingerprints(self) -> list[dict]:
        return [fp for _, fp in self.states]

    def changes_between(self, start: float, end: float) -> int:
        """How many times the database changed between two instants (as far as seen)."""
        seen = [fp for t, fp in self.states if start <= t <= end]
        return sum(1 for a, b in zip(seen, seen[1:], strict=False) if a != b)


class Observer(threading.Thread):
    """Reads the database over and over in read transactions, recording each new state."""

    def __init__(self, db: Path) -> None:
        super().__init__(daemon=True)
        self.db = db
        self.stop = threading.Event()
        self.seen = Observed()
        self.error: BaseException | None = None

    def run(self) -> None:
        conn = sqlite3.connect(str(self.db), isolation_level=None, timeout=10)
        conn.execute("PRAGMA query_only=1")
        try:
            while not self.stop.is_set():
                conn.execute("BEGIN")
                fp = fingerprint_conn(conn)
                conn.execute("COMMIT")
                self.seen.states.append((time.monotonic(), fp))
                time.sleep(0.002)
        except BaseException as exc:  # reported by the test
            self.error = exc
        finally:
            conn.close()


class Collector:
    """`python -m collector` (the daemon) as a subprocess writing `data_dir/kamo_load.db`."""

    def __init__(self, data_dir: Path, sim_url: str) -> None:
        from shared.triggers import write_trigger

        self._write_trigger = write_trigger
        self.data_dir = data_dir
        self.db = data_dir / "kamo_load.db"
        self.log = (data_dir.parent / "collector.log").open("w+")
        self.env = app_env(
            data_dir,
            self.db,
            KAMO_BASE_URL=sim_url,
            POLL_INTERVAL_MINUTES="60",
            LOG_LEVEL="INFO",
            MANUAL_MIN_GAP_SECONDS="0",  # back-to-back triggered cycles
        )  # hourly: the tests drive cycles with triggers, and know every state they pass
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector"],
            env=self.env,
            cwd=data_dir.parent,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def log_text(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return Path(self.log.name).read_text()

    def finished_runs(self, request_id: str | None = None) -> int:
        if not self.db.exists():
            return 0
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            sql = "SELECT count(*) FROM import_run WHERE finished_at IS NOT NULL"
            if request_id is None:
                return conn.execute(sql).fetchone()[0]
            return conn.execute(sql + " AND request_id = ?", (request_id,)).fetchone()[0]
        except sqlite3.OperationalError:
            return 0  # the schema is not there yet
        finally:
            conn.close()

    def wait_for(self, condition, what: str, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                log = self.log_text()
                raise AssertionError(f"collector exited while waiting for {what}:\n{log}")
            if condition():
                return
            time.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what}:\n{self.log_text()}")

    def wait_started(self) -> None:
        self.wait_for(lambda: self.finished_runs() >= 1, "the startup cycle")

    def cycle(self) -> None:
        """Force one more cycle with a trigger file and wait until its run is finished."""
        trigger = self._write_trigger(self.data_dir / "triggers")
        self.wait_for(lambda: self.finished_runs(trigger.request_id) == 1, "a triggered cycle")

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


class Writer(threading.Thread):
    """Keeps the collector busy: one triggered cycle after another until stopped."""

    def __init__(self, collector: Collector) -> None:
        super().__init__(daemon=True)
        self.collector = collector
        self.stop = threading.Event()
        self.cycles = 0
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            while not self.stop.is_set():
                self.collector.cycle()
                self.cycles += 1
        except BaseException as exc:
            self.error = exc
