"""The collector daemon as a real subprocess: slots, triggers, heartbeat, signals, the lock."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from peewee import DatabaseError

from api import create_app
from shared.backend import FIRST_CYCLE_ANSWERS_WAITING, url_kind

from sim_process import control
from support import (
    REPO_ROOT,
    SQLITE_ONLY,
    collector_env,
    import_runs,
    query,
    request_channel,
    run_collector,
    wait_for,
)


def runs(where: str | Path) -> list[dict]:
    """The import runs at a database URL, or in DATA_DIR/kamo.db for a directory."""
    return import_runs(where if isinstance(where, str) else f"sqlite:///{where / 'kamo.db'}")


def finished_runs(url: str | Path, request_id: str, timeout: float) -> list[dict]:
    """The finished runs of a trigger's request, once there is one (or [] at the timeout)."""
    return wait_for(
        lambda: [
            r for r in runs(url) if r["request_id"] == request_id and r["status"] != "running"
        ],
        timeout,
    )


class Daemon:
    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.url = env["DATABASE_URL"]
        self.data_dir = Path(env["DATA_DIR"])
        self.log = open(self.data_dir / "collector.log", "w+")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "collector"],
            env=dict(env, PYTHONPATH=str(REPO_ROOT)),
            cwd=self.data_dir,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )

    def output(self) -> str:
        return (self.data_dir / "collector.log").read_text()

    def heartbeat(self) -> dict | None:
        with request_channel(self.url, self.data_dir) as channel:
            try:
                return channel.collectors().beat
            except DatabaseError:  # PostgreSQL, before the collector made its tables
                return None

    def request(self, request_id: str | None = None, kind: str = "import") -> str:
        """A request (a manual import by default) through the deployment's channel; its id."""
        with request_channel(self.url, self.data_dir) as channel:
            return channel.submit(kind, request_id=request_id).request_id

    def waiting(self, request_id: str) -> bool:
        with request_channel(self.url, self.data_dir) as channel:
            return channel.waiting(request_id) is not None

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()
        return self.proc.returncode


@pytest.fixture
def sim(simulator):
    control(simulator.base_url, now=None, fault=None, fault_areas=None, revise=0, latency_ms=0)
    yield simulator
    control(simulator.base_url, fault=None, fault_areas=None)


def start_clear_of_a_slot(
    sim, tmp_path: Path, minutes: int, clear: float = 45, url: str | None = None, **settings: str
) -> Daemon:
    """A daemon started at least `clear` s before its next slot, so that a test that counts
    runs or triggers one does not meet a scheduled cycle by chance."""
    step = minutes * 60
    if step - time.time() % step < clear:
        time.sleep(step - time.time() % step + 1)
    env = collector_env(sim.base_url, tmp_path, url, POLL_INTERVAL_MINUTES=str(minutes), **settings)
    return Daemon(env)


@pytest.fixture
def daemon(sim, tmp_path, db_url):
    """Hourly polling: the startup cycle, then nothing scheduled while the test runs."""
    d = start_clear_of_a_slot(sim, tmp_path, 60, url=db_url)
    # The heartbeat reports a finished run last: after its row and its log line.
    assert wait_for(lambda: (d.heartbeat() or {}).get("last_cycle"), 20), d.output()
    yield d
    d.stop()


def test_startup_heartbeat_lock_and_healthcheck(daemon, db_url):
    first = runs(db_url)[0]
    assert (first["trigger"], first["status"]) == ("startup", "success")
    beat = daemon.heartbeat()
    assert beat["pid"] == daemon.proc.pid and beat["version"] and beat["state"] == "idle"
    assert beat["last_status"] == "success" and beat["next_slot"] > time.time()
    assert beat["next_slot"] % 3600 == 0  # the next aligned hour
    assert "import startup ok" in daemon.output()
    check = run_collector(daemon.env, "healthcheck")
    assert check.returncode == 0 and check.stdout.startswith("running")
    refused = run_collector(daemon.env, "once")
    assert refused.returncode == 1
    assert "another collector" in refused.stderr and str(daemon.proc.pid) in refused.stderr
    assert len(runs(db_url)) == 1  # the refused `once` wrote nothing


def test_trigger_file_is_picked_up_within_two_seconds(daemon, db_url):
    daemon.request("req-abc123")
    started = time.monotonic()
    assert wait_for(lambda: not daemon.waiting("req-abc123"), 3, step=0.05)
    assert time.monotonic() - started < 2.0
    manual = finished_runs(db_url, "req-abc123", 10)
    assert manual and manual[0]["trigger"] == "manual" and manual[0]["status"] == "success"
    assert "request req-abc123" in daemon.output()


@pytest.fixture
def minutely_daemon(sim, tmp_path, db_url):
    d = Daemon(collector_env(sim.base_url, tmp_path, db_url, POLL_INTERVAL_MINUTES="1"))
    yield d
    d.stop()


# SQLite only for the suite's time (up to a minute's wait for a slot): on PostgreSQL,
# test_pg_failover polls 1-minute slots with two collectors.
@SQLITE_ONLY
def test_polls_on_the_slot_and_survives_failures(minutely_daemon, db_url, sim):
    daemon = minutely_daemon
    scheduled = wait_for(
        lambda: [r for r in runs(db_url) if r["trigger"] == "scheduled"], 75, step=0.5
    )
    assert scheduled, daemon.output()
    run = scheduled[0]
    assert run["slot_ts"] % 60 == 0 and 0 <= run["started_at"] - run["slot_ts"] < 3
    control(sim.base_url, fault="http500")
    daemon.request("while-down")
    failed = finished_runs(db_url, "while-down", 20)
    assert failed and failed[0]["status"] == "failed"
    assert daemon.proc.poll() is None  # still running
    control(sim.base_url, fault=None)
    daemon.request("after-recovery")
    ok = finished_runs(db_url, "after-recovery", 20)
    assert ok and ok[0]["status"] == "success"


def test_sigterm_during_a_cycle_exits_cleanly(sim, tmp_path, db_url):
    d = start_clear_of_a_slot(sim, tmp_path, 60, url=db_url, KAMO_TIMEOUT_SECONDS="60")
    try:
        assert wait_for(lambda: [r for r in runs(db_url) if r["status"] == "success"], 20), (
            d.output()
        )
        before = query(db_url, "select count(*) from hourly_load")
        control(sim.base_url, fault="timeout", fault_areas=[3])
        d.request("slow")
        assert wait_for(lambda: (d.heartbeat() or {}).get("state") == "polling", 5)
        first_beat = d.heartbeat()["updated_at"]
        # The heartbeat keeps coming while the cycle waits on KAMO.
        assert wait_for(lambda: d.heartbeat()["updated_at"] > first_beat, 15, step=0.5)
        assert d.heartbeat()["state"] == "polling"
        sent = time.monotonic()
        d.proc.send_signal(signal.SIGTERM)
        assert d.proc.wait(10) == 0
        assert time.monotonic() - sent < 5
    finally:
        d.stop()
    slow = [r for r in runs(db_url) if r["request_id"] == "slow"][0]
    assert slow["status"] == "failed" and slow["message"].startswith("interrupted")
    assert query(db_url, "select count(*) from hourly_load") == before
    assert "collector stopped" in d.output()
    wal = tmp_path / "kamo.db-wal"  # SQLite's: checkpointed on the way out (none on PostgreSQL)
    assert not wal.exists() or wal.stat().st_size == 0


def test_a_run_left_by_a_killed_process_is_closed_at_next_start(sim, tmp_path, db_url):
    d = start_clear_of_a_slot(sim, tmp_path, 60, url=db_url, KAMO_TIMEOUT_SECONDS="60")
    try:
        assert wait_for(lambda: [r for r in runs(db_url) if r["status"] == "success"], 20)
        control(sim.base_url, fault="timeout", fault_areas=[3])
        d.request("doomed")
        assert wait_for(lambda: [r for r in runs(db_url) if r["request_id"] == "doomed"], 5)
        os.kill(d.proc.pid, signal.SIGKILL)
        d.proc.wait(5)
    finally:
        d.stop()
    assert [r["status"] for r in runs(db_url) if r["request_id"] == "doomed"] == ["running"]
    control(sim.base_url, fault=None)
    done = run_collector(d.env, "once")
    assert done.returncode == 0, done.stderr
    doomed = [r for r in runs(db_url) if r["request_id"] == "doomed"][0]
    assert doomed["status"] == "failed" and "ended before this run finished" in doomed["message"]
    assert "closed 1 import run" in done.stdout
    assert run_collector(d.env, "healthcheck").returncode == 1  # the daemon is gone


def test_version_flag():
    done = subprocess.run(
        [sys.executable, "-m", "collector", "--version"],
        env=dict(os.environ, PYTHONPATH=str(REPO_ROOT)),
        capture_output=True,
        text=True,
        timeout=30,
    )
    from collector import __version__

    assert done.returncode == 0 and done.stdout.strip() == f"kamo-load-logger {__version__}"


def test_the_cycle_line_is_out_before_the_heartbeat_says_the_run_finished(sim, tmp_path, db_url):
    """The heartbeat used to report the finished run before its log line was written (an
    alert email went out in between). An SMTP server that never greets holds the alert
    email for its whole timeout: the line must be in the log all that time."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    d = start_clear_of_a_slot(
        sim, tmp_path, 60, url=db_url, SMTP_HOST="127.0.0.1", SMTP_PORT=str(port),
        SMTP_SECURITY="none", NOTIFICATION_EMAIL="ops@coop.test", LOW_DISK_MB="10000000",
    )  # fmt: skip
    try:
        beat = wait_for(lambda: (d.heartbeat() or {}).get("last_cycle"), 20, step=0.01)
        assert beat and beat["status"] == "success", d.output()
        assert "import startup ok" in d.output()
    finally:
        listener.close()
        d.stop()


def test_pending_requests_coalesce_and_wait_for_the_rate_limit(sim, tmp_path, writer_db, db_url):
    """Requests waiting together are answered by one run naming them all; the next request,
    inside the minimum gap between manual runs, is answered by the next scheduled slot."""
    with request_channel(db_url, tmp_path) as channel:  # (writer_db made the tables)
        for name in ("req-a", "req-b", "req-c"):
            channel.submit(request_id=name)  # waiting before the collector starts
    d = start_clear_of_a_slot(sim, tmp_path, 1, clear=25, url=db_url, MANUAL_MIN_GAP_SECONDS="3600")
    first_cycle_answers = FIRST_CYCLE_ANSWERS_WAITING[url_kind(db_url)]
    try:
        batch = finished_runs(db_url, "req-a", 20)
        assert batch, d.output()
        assert json.loads(batch[0]["request_ids"]) == ["req-a", "req-b", "req-c"]
        assert batch[0]["trigger"] == ("startup" if first_cycle_answers else "manual")
        assert batch[0]["status"] == "success"
        assert "requests req-a, req-b, req-c" in d.output()
        if first_cycle_answers:  # a manual run, for the gap to start from
            d.request("req-m")
            assert finished_runs(db_url, "req-m", 20)[0]["trigger"] == "manual"
        assert [r["trigger"] for r in runs(db_url)] == ["startup", "manual"]
        d.request("req-d")
        time.sleep(3)  # a look every second: without the limit it would be taken by now
        assert d.waiting("req-d") and not finished_runs(db_url, "req-d", 0)
        answered = finished_runs(db_url, "req-d", 75)
        assert answered, d.output()
        assert answered[0]["trigger"] == "scheduled" and answered[0]["status"] == "success"
        assert json.loads(answered[0]["request_ids"]) == ["req-d"]
        assert 0 <= answered[0]["started_at"] - answered[0]["slot_ts"] < 3  # on time
    finally:
        d.stop()
    app = create_app(
        {"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path),
         "TZ": "America/Chicago", "TESTING": True}
    )  # fmt: skip
    for request_id in ("req-a", "req-b", "req-c"):
        found = app.test_client().get(f"/api/imports?request_id={request_id}").get_json()
        assert [r["id"] for r in found["runs"]] == [batch[0]["id"]]
        assert found["runs"][0]["request_ids"] == ["req-a", "req-b", "req-c"]
    assert app.test_client().get("/api/imports?request_id=req_a").get_json()["runs"] == []
