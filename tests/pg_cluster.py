"""Helpers for the scale-out tests: collector daemons on one PostgreSQL database, each
with its OWN data directory (nothing shared but the database), and what they stored."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg2

from support import REPO_ROOT, collector_env


class PgCollector:
    """`python -m collector` as a subprocess on `database_url`, in its own DATA_DIR."""

    def __init__(self, sim_url: str, data_dir: Path, database_url: str, **extra: str) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir = data_dir
        self.env = collector_env(
            sim_url,
            data_dir,
            DATABASE_URL=database_url,
            POLL_INTERVAL_MINUTES="1",
            KAMO_TIMEOUT_SECONDS="5",
            **extra,
        )
        self.log_path = data_dir / "collector.log"
        self._log = open(self.log_path, "w+")  # noqa: SIM115 - closed in stop()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector"],
            env=dict(self.env, PYTHONPATH=str(REPO_ROOT)),
            cwd=data_dir,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    @property
    def instance(self) -> str | None:
        try:
            return (self.data_dir / "collector.id").read_text().strip() or None
        except OSError:
            return None

    def output(self) -> str:
        return self.log_path.read_text()

    def kill9(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> int | None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._log.close()
        return self.proc.returncode


def query(url: str, sql: str, args: tuple = ()) -> list[tuple]:
    """Rows of `sql` on `url`; [] while the schema does not exist yet."""
    conn = psycopg2.connect(url, connect_timeout=5)
    try:
        with conn.cursor() as cur:
            try:
                cur.execute(sql, args)
            except psycopg2.errors.UndefinedTable:
                return []
            return cur.fetchall()
    finally:
        conn.close()


def collector_rows(url: str) -> dict[str, dict[str, Any]]:
    """instance -> its collector_state row, with the heartbeat JSON decoded."""
    found = {}
    for instance, role, pid, beat, updated in query(
        url, "SELECT instance, role, pid, heartbeat, updated_at FROM collector_state"
    ):
        found[instance] = dict(json.loads(beat), role=role, pid=pid, updated_at=updated)
    return found


def runs(url: str) -> list[dict[str, Any]]:
    rows = query(
        url,
        "SELECT id, trigger, slot_ts, status, message, request_ids, started_at "
        "FROM import_run ORDER BY id",
    )
    keys = ("id", "trigger", "slot_ts", "status", "message", "request_ids", "started_at")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def stored_slots(url: str) -> list[int]:
    return [ts for (ts,) in query(url, "SELECT DISTINCT ts FROM substation_reading ORDER BY ts")]
