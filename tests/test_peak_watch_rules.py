"""Peak-watch rules on a hand-made month in a real SQLite database: a forecast that never
comes true (false alarm), stale estimates, the month's first day, and message delivery
through a real SMTP server that is down for a while."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from aiosmtpd.controller import Controller

from collector.peak_notify import MAIL_CLEAR, MAIL_OPEN, PeakNotifier
from collector.peak_step import PeakWatchStep
from collector.peak_watch import PeakWatcher
from collector.push import make_targets
from shared.backend import kind, portable_sql
from shared.config import load_settings
from shared.models import HourlyLoad, PeakWatch

from push_support import start_receiver
from sim_process import free_port
from smtp_support import Inbox

HOUR = 3600
MONTH = int(datetime(2026, 12, 1, 6, tzinfo=UTC).timestamp())  # Dec 1, 00:00 CST
T = MONTH + 40 * HOUR  # "now": 40 complete hours into the month


def settings(port: int, **extra: str):
    env = {
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "NOTIFICATION_EMAIL": "ops@coop.test",
        "SMTP_FROM": "logger@coop.test",
        **extra,
    }
    return load_settings(env, env_file=None)


def hours(area: int, start: int, end: int, kw: float, peak_at: int | None = None) -> None:
    HourlyLoad.insert_many(
        [
            {"area_id": area, "ts": ts, "load_kw": 1500.0 if ts == peak_at else kw,
             "first_seen": ts + HOUR, "last_changed": ts + HOUR}
            for ts in range(start, end, HOUR)
        ]
    ).execute()  # fmt: skip


def forecast(db, area: int, target: int, issued: int, kw: float, series="Day Ahead") -> None:
    db.execute_sql(
        portable_sql(kind(db), "INSERT INTO forecast VALUES (?, ?, ?, ?, ?)"),
        (area, series, target, issued, kw),
    )


@pytest.fixture
def month(writer_db):
    hours(20, MONTH, T, 1000.0, peak_at=MONTH + 20 * HOUR)
    return writer_db


def test_a_forecast_that_does_not_come_true_is_a_false_alarm(month):
    watcher = PeakWatcher(settings(1), month)
    forecast(month, 20, T + 2 * HOUR, T, 1480.0)  # 98.7% of the 1500 kW peak, 2 h ahead
    forecast(month, 20, T + 5 * HOUR, T, 1600.0)  # beyond PEAK_WATCH_HOURS: not looked at
    with month.atomic():
        opened = watcher.evaluate(T + 60)
    assert len(opened) == 1
    row = opened[0]
    assert (row.expected_ts, row.expected_kw, row.source) == (T + 2 * HOUR, 1480.0,
                                                             "forecast:Day Ahead")  # fmt: skip
    assert (row.peak_kw, row.peak_ts, row.margin_pct) == (1500.0, MONTH + 20 * HOUR, 1.33)
    month.execute_sql(
        portable_sql(kind(month), "DELETE FROM forecast WHERE target_ts = ?"), (T + 5 * HOUR,)
    )
    # Newer vintages lower the forecast; the hour passes at 1300 kW.
    forecast(month, 20, T + 2 * HOUR, T + 3600, 1200.0)
    hours(20, T, T + 3 * HOUR, 1300.0)
    with month.atomic():
        assert watcher.evaluate(T + 2 * HOUR + 60) == []  # the hour has not passed yet
        closed = watcher.evaluate(T + 3 * HOUR + 60)
    assert [(r.outcome, r.actual_kw) for r in closed] == [("false alarm", 1300.0)]
    assert PeakWatch.select().where(PeakWatch.kind == "new-peak").count() == 0


def test_nothing_is_watched_in_the_months_first_day(writer_db):
    hours(20, MONTH, MONTH + 10 * HOUR, 1000.0)
    forecast(writer_db, 20, MONTH + 11 * HOUR, MONTH + 10 * HOUR, 5000.0)
    hours(20, MONTH + 10 * HOUR, MONTH + 11 * HOUR, 4000.0)
    with writer_db.atomic():
        assert PeakWatcher(settings(1), writer_db).evaluate(MONTH + 11 * HOUR + 60) == []


def test_watched_areas_follow_the_setting(month):
    hours(7, MONTH, T, 100.0, peak_at=None)
    forecast(month, 7, T + HOUR, T, 99.0)
    forecast(month, 20, T + HOUR, T, 900.0)  # area 20 well below: no watch
    with month.atomic():
        rows = PeakWatcher(settings(1, PEAK_WATCH_AREAS="7"), month).evaluate(T + 60)
    assert [(r.area_id, r.kind) for r in rows] == [(7, "watch")]
    with month.atomic():  # 99 kW is 99% of 100: under PEAK_WATCH_PERCENT=99.5 nothing opens
        PeakWatch.delete().execute()
        strict = settings(1, PEAK_WATCH_AREAS="7", PEAK_WATCH_PERCENT="99.5")
        assert PeakWatcher(strict, month).evaluate(T + 60) == []


def test_a_mail_server_that_is_down_gets_the_warning_later_once_and_the_all_clear(month):
    port = free_port()  # nothing listens yet
    notifier = PeakNotifier(settings(port))
    watcher = PeakWatcher(settings(port), month)
    forecast(month, 20, T + HOUR, T, 1490.0)
    with month.atomic():
        watcher.evaluate(T + 60)
    assert notifier.deliver(T + 70) == 0  # refused; kept for the next cycle
    assert PeakWatch.get().notified == 0
    controller, inbox, _ = start_smtp_on(port)
    try:
        assert notifier.deliver(T + 400) == 1
        assert notifier.deliver(T + 700) == 0  # once
        hours(20, T, T + 2 * HOUR, 1460.0)
        with month.atomic():
            watcher.evaluate(T + 2 * HOUR + 60)
        assert notifier.deliver(T + 2 * HOUR + 70) == 1
        assert notifier.deliver(T + 2 * HOUR + 400) == 0
    finally:
        controller.stop()
    subjects = [m["Subject"] for m in inbox.messages]
    assert len(subjects) == 2
    assert "peak watch:" in subjects[0] and "near its monthly peak" in subjects[0]
    assert "peak watch over" in subjects[1] and "(hit)" in subjects[1]
    assert PeakWatch.get().notified == MAIL_OPEN | MAIL_CLEAR


def start_smtp_on(port: int):
    """A real SMTP server on a port chosen before it existed."""
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    return controller, inbox, port


def test_push_targets_get_the_warning_new_peak_and_all_clear_once(month):
    receiver = start_receiver()
    try:
        s = load_settings({"NOTIFY_URLS": receiver.url()}, env_file=None)
        targets = make_targets(s.notify_urls)
        notifier = PeakNotifier(s, targets=lambda: targets)
        watcher = PeakWatcher(s, month)
        forecast(month, 20, T + HOUR, T, 1490.0)
        with month.atomic():
            watcher.evaluate(T + 60)
        assert notifier.deliver(T + 70) == 1
        hours(20, T, T + 2 * HOUR, 1600.0)  # the watched hour beats the month's peak
        with month.atomic():
            changed = watcher.evaluate(T + 2 * HOUR + 60)
        assert sorted((r.kind, r.outcome) for r in changed) == [
            ("new-peak", "new peak"), ("watch", "new peak")]  # fmt: skip
        assert notifier.deliver(T + 2 * HOUR + 70) == 2
        assert notifier.deliver(T + 2 * HOUR + 400) == 0
        posts = receiver.wait_for(3)
    finally:
        receiver.server.shutdown()
    sent = [(p["type"], p["title"].split(": ")[1]) for p in posts]
    assert sent[0] == ("warning", "peak watch")
    assert sorted(sent[1:]) == [("success", "peak watch over"), ("warning", "new monthly peak")]
    assert "(new peak)" in next(p["title"] for p in posts if p["type"] == "success")
    assert PeakWatch.select().where(PeakWatch.kind == "new-peak").count() == 1


def test_a_failing_evaluation_is_an_alert_condition_until_it_works_again(month, caplog):
    step = PeakWatchStep(settings(1), month, targets=list)
    month.execute_sql("ALTER TABLE peak_watch RENAME TO peak_watch_away")
    step.run()  # never raises
    (condition,) = step.conditions()
    assert condition.key == "peak-watch" and "peak_watch" in condition.lines[0]
    assert "peak watch failed" in caplog.text
    month.execute_sql("ALTER TABLE peak_watch_away RENAME TO peak_watch")
    step.run()
    assert step.conditions() == []
