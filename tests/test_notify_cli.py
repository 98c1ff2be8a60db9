"""`python -m collector test-notify` as a subprocess, against real local receivers."""

from __future__ import annotations

import json

import pytest

from mqtt_support import start_broker, subscribe
from push_support import start_receiver
from sim_process import free_port
from smtp_support import start_smtp
from support import collector_env, run_collector


@pytest.fixture
def receivers():
    made = [start_receiver(), start_receiver()]
    yield made
    for r in made:
        r.server.shutdown()


def env_for(tmp_path, **extra):
    return collector_env("http://127.0.0.1:9/api", tmp_path, PUBLIC_URL="http://pi.local:8080",
                         **extra)  # fmt: skip


def test_every_channel_gets_a_test_and_each_result_is_printed(tmp_path, receivers):
    good, down = receivers
    down.status = 500
    controller, inbox, smtp_port = start_smtp("none")
    broker = start_broker(tmp_path)
    sub = subscribe(broker.port, "kamo/test")
    try:
        env = env_for(
            tmp_path, SMTP_HOST="127.0.0.1", SMTP_PORT=str(smtp_port), SMTP_SECURITY="none",
            NOTIFICATION_EMAIL="ops@coop.test", NOTIFY_URLS=f"{good.url()} {down.url('x')}",
            MQTT_URL=broker.url,
        )  # fmt: skip
        done = run_collector(env, "test-notify")
        assert done.returncode == 1, done.stdout + done.stderr  # one target failed
        lines = done.stdout.splitlines()
        assert len(lines) == 4, done.stdout
        assert lines[0].startswith("ok      email to ops@coop.test: 250 OK")
        assert lines[1].startswith(f"ok      push json://127.0.0.1:{good.port}/hook")
        assert lines[2].startswith(f"FAILED  push json://127.0.0.1:{down.port}/x")
        assert "error=500" in lines[2]
        assert lines[3] == f"ok      mqtt: published to kamo/test on {broker.url}"
        assert len(inbox.messages) == 1
        (post,) = good.wait_for(1)
        assert post["title"] == "KAMO Load Logger: test message"
        assert post["message"].endswith("\nDashboard: http://pi.local:8080")
        assert sub.wait_for(lambda r: r.get("kamo/test"), 10)
    finally:
        sub.close()
        broker.stop()
        controller.stop()

    down.status = 200
    done = run_collector(dict(env, SMTP_HOST="", MQTT_URL=""), "test-notify")
    assert done.returncode == 0, done.stdout
    assert [line[:8] for line in done.stdout.splitlines()] == ["ok      "] * 2
    assert json.dumps(down.wait_for(1)[0]).count("test message") == 2


def test_unreachable_broker_fails_within_the_timeout(tmp_path):
    done = run_collector(env_for(tmp_path, MQTT_URL=f"mqtt://127.0.0.1:{free_port()}"),
                         "test-notify", timeout=60)  # fmt: skip
    assert done.returncode == 1
    assert done.stdout.startswith("FAILED  mqtt: cannot connect to mqtt://127.0.0.1:")


def test_nothing_configured_and_a_bad_url(tmp_path):
    done = run_collector(env_for(tmp_path), "test-notify")
    assert done.returncode == 1 and "no channel configured" in done.stderr
    bad = run_collector(env_for(tmp_path, NOTIFY_URLS="nosuch://secret@host"), "once")
    assert bad.returncode == 2
    assert bad.stderr.strip().splitlines() == [
        "collector: configuration error: NOTIFY_URLS: URL 1 (nosuch://...) is not a valid "
        "Apprise URL"
    ]
    assert "secret" not in bad.stderr
