"""Email alerts with a real SMTP server (aiosmtpd) on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from collector.alerts import FROZEN_POLLS, Alerter
from collector.notify import Mail, NotifyError, send_mail
from collector.retention import prune_readings
from collector.rollup import build_completed_hours
from collector.runs import finish_run, start_run
from shared.config import load_settings
from shared.models import (
    AlertState,
    HourlyLoad,
    RowCount,
    Substation,
    SubstationHourly,
    SubstationReading,
)

from sim_process import control, free_port
from smtp_support import start_smtp
from support import REPO_ROOT, collector_env


@pytest.fixture
def smtp():
    controller, inbox, port = start_smtp("none")
    yield inbox, port
    controller.stop()


@pytest.fixture
def settings_for(db_url):
    """Settings for the SMTP server on `port`, pointing at this test's database (whose
    folder is what the disk check measures)."""

    def make(port: int, **extra: str):
        env = {
            "DATABASE_URL": db_url,
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "NOTIFICATION_EMAIL": "ops@coop.test",
            "SMTP_FROM": "logger@coop.test",
            "ALERT_AFTER_FAILURES": "3",
            "LOW_DISK_MB": "1",
            **extra,
        }
        return load_settings(env, env_file=None)

    return make


def add_run(status: str, errors: dict | None = None, started: float | None = None, message=None):
    run = start_run("scheduled", 0)
    if started is not None:
        run.started_at = started
    return finish_run(
        run, status=status, areas_total=20, areas_ok=20 if status == "success" else 0,
        area_errors=errors, message=message,
    )  # fmt: skip


@pytest.mark.parametrize("mode", ["none", "starttls", "ssl"])
def test_send_mail_in_every_security_mode(tmp_path, monkeypatch, mode, settings_for):
    controller, inbox, port = start_smtp(mode, tmp_path)
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "cert.pem"))  # trust the test CA
    try:
        s = settings_for(port, SMTP_HOST="localhost", SMTP_SECURITY=mode)
        reply = send_mail(s, Mail("hello", ["one <b>"]))
    finally:
        controller.stop()
    assert reply == "250 OK queued as test-4711"
    msg = inbox.messages[0]
    assert msg["To"] == "ops@coop.test" and msg["From"] == "logger@coop.test"
    assert msg.get_body(("plain",)).get_content().rstrip() == "one <b>"
    assert "<p>one &lt;b&gt;</p>" in msg.get_body(("html",)).get_content()


def test_starttls_refuses_an_untrusted_certificate(tmp_path, settings_for):
    controller, inbox, port = start_smtp("starttls", tmp_path)
    try:
        with pytest.raises(NotifyError, match="CERTIFICATE_VERIFY_FAILED"):
            send_mail(settings_for(port, SMTP_HOST="localhost", SMTP_SECURITY="starttls"),
                      Mail("x", ["y"]))  # fmt: skip
    finally:
        controller.stop()
    assert inbox.messages == []


def test_one_alert_after_n_failures_then_one_recovery(writer_db, smtp, settings_for):
    inbox, port = smtp
    s = settings_for(port)
    add_run("success")
    first = time.time() - 3600
    for i in range(3):
        add_run("failed", {"7": "areagrid: <script>alert(1)</script>"}, started=first + i * 300,
                message=None)  # fmt: skip
    Alerter(s).check()
    assert len(inbox.messages) == 1
    alert = inbox.messages[0]
    assert "ALERT: collection failing (3 cycles)" in alert["Subject"]
    text = alert.get_body(("plain",)).get_content()
    assert "3 collection cycles in a row have failed, since" in text
    assert "Area 7: areagrid: <script>alert(1)</script>" in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in alert.get_body(("html",)).get_content()
    add_run("failed")
    Alerter(s).check()  # a new Alerter, as after a restart: state comes from the database
    assert len(inbox.messages) == 1  # no repeat
    add_run("success")
    Alerter(s).check()
    assert len(inbox.messages) == 2
    recovery = inbox.messages[1]
    assert recovery["Subject"].startswith("[KAMO Load Logger] RECOVERED: collection failing")
    assert "after 1 h 0 min" in recovery["Subject"]
    Alerter(s).check()
    assert len(inbox.messages) == 2
    assert AlertState.get(AlertState.key == "failures").active is False


def test_below_the_threshold_nothing_is_sent(writer_db, smtp, settings_for):
    inbox, port = smtp
    add_run("success")
    add_run("failed")
    add_run("failed")
    assert Alerter(settings_for(port)).check() == []
    assert inbox.messages == []


def test_failing_smtp_is_logged_and_retried(writer_db, smtp, caplog, settings_for):
    inbox, port = smtp
    for _ in range(3):
        add_run("failed")
    dead = settings_for(free_port())
    Alerter(dead).check()  # must not raise
    assert "alert email not sent" in caplog.text
    assert AlertState.get(AlertState.key == "failures").notified is False
    Alerter(settings_for(port)).check()
    assert len(inbox.messages) == 1
    assert AlertState.get(AlertState.key == "failures").notified is True


def test_repeated_partial_runs_for_one_area_alert(writer_db, smtp, settings_for):
    inbox, port = smtp
    for _ in range(3):
        add_run("partial", {"12": "arealoadtable: missing 'name'", "3": "timeout"})
    add_run("partial", {"12": "arealoadtable: missing 'name'"})
    Alerter(settings_for(port)).check()
    subjects = [m["Subject"] for m in inbox.messages]
    assert subjects == ["[KAMO Load Logger] ALERT: area 12 failing in every poll"]


def test_stale_hourly_load_alerts(writer_db, smtp, settings_for):
    inbox, port = smtp
    now = time.time()
    HourlyLoad.create(area_id=20, ts=int(now) - 4 * 3600, load_kw=1.0,
                      first_seen=int(now) - 3 * 3600 - 60, last_changed=0)  # fmt: skip
    Alerter(settings_for(port)).check(now)
    assert [m["Subject"] for m in inbox.messages] == [
        "[KAMO Load Logger] ALERT: KAMO's hourly load is not advancing"
    ]


def _readings(slots, values):
    sub = Substation.create(area_id=4, name="Lamar", first_seen=0, last_seen=0)
    for ts, kw in zip(slots, values, strict=True):
        SubstationReading.create(ts=ts, substation_id=sub.id, kw=kw, kvar=-5.0, pf_centi=-99,
                                 quality=False, quality_now=False)  # fmt: skip


def test_frozen_substations_alert(writer_db, smtp, settings_for):
    inbox, port = smtp
    slots = [1_795_000_000 + 300 * i for i in range(FROZEN_POLLS)]
    _readings(slots, [100.0] * FROZEN_POLLS)
    Alerter(settings_for(port)).check()
    assert [m["Subject"] for m in inbox.messages] == [
        "[KAMO Load Logger] ALERT: area 4 substation values frozen"
    ]


def test_changing_substations_do_not_alert(writer_db, smtp, settings_for):
    inbox, port = smtp
    slots = [1_795_000_000 + 300 * i for i in range(FROZEN_POLLS)]
    _readings(slots, [100.0] * (FROZEN_POLLS - 1) + [101.0])
    Alerter(settings_for(port)).check()
    assert inbox.messages == []


def test_low_disk_alerts(writer_db, smtp, settings_for):
    inbox, port = smtp
    Alerter(settings_for(port, LOW_DISK_MB="10000000")).check()
    assert [m["Subject"] for m in inbox.messages] == ["[KAMO Load Logger] ALERT: low disk space"]
    assert "MB free under" in inbox.messages[0].get_body(("plain",)).get_content()


def test_retention_prunes_only_rolled_up_old_readings(writer_db):
    day = 86400
    now = 1_795_000_000 - 1_795_000_000 % 3600
    sub = Substation.create(area_id=1, name="A", first_seen=0, last_seen=0)
    for ts in (now - 10 * day, now - 9 * day, now - 2 * day, now - 600):
        SubstationReading.create(ts=ts, substation_id=sub.id, kw=1.0, kvar=0.0, pf_centi=0,
                                 quality=False, quality_now=False)  # fmt: skip
    RowCount.update(rows=4).where(RowCount.table == "substation_reading").execute()
    assert prune_readings(None, now) == 0  # off by default: keep forever
    assert prune_readings(5, now) == 0  # nothing rolled up yet: nothing pruned
    while build_completed_hours(now):
        pass
    assert prune_readings(5, now) == 1  # a cycle removes at most six hours of the backlog
    assert prune_readings(5, now + 6 * 3600 + day) == 1
    assert SubstationReading.select().count() == 2
    assert RowCount.get(RowCount.table == "substation_reading").rows == 2
    assert sum(r.samples for r in SubstationHourly.select()) == 4


def test_test_email_command_prints_the_server_answer(tmp_path, smtp):
    inbox, port = smtp
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(REPO_ROOT),
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(port),
        "SMTP_SECURITY": "none",
        "NOTIFICATION_EMAIL": "ops@coop.test",
    }
    done = subprocess.run([sys.executable, "-m", "collector", "test-email"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "the server answered: 250 OK queued as test-4711" in done.stdout
    assert inbox.messages[0]["Subject"] == "[KAMO Load Logger] test message"
    env["SMTP_PORT"] = str(free_port())
    failed = subprocess.run([sys.executable, "-m", "collector", "test-email"], env=env,
                            cwd=tmp_path, capture_output=True, text=True, timeout=30)  # fmt: skip
    assert failed.returncode == 1 and "test email failed" in failed.stderr


def _run_failed(url: str, request_id: str) -> bool:
    from support import import_runs

    return any(r["request_id"] == request_id and r["status"] == "failed" for r in import_runs(url))


def test_daemon_alerts_on_an_outage_and_recovers(simulator, tmp_path, db_url, smtp):
    from test_daemon import Daemon, runs, wait_for

    inbox, port = smtp
    control(simulator.base_url, now=None, fault=None, fault_areas=None)
    env = collector_env(simulator.base_url, tmp_path, db_url, POLL_INTERVAL_MINUTES="60",
                        SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none",
                        NOTIFICATION_EMAIL="ops@coop.test", ALERT_AFTER_FAILURES="2")  # fmt: skip
    d = Daemon(env)
    try:
        assert wait_for(lambda: [r for r in runs(db_url) if r["status"] == "success"], 20)
        control(simulator.base_url, fault="http500")
        for name in ("down-1", "down-2"):
            d.request(name)
            assert wait_for(lambda n=name: _run_failed(db_url, n), 30), d.output()
        assert wait_for(lambda: len(inbox.messages) == 1, 10), d.output()
        control(simulator.base_url, fault=None)
        d.request("back")
        assert wait_for(lambda: len(inbox.messages) == 2, 30), d.output()
    finally:
        control(simulator.base_url, fault=None)
        d.stop()
    assert "ALERT: collection failing (2 cycles)" in inbox.messages[0]["Subject"]
    assert "RECOVERED: collection failing" in inbox.messages[1]["Subject"]


def test_disk_is_measured_where_the_database_will_be(tmp_path):
    from collector.alerts import disk_path

    s = load_settings({"DATABASE_URL": f"sqlite:///{tmp_path}/not/yet/kamo.db"}, env_file=None)
    assert disk_path(s) == tmp_path.resolve()  # nearest existing folder, no crash
