"""Helpers for the scale-out tests: collector daemons on one PostgreSQL database, each
with its OWN data directory (nothing shared but the database), and what they stored."""

from __future__ import annotations

import json
import secrets
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg2

from pg_throwaway import PG_SERVER
from support import REPO_ROOT, collector_env

sys.path.insert(0, str(REPO_ROOT / "scripts"))
import pg_roles  # noqa: E402


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
            found = cur.fetchall()
        conn.commit()  # a write with RETURNING is kept
        return found
    finally:
        conn.close()


def collector_rows(url: str) -> dict[str, dict[str, Any]]:
    """instance -> its collector_state row, with the heartbeat JSON decoded."""
    found = {}
    for instance, role, pid, beat, updated, lock_pid in query(
        url, "SELECT instance, role, pid, heartbeat, updated_at, lock_pid FROM collector_state"
    ):
        found[instance] = dict(
            json.loads(beat), role=role, pid=pid, updated_at=updated, lock_pid=lock_pid
        )
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


@contextmanager
def least_privilege_database(admin: Any) -> Iterator[tuple[str, str]]:
    """A database owned by a fresh collector role, with a fresh API role set up by
    scripts/pg_roles.py (step "setup"); yields (collector URL, API URL). Call
    `grant_api(admin, api_url)` once the collector has created the schema."""
    suffix = secrets.token_hex(4)
    database, collector, api = f"kamo_lp_{suffix}", f"kamo_col_{suffix}", f"kamo_api_{suffix}"
    server = pg_roles.setup_sql(database, collector, api)
    with admin.cursor() as cur:
        for statement in server:
            cur.execute(statement)
    try:
        inside = psycopg2.connect(f"{PG_SERVER}/{database}")
        inside.autocommit = True
        with inside.cursor() as cur:
            for statement in pg_roles.schema_sql(collector, api):
                cur.execute(statement)
        inside.close()
        host = PG_SERVER.split("@", 1)[1]
        yield f"postgresql://{collector}@{host}/{database}", f"postgresql://{api}@{host}/{database}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")
            cur.execute(f"DROP ROLE IF EXISTS {collector}")
            cur.execute(f"DROP ROLE IF EXISTS {api}")


def grant_api(admin: Any, api_url: str) -> None:
    """Step "grants" of scripts/pg_roles.py, run as the superuser in the database."""
    role, database = api_url.split("//", 1)[1].split("@", 1)[0], api_url.rsplit("/", 1)[1]
    conn = psycopg2.connect(f"{PG_SERVER}/{database}")
    conn.autocommit = True
    with conn.cursor() as cur:
        for statement in pg_roles.grants_sql(role):
            cur.execute(statement)
    conn.close()
