"""Backups and settings, piece by piece: the BACKUP_TIME decision (time-machine), the record
in a backup's gzip header, download names, where settings come from, secrets."""

from __future__ import annotations

import datetime as dt
import gzip
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collector.tasks import scheduled_backup_due
from shared.backups import backup_path, list_backups, read_record, write_gzip
from shared.config import ConfigError, load_settings
from shared.settings_report import database_identity, disagreements, settings_report

from support import SQLITE_ONLY

CT = ZoneInfo("America/Chicago")


def settings(**env: str):
    base = {"DATA_DIR": "/tmp/kamo-unit", "BACKUP_TIME": "03:30"}
    return load_settings({**base, **env}, env_file=None)


def at(*args: int) -> float:
    return dt.datetime(*args, tzinfo=CT).timestamp()


def test_backup_time_is_validated_and_normalised():
    assert settings(BACKUP_TIME="3:05").backup_time == "03:05"
    assert load_settings({}, env_file=None).backup_time is None
    for bad in ("24:00", "3.30", "03:60", "noon"):
        with pytest.raises(ConfigError) as err:
            settings(BACKUP_TIME=bad)
        assert err.value.name == "BACKUP_TIME" and repr(bad) in str(err.value)


def test_scheduled_backup_is_due_once_a_local_day():
    s = settings()
    started = at(2026, 11, 20, 12, 0)
    with time_machine.travel(dt.datetime(2026, 11, 21, 3, 29, tzinfo=CT), tick=False) as tm:
        now = dt.datetime.now(dt.UTC).timestamp()
        assert scheduled_backup_due(now, s, None, started) is None  # before 03:30
        tm.move_to(dt.datetime(2026, 11, 21, 3, 30, tzinfo=CT))
        now = dt.datetime.now(dt.UTC).timestamp()
        target = scheduled_backup_due(now, s, None, started)
        assert target == at(2026, 11, 21, 3, 30)
        # Made: not due again that day, due the next.
        tm.move_to(dt.datetime(2026, 11, 21, 23, 59, tzinfo=CT))
        assert scheduled_backup_due(dt.datetime.now(dt.UTC).timestamp(), s, target, started) is None
        tm.move_to(dt.datetime(2026, 11, 22, 3, 31, tzinfo=CT))
        later = scheduled_backup_due(dt.datetime.now(dt.UTC).timestamp(), s, target, started)
        assert later == at(2026, 11, 22, 3, 30)


def test_a_new_setting_waits_for_its_time_but_a_missed_day_is_made_up():
    s = settings()
    now = at(2026, 11, 21, 9, 0)
    started = at(2026, 11, 21, 8, 0)  # started after today's 03:30
    assert scheduled_backup_due(now, s, None, started) is None
    # It made one two days ago and was off at today's time: due at once.
    assert scheduled_backup_due(now, s, at(2026, 11, 19, 3, 30), started) == at(2026, 11, 21, 3, 30)


def test_backup_time_across_daylight_saving_changes():
    s = settings(BACKUP_TIME="02:30")
    # 2026-03-08: 02:30 does not exist in Chicago; the backup comes at 03:30 CDT.
    with time_machine.travel(dt.datetime(2026, 3, 8, 3, 29, tzinfo=CT), tick=False):
        now = dt.datetime.now(dt.UTC).timestamp()
        assert scheduled_backup_due(now, s, at(2026, 3, 7, 2, 30), 0) is None
    with time_machine.travel(dt.datetime(2026, 3, 8, 3, 30, tzinfo=CT), tick=False):
        now = dt.datetime.now(dt.UTC).timestamp()
        assert scheduled_backup_due(now, s, at(2026, 3, 7, 2, 30), 0) == now
    # 2026-11-01: 01:30 happens twice; one backup, at the first.
    s = settings(BACKUP_TIME="01:30")
    first = dt.datetime(2026, 11, 1, 1, 30, tzinfo=CT).timestamp()
    with time_machine.travel(dt.datetime.fromtimestamp(first + 3600, CT), tick=False):
        now = dt.datetime.now(dt.UTC).timestamp()  # 01:30 CST, the repeat
        assert scheduled_backup_due(now, s, at(2026, 10, 31, 1, 30), 0) == first
        assert scheduled_backup_due(now, s, first, 0) is None


def test_no_schedule_when_unset_or_on_postgresql():
    now = at(2026, 11, 21, 9, 0)
    assert scheduled_backup_due(now, load_settings({}, env_file=None), None, 0) is None
    pg = settings(DATABASE_URL="postgresql://kamo@127.0.0.1/kamo")
    assert scheduled_backup_due(now, pg, None, 0) is None


def test_the_record_travels_in_the_gzip_header(tmp_path):
    source = tmp_path / "copy.db"
    source.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 100)
    target = tmp_path / "kamo_load-20261126T091500Z.db.gz"
    record = {"made_by": "schedule", "integrity": "ok", "schema_version": 8}
    write_gzip(source, target, record)
    assert gzip.decompress(target.read_bytes()) == source.read_bytes()
    assert read_record(target) == record
    (tmp_path / "kamo_load-20261125T091500Z.db.gz").write_bytes(gzip.compress(b"old"))
    (tmp_path / "notes.txt").write_text("mine")
    (tmp_path / "other-20261126T091500Z.db.gz").write_bytes(b"x")
    listed = list_backups(tmp_path, "kamo_load")
    assert [b.name for b in listed] == [target.name, "kamo_load-20261125T091500Z.db.gz"]
    assert (listed[0].made_by, listed[0].integrity, listed[0].schema_version) == (
        "schedule",
        "ok",
        8,
    )
    assert listed[1].record is None and listed[1].made_by is None  # made before records
    assert listed[0].created_at == dt.datetime(2026, 11, 26, 9, 15, tzinfo=dt.UTC).timestamp()


def test_download_names_cannot_leave_the_backup_directory(tmp_path):
    backups = tmp_path / "backups"
    backups.mkdir()
    good = backups / "kamo_load-20261126T091500Z.db.gz"
    good.write_bytes(b"x")
    (tmp_path / "kamo_load-20261126T091501Z.db.gz").write_bytes(b"secret")
    (backups / "kamo_load-20261126T091502Z.db.gz").symlink_to(tmp_path / "kamo_load.db")
    assert backup_path(backups, good.name) == good
    for bad in (
        "../kamo_load-20261126T091501Z.db.gz",
        "..%2Fkamo_load-20261126T091501Z.db.gz",
        "/etc/passwd",
        "kamo_load.db",
        "kamo_load-20261126T091502Z.db.gz",  # a symlink out of the folder
        "kamo_load-20261126T091503Z.db.gz",  # missing
        ".kamo_load-20261126T091500Z.db.gz.tmp",
    ):
        assert backup_path(backups, bad) is None, bad


def test_settings_say_where_each_value_came_from(tmp_path, monkeypatch):
    env_file = tmp_path / ".env"
    env_file.write_text("POLL_INTERVAL_MINUTES=10\nTZ=Europe/Berlin\nSMTP_PASSWORD=hunter2\n")
    s = load_settings(
        {
            "TZ": "America/Chicago",
            "API_KEY": "k-secret-1",
            "DATABASE_URL": "postgresql://kamo:pw-secret@127.0.0.1:5432/kamo",
            "MQTT_URL": "mqtt://ha:mq-secret@127.0.0.1:1883",
            "NOTIFY_URLS": "ntfy://127.0.0.1/topic-secret",
        },
        env_file=env_file,
    )
    report = settings_report(s)
    assert report["POLL_INTERVAL_MINUTES"] == {"value": "10", "source": ".env"}
    assert report["TZ"] == {"value": "America/Chicago", "source": "environment"}
    assert report["LOG_LEVEL"] == {"value": "INFO", "source": "default"}
    assert report["API_KEY"]["value"] == "set" and report["SMTP_PASSWORD"]["value"] == "set"
    assert report["NOTIFY_URLS"]["value"] == "set" and report["SMTP_USER"]["value"] == ""
    assert report["MQTT_URL"]["value"] == "mqtt://ha:(password set)@127.0.0.1:1883"
    assert report["DATABASE_URL"]["identity"] == "postgresql://127.0.0.1:5432/kamo"
    text = repr(report)
    for secret in ("hunter2", "k-secret-1", "pw-secret", "mq-secret", "topic-secret"):
        assert secret not in text
    assert settings_report(load_settings({}, env_file=None))["API_KEY"]["value"] == "unset"


def test_disagreements_are_flagged(tmp_path):
    db = f"sqlite:///{tmp_path / 'kamo.db'}"
    api = settings_report(load_settings({"DATABASE_URL": db}, env_file=None))
    same_file = f"sqlite:///{Path(tmp_path / 'x' / '..' / 'kamo.db')}"
    collector = settings_report(
        load_settings({"DATABASE_URL": same_file, "POLL_INTERVAL_MINUTES": "10"}, env_file=None)
    )
    assert disagreements(collector, api) == ["POLL_INTERVAL_MINUTES"]
    assert disagreements(None, api) == []
    assert database_identity(db) == f"sqlite:{(tmp_path / 'kamo.db').resolve()}"


@SQLITE_ONLY  # scheduled backups copy the SQLite file; PostgreSQL has pg_dump instead
def test_backup_alert_failed_then_missing_then_clear(writer_db, db_url):
    from collector.backup_alerts import backup_condition
    from shared.models import CollectorTask

    s = settings(DATABASE_URL=db_url)
    started = at(2026, 11, 20, 12, 0)
    # Before the first BACKUP_TIME the collector ran through: nothing to say.
    assert backup_condition(s, at(2026, 11, 21, 3, 0), started) is None
    # 03:30 passed while running and no backup was made: missing, after two hours' grace.
    assert backup_condition(s, at(2026, 11, 21, 5, 0), started) is None
    missing = backup_condition(s, at(2026, 11, 21, 5, 31), started)
    assert missing and missing.title == "scheduled backup missing"
    assert missing.since == at(2026, 11, 21, 3, 30)
    # Started after today's time: today's is not missing (it is made up at start, or not due).
    assert backup_condition(s, at(2026, 11, 21, 9, 0), at(2026, 11, 21, 8, 0)) is None
    row = {"kind": "backup", "requested_at": at(2026, 11, 21, 3, 30), "started_at": 0}
    CollectorTask.create(
        request_id="scheduled-2026-11-21",
        status="failed",
        message="[Errno 28] No space left on device",
        finished_at=at(2026, 11, 21, 3, 31),
        **row,
    )
    failed = backup_condition(s, at(2026, 11, 21, 9, 0), started)
    assert failed and failed.title == "scheduled backup failed"
    assert "No space left on device" in failed.lines[0]
    CollectorTask.update(status="done").execute()
    assert backup_condition(s, at(2026, 11, 21, 9, 0), started) is None
    assert backup_condition(load_settings({"DATABASE_URL": db_url}, env_file=None), 0, 0) is None


@pytest.mark.postgres
@pytest.mark.parametrize("engine", ["sqlite", "postgres"])
def test_task_rows_on_both_databases(engine, request, tmp_path):
    """A request recorded, then recorded again after a restart (the same id), on each
    database; a backup on PostgreSQL fails with the pg_dump advice."""
    from collector.tasks import Job, TaskRunner
    from shared.db import bind, open_writer
    from shared.models import CollectorTask
    from shared.schema import migrate

    if engine == "postgres":
        url = request.getfixturevalue("pg_database")
    else:
        url = f"sqlite:///{tmp_path / 'kamo.db'}"
    db = bind(open_writer(url))
    db.connect(reuse_if_open=True)
    try:
        migrate(db)
        s = load_settings({"DATABASE_URL": url, "DATA_DIR": str(tmp_path)}, env_file=None)
        runner = TaskRunner(s, db, started_at=0)
        for _ in range(2):
            runner._run(Job("req-1", "test_email", time.time()))
            row = CollectorTask.get_by_id("req-1")
            assert row.status == "failed" and "email is off" in row.message
            assert row.finished_at is not None
        runner._run(Job("req-2", "backup", time.time()))
        row = CollectorTask.get_by_id("req-2")
        if engine == "postgres":
            assert row.status == "failed" and "pg_dump" in row.message
        else:
            assert row.status == "done" and "integrity ok" in row.message
    finally:
        db.close()


def test_a_bad_backup_time_stops_the_collector_with_one_line(tmp_path):
    from support import run_collector

    env = {"DATA_DIR": str(tmp_path), "BACKUP_TIME": "25:00", "PATH": "/usr/bin:/bin"}
    done = run_collector(env, timeout=30)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "collector: configuration error: BACKUP_TIME: '25:00' is not a time of day HH:MM "
        "(00:00-23:59)"
    ]
