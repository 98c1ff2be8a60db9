"""Disk full under a running collector (a real tmpfs): one clear line per failed cycle, the
failed attempts kept and written as failed runs once space is free, collection resumes."""

from __future__ import annotations

import json
import os
import signal
import sqlite3

import pytest
from small_fs import fill, small_filesystem
from test_daemon import Daemon, runs, wait_for

from api import create_app
from shared.triggers import write_trigger

from support import collector_env

pytestmark = pytest.mark.slow


def _db_rows(db_path) -> list[dict]:
    """The import runs; none while the collector is still creating the schema."""
    with sqlite3.connect(db_path) as db:
        db.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in db.execute("select * from import_run order by id")]
        except sqlite3.OperationalError as exc:
            if "no such table" in str(exc):
                return []
            raise


def test_disk_full_is_one_line_then_recorded_and_collection_resumes(simulator, tmp_path):
    data = tmp_path / "data"  # heartbeat and triggers stay writable; the database fills up
    data.mkdir()
    with small_filesystem(tmp_path / "small", size_mb=16) as small:
        db_path = small / "kamo.db"
        env = collector_env(
            simulator.base_url,
            data,
            POLL_INTERVAL_MINUTES="60",
            DATABASE_URL=f"sqlite:///{db_path}",
            ALERT_AFTER_FAILURES="2",
            LOW_DISK_MB="1",
        )
        d = Daemon(env)
        try:
            assert wait_for(lambda: runs(data) == [] and db_path.exists(), 20)
            assert wait_for(
                lambda: [r for r in _db_rows(db_path) if r["status"] == "success"], 20
            ), d.output()
            filler = fill(small)
            for name in ("full-1", "full-2"):
                write_trigger(data / "triggers", name)
                assert wait_for(lambda n=name: f"request {n}" in d.output(), 20), d.output()
            # The cycle's line comes out before the heartbeat is rewritten: wait for it.
            assert wait_for(lambda: d.heartbeat()["unwritten_runs"] == 2, 10), d.heartbeat()
            assert d.heartbeat()["last_status"] == "failed"
            failed_lines = [ln for ln in d.output().splitlines() if "failed:" in ln]
            assert len(failed_lines) == 2, d.output()
            for line in failed_lines:
                assert "cannot write the database: database or disk is full" in line
            assert "Traceback" not in d.output() and "cannot rollback" not in d.output()
            assert not [
                r for r in _db_rows(db_path) if r["status"] == "failed"
            ]  # nothing could be written at the time

            filler.unlink()
            write_trigger(data / "triggers", "after")
            assert wait_for(
                lambda: [
                    r
                    for r in _db_rows(db_path)
                    if r["request_id"] == "after" and r["status"] == "success"
                ],
                20,
            ), d.output()
            assert "recorded 2 import run(s) that could not be written" in d.output()
            assert list((data / "triggers").iterdir()) == []  # every request answered
        finally:
            d.stop()
        rows = _db_rows(db_path)
        outage = [r for r in rows if r["request_id"] in ("full-1", "full-2")]
        assert [r["status"] for r in outage] == ["failed", "failed"]
        for row in outage:
            assert "database or disk is full" in row["message"]
            assert row["finished_at"] >= row["started_at"]
            assert json.loads(row["request_ids"]) == [row["request_id"]]
        assert outage[0]["started_at"] < outage[1]["started_at"]  # their real times, in order
        with sqlite3.connect(db_path) as db:
            assert db.execute("pragma integrity_check").fetchone()[0] == "ok"
            assert not db.execute("select 1 from import_run where status = 'running'").fetchall()
            # The failure alert counted the two failures written late (ALERT_AFTER_FAILURES=2).
            states = dict(db.execute("select key, active from alert_state").fetchall())
        assert "alert: collection failing (2 cycles)" in d.output()
        assert states.get("failures") == 0  # raised, then recovered by the successful run

        app = create_app(
            {"DATABASE_URL": f"sqlite:///{db_path}", "DATA_DIR": str(data),
             "TZ": "America/Chicago", "TESTING": True}
        )  # fmt: skip
        client = app.test_client()
        found = client.get("/api/imports?request_id=full-2").get_json()["runs"]
        assert [r["status"] for r in found] == ["failed"]
        assert client.get("/api/status").get_json()["runs_24h"]["by_status"]["failed"] == 2


def test_requests_taken_during_an_outage_survive_a_restart(simulator, tmp_path):
    """The failed attempts live in memory until the disk frees; a collector killed before
    that must not lose the requests it had taken: the next start answers them."""
    data = tmp_path / "data"
    data.mkdir()
    with small_filesystem(tmp_path / "small", size_mb=16) as small:
        db_path = small / "kamo.db"
        env = collector_env(simulator.base_url, data, POLL_INTERVAL_MINUTES="60",
                            DATABASE_URL=f"sqlite:///{db_path}")  # fmt: skip
        d = Daemon(env)
        try:
            assert wait_for(lambda: d.heartbeat() and d.heartbeat()["last_cycle"], 20), d.output()
            filler = fill(small)
            write_trigger(data / "triggers", "taken-1")
            assert wait_for(lambda: "failed: cannot write" in d.output(), 20), d.output()
            os.kill(d.proc.pid, signal.SIGKILL)
            d.proc.wait(10)
        finally:
            d.stop()
        filler.unlink()
        again = Daemon(env)
        try:
            answered = wait_for(
                lambda: [
                    r
                    for r in _db_rows(db_path)
                    if r["request_id"] == "taken-1" and r["status"] == "success"
                ],
                20,
            )
            assert answered, again.output()
            assert answered[0]["trigger"] == "manual"
            assert "answering 1 request(s) a stopped collector had taken" in again.output()
        finally:
            again.stop()
