"""Push alerts through Apprise, delivered for real to a JSON receiver on 127.0.0.1."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from collector.alerts import Alerter
from collector.push import BODY_MAX, TITLE_MAX, load_collector_settings, make_targets
from collector.runs import finish_run, start_run
from shared.config import ConfigError, load_settings
from shared.models import PushDelivery

from push_support import start_receiver
from sim_process import free_port
from smtp_support import start_smtp
from support import REPO_ROOT

HOSTILE = "<script>alert(1)</script>\r\nRECOVERED: all fine\x00\x1b[31m" + "Ω" * 5000


@pytest.fixture
def receiver():
    r = start_receiver()
    yield r
    r.server.shutdown()


@pytest.fixture
def smtp():
    controller, inbox, port = start_smtp("none")
    yield inbox, port
    controller.stop()


def settings(db_url: str, smtp_port: int | None, *urls: str, **extra: str):
    env = {
        "DATABASE_URL": db_url,
        "NOTIFY_URLS": ",\n ".join(urls),
        "PUBLIC_URL": "http://pi.local:8080/",
        "ALERT_AFTER_FAILURES": "3",
        "LOW_DISK_MB": "1",
        **extra,
    }
    if smtp_port:
        env.update(
            SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_SECURITY="none",
            NOTIFICATION_EMAIL="ops@coop.test",
        )  # fmt: skip
    return load_settings(env, env_file=None)


def add_run(status: str, errors: dict | None = None, started: float | None = None):
    run = start_run("scheduled", 0)
    if started is not None:
        run.started_at = started
    return finish_run(
        run, status=status, areas_total=20, areas_ok=20 if status == "success" else 0,
        area_errors=errors,
    )  # fmt: skip


def fail_three(errors: dict | None = None) -> None:
    first = time.time() - 3600
    for i in range(3):
        add_run("failed", errors, started=first + i * 300)


def test_urls_are_split_and_a_bad_one_names_the_setting():
    s = load_settings({"NOTIFY_URLS": "ntfy://ntfy.sh/a, json://127.0.0.1:9/x\n\tgotify://h/t"},
                      env_file=None)  # fmt: skip
    assert s.notify_urls == ("ntfy://ntfy.sh/a", "json://127.0.0.1:9/x", "gotify://h/t")
    assert [t.label.split("://")[0] for t in make_targets(s.notify_urls)] == [
        "ntfy", "json", "gotify"
    ]  # fmt: skip
    with pytest.raises(ConfigError, match="NOTIFY_URLS") as bad:
        load_settings({"NOTIFY_URLS": "ntfy://a/b not-a-url"}, env_file=None)
    assert "not-a-url" in str(bad.value)
    with pytest.raises(ConfigError, match=r"NOTIFY_URLS: URL 2 \(nosuch://...\)"):
        make_targets(["ntfy://a/b", "nosuch://secret-token@host"])
    for name, value in [("PUBLIC_URL", "ftp://x"), ("PUBLIC_URL", "http://"),
                        ("MQTT_URL", "http://broker"), ("MQTT_URL", "mqtt://h:99999"),
                        ("MQTT_PREFIX", "kamo/#"), ("MQTT_DISCOVERY", "maybe")]:  # fmt: skip
        with pytest.raises(ConfigError, match=name):
            load_settings({name: value}, env_file=None)


def test_unknown_service_stops_the_collector_with_one_line(monkeypatch):
    monkeypatch.setenv("NOTIFY_URLS", "nosuch://token@host")
    with pytest.raises(ConfigError, match="NOTIFY_URLS"):
        load_collector_settings()


def test_alert_and_recovery_arrive_bounded_and_plain(writer_db, receiver, db_url):
    s = settings(db_url, None, receiver.url())
    add_run("success")
    fail_three({"7": HOSTILE, "8": "HTTP 500"})
    Alerter(s).check()
    (post,) = receiver.wait_for(1)
    assert receiver.paths == ["/hook"]
    assert post["type"] == "failure"
    assert post["title"] == "KAMO Load Logger: ALERT: collection failing (3 cycles)"
    lines = post["message"].split("\n")
    assert lines[0].startswith("3 collection cycles in a row have failed, since ")
    # The hostile error stays on its own line: plain text, no line it could forge.
    hostile = next(line for line in lines if line.startswith("Area 7: "))
    assert hostile.startswith("Area 7: <script>alert(1)</script> RECOVERED: all fine [31mΩ")
    assert hostile.endswith("…") and len(hostile) == 300
    assert not any(line.startswith("RECOVERED") for line in lines)
    assert not any(ch in post["message"] for ch in "\r\x00\x1b")
    assert "Area 8: HTTP 500" in lines
    assert lines[-1] == "Dashboard: http://pi.local:8080"
    assert len(post["message"]) <= BODY_MAX and len(post["title"]) <= TITLE_MAX

    add_run("failed")
    Alerter(s).check()  # as after a restart: the delivery record comes from the database
    assert len(receiver.posts) == 1
    add_run("success")
    Alerter(s).check()
    recovery = receiver.wait_for(2)[1]
    assert recovery["type"] == "success"
    assert recovery["title"].startswith("KAMO Load Logger: RECOVERED: collection failing")
    assert "after 1 h 0 min" in recovery["title"]
    assert recovery["message"].endswith("Dashboard: http://pi.local:8080")
    Alerter(s).check()
    assert len(receiver.posts) == 2 and PushDelivery.select().count() == 0


def test_a_long_error_list_is_cut_to_the_bound(writer_db, receiver, db_url):
    s = settings(db_url, None, receiver.url())
    fail_three({str(a): f"{HOSTILE[:200]} {a}" for a in range(1, 21)})
    Alerter(s).check()
    (post,) = receiver.wait_for(1)
    lines = post["message"].split("\n")
    assert len(post["message"]) <= BODY_MAX
    assert lines[-2:] == ["…", "Dashboard: http://pi.local:8080"]


def test_each_channel_retries_alone(writer_db, receiver, smtp, db_url, caplog):
    inbox, smtp_port = smtp
    s = settings(db_url, smtp_port, receiver.url())
    fail_three()
    receiver.status = 500  # push target down, email up
    alerter = Alerter(s)
    alerter.check()
    assert len(inbox.messages) == 1 and receiver.posts == []
    assert "push to json://127.0.0.1" in caplog.text and "retry next cycle" in caplog.text
    receiver.status = 200
    alerter.check()
    assert len(inbox.messages) == 1  # email is not repeated
    assert [p["type"] for p in receiver.wait_for(1)] == ["failure"]

    # Now email down at recovery time: push recovers once, email is retried next cycle.
    add_run("success")
    dead_smtp = settings(db_url, free_port(), receiver.url())
    Alerter(dead_smtp).check()
    assert [p["type"] for p in receiver.wait_for(2)] == ["failure", "success"]
    Alerter(s).check()
    assert len(receiver.posts) == 2


def test_push_recovery_is_retried_while_the_target_is_down(writer_db, receiver, db_url):
    s = settings(db_url, None, receiver.url())
    fail_three()
    Alerter(s).check()
    receiver.wait_for(1)
    add_run("success")
    receiver.status = 500
    Alerter(s).check()
    assert len(receiver.posts) == 1 and PushDelivery.select().count() == 1
    receiver.status = 200
    Alerter(s).check()
    assert [p["type"] for p in receiver.wait_for(2)] == ["failure", "success"]
    assert PushDelivery.select().count() == 0


def test_two_targets_are_tracked_apart(writer_db, receiver, db_url):
    other = start_receiver()
    try:
        other.status = 500
        s = settings(db_url, None, receiver.url("a"), other.url("b"))
        fail_three()
        Alerter(s).check()
        assert len(receiver.wait_for(1)) == 1 and other.posts == []
        other.status = 200
        Alerter(s).check()
        assert len(other.wait_for(1)) == 1 and len(receiver.posts) == 1
    finally:
        other.server.shutdown()


def test_apprise_is_loaded_only_when_push_is_configured():
    """Apprise costs about 17 MB of RSS; a collector without NOTIFY_URLS never imports it."""
    probe = (
        "import sys, collector.daemon, collector.cli\n"
        "from collector.push import PushAlerts\n"
        "from shared.config import load_settings\n"
        "PushAlerts(load_settings(environ={}, env_file=None))\n"
        "print('apprise' in sys.modules)"
    )
    env = {"PATH": "/usr/bin:/bin", "PYTHONPATH": str(REPO_ROOT)}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True)
    assert out.stdout.strip() == "False", out.stderr
