"""Backups and test emails carried out by the real collector daemon: on request through the
trigger channel, and daily at BACKUP_TIME (rotated; a failure raises an alert)."""

from __future__ import annotations

import datetime as dt
import gzip
import sqlite3
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from test_daemon import Daemon, sim, start_clear_of_a_slot  # noqa: F401 (sim: a fixture)

from api import create_app
from shared.backups import list_backups
from shared.schema import SCHEMA_VERSION
from shared.triggers import write_trigger

from smtp_support import start_smtp
from support import query_dicts, wait_for

CT = ZoneInfo("America/Chicago")


def task(where: Path | str, request_id: str) -> dict | None:
    """The collector_task row of a request, from a database URL or DATA_DIR/kamo.db."""
    url = where if isinstance(where, str) else f"sqlite:///{where / 'kamo.db'}"
    try:
        rows = query_dicts(url, "select * from collector_task where request_id = ?", request_id)
    except Exception as exc:  # no table yet: sqlite3.OperationalError, psycopg2 UndefinedTable
        if "collector_task" in str(exc):
            return None
        raise
    return rows[0] if rows else None


def finished(where: Path | str, request_id: str, timeout: float) -> dict | None:
    return wait_for(
        lambda: (t := task(where, request_id)) and t["status"] in ("done", "failed") and t,
        timeout,
    )


def started(d: Daemon) -> Daemon:
    assert wait_for(lambda: (d.heartbeat() or {}).get("last_cycle"), 30), d.output()
    return d


def test_backup_on_request_is_recorded_and_listed(sim, tmp_path):  # noqa: F811
    d = started(start_clear_of_a_slot(sim, tmp_path, 60))
    try:
        trigger = write_trigger(tmp_path / "triggers", kind="backup")
        row = finished(tmp_path, trigger.request_id, 60)
        assert row and row["status"] == "done", (row, d.output())
        assert row["kind"] == "backup" and "integrity ok" in row["message"]
        assert not list((tmp_path / "triggers").glob("*.json"))  # the row is the record
        (backup,) = list_backups(tmp_path / "backups", "kamo")
        assert (backup.made_by, backup.integrity) == ("hand", "ok")
        assert backup.schema_version == SCHEMA_VERSION and backup.size > 0
        assert backup.name in row["detail"]
        copy = tmp_path / "copy.db"
        copy.write_bytes(gzip.decompress(backup.path.read_bytes()))
        with sqlite3.connect(copy) as db:
            assert db.execute("select count(*) from import_run").fetchone()[0] >= 1
        # The heartbeat carries the collector's effective settings, with their sources.
        settings = d.heartbeat()["settings"]
        assert settings["POLL_INTERVAL_MINUTES"] == {"value": "60", "source": "environment"}
        assert settings["SMTP_PASSWORD"]["value"] == "unset"
    finally:
        d.stop()


def test_test_email_request_records_the_smtp_answer(sim, tmp_path, db_url):  # noqa: F811
    controller, inbox, port = start_smtp()
    try:
        mail = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "NOTIFICATION_EMAIL": "ops@example.test",
        }
        d = started(start_clear_of_a_slot(sim, tmp_path, 60, url=db_url, **mail))
        try:
            row = finished(db_url, d.request(kind="test_email"), 30)
            assert row and row["status"] == "done", (row, d.output())
            assert "250 OK queued as test-4711" in row["message"]
            assert inbox.messages and "test message" in inbox.messages[0]["Subject"]
        finally:
            d.stop()
    finally:
        controller.stop()


def next_minute(margin: float = 20) -> tuple[str, float]:
    """BACKUP_TIME for the next local minute at least `margin` s away, and that instant."""
    now = time.time()
    at = (int(now // 60) + 1) * 60
    if at - now < margin:
        at += 60
    return dt.datetime.fromtimestamp(at, CT).strftime("%H:%M"), at


@pytest.mark.slow
def test_scheduled_backup_rotates_and_a_failing_one_raises_an_alert(sim, tmp_path):  # noqa: F811
    good_dir, bad_dir = tmp_path / "good", tmp_path / "bad"
    good_dir.mkdir()
    bad_dir.mkdir()
    backups = good_dir / "backups"
    backups.mkdir()
    old = [backups / f"kamo-2026010{n}T033000Z.db.gz" for n in (1, 2, 3)]
    for path in old:
        path.write_bytes(gzip.compress(b"old"))
    (bad_dir / "not-a-folder").write_text("a file where the backups should go")
    clock, due = next_minute()
    keep = {"BACKUP_TIME": clock, "BACKUP_KEEP_DAILY": "1", "BACKUP_KEEP_WEEKLY": "0"}
    good = started(start_clear_of_a_slot(sim, good_dir, 60, **keep))
    bad = started(
        start_clear_of_a_slot(
            sim, bad_dir, 60, BACKUP_TIME=clock, BACKUP_DIR=str(bad_dir / "not-a-folder" / "b")
        )
    )
    try:
        day = dt.datetime.fromtimestamp(due, CT).date().isoformat()
        request_id = f"scheduled-{day}"
        row = finished(good_dir, request_id, due - time.time() + 60)
        assert row and row["status"] == "done", (row, good.output())
        assert row["started_at"] >= due
        (made,) = list_backups(backups, "kamo")  # the three old ones rotated away
        assert made.made_by == "schedule" and made.integrity == "ok"
        assert not any(p.exists() for p in old)
        assert "scheduled backup done" in good.output()

        failed = finished(bad_dir, request_id, 30)
        assert failed and failed["status"] == "failed", (failed, bad.output())
        assert "not-a-folder" in failed["message"]

        def alert() -> dict | None:
            with sqlite3.connect(bad_dir / "kamo.db") as db:
                row = db.execute(
                    "select active, detail from alert_state where key = 'backup'"
                ).fetchone()
            return {"active": row[0], "detail": row[1]} if row and row[0] else None

        raised = wait_for(alert, 20)
        assert raised and raised["detail"].startswith("scheduled backup failed"), bad.output()
        # Visible in /api/status like the other alerts.
        app = create_app(
            {"DATABASE_URL": f"sqlite:///{bad_dir / 'kamo.db'}", "DATA_DIR": str(bad_dir)}
        )
        status = app.test_client().get("/api/status").get_json()
        assert [a for a in status["alerts"] if a["key"] == "backup"]
        home = app.test_client().get("/").get_data(as_text=True)
        assert 'id="alerts"' in home and "scheduled backup failed" in home
        assert not wait_for(lambda: task(good_dir, request_id)["status"] != "done", 0.1)
    finally:
        good.stop()
        bad.stop()
