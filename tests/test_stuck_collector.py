"""A collector whose main loop hangs keeps a fresh heartbeat; its content makes it unhealthy.

The hang is injected into a real collector subprocess (a cycle that waits while a file
exists, after its fetches), so the test does not depend on which fetch the cycle deadline
cuts short: whatever hangs, the heartbeat thread must notice it."""

from __future__ import annotations

import subprocess
import sys

import pytest
from test_daemon import wait_for

from api import create_app

from smtp_support import start_smtp
from support import REPO_ROOT, SQLITE_ONLY, collector_env, run_collector

pytestmark = pytest.mark.slow

HANGING_COLLECTOR = """
import sys, time
from pathlib import Path
import collector.cycle as cycle
hold = Path(sys.argv[1])
real = cycle.measure_clock_skew
def hanging(responses):
    while hold.exists():
        time.sleep(0.2)
    return real(responses)
cycle.measure_clock_skew = hanging
from collector.cli import main
sys.exit(main([]))
"""


@pytest.fixture
def smtp():
    controller, inbox, port = start_smtp("none")
    yield inbox, port
    controller.stop()


def _app(url, data_dir):
    return create_app(
        {"DATABASE_URL": url, "DATA_DIR": str(data_dir), "TZ": "America/Chicago", "TESTING": True}
    )


def _health(url, data_dir, strict: bool = False):
    return _app(url, data_dir).test_client().get("/api/health" + ("?strict=1" if strict else ""))


# SQLite only for the suite's time (about 50 s per backend, most of it waiting for the
# cycle deadline); it passes on PostgreSQL too: drop the mark to run it there.
@SQLITE_ONLY
def test_a_hanging_cycle_fails_health_and_alerts_once(simulator, tmp_path, db_url, smtp):
    inbox, port = smtp
    hold = tmp_path / "hold"
    hold.touch()
    env = collector_env(simulator.base_url, tmp_path, db_url, POLL_INTERVAL_MINUTES="1",
                        SMTP_HOST="127.0.0.1", SMTP_PORT=str(port), SMTP_SECURITY="none",
                        NOTIFICATION_EMAIL="ops@coop.test")  # fmt: skip
    log = open(tmp_path / "collector.log", "w+")  # noqa: SIM115
    proc = subprocess.Popen(
        [sys.executable, "-c", HANGING_COLLECTOR, str(hold)],
        env=dict(env, PYTHONPATH=str(REPO_ROOT)),
        cwd=tmp_path,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def output() -> str:
        return (tmp_path / "collector.log").read_text()

    try:
        check = wait_for(lambda: run_collector(env, "healthcheck").returncode == 0, 15)
        assert check, output()  # polling, within its deadline: healthy
        assert _health(db_url, tmp_path).get_json()["status"] == "ok"
        stuck = wait_for(
            lambda: (c := run_collector(env, "healthcheck")).returncode == 1 and c, 80, step=1
        )
        assert stuck, output()
        assert stuck.stdout.startswith("stuck:") and "past its deadline" in stuck.stdout
        body = _health(db_url, tmp_path)
        assert body.status_code == 200 and body.get_json()["status"] == "degraded"
        assert any("past its deadline" in r for r in body.get_json()["reasons"])
        assert _health(db_url, tmp_path, strict=True).status_code == 503
        assert wait_for(lambda: len(inbox.messages) >= 1, 30), output()
        assert inbox.messages[0]["Subject"] == "[KAMO Load Logger] ALERT: collector stuck"
        # Recorded by the heartbeat thread's own connection while the main loop hangs.
        status = _app(db_url, tmp_path).test_client().get("/api/status").get_json()
        assert "collector-stuck" in [a["key"] for a in status["alerts"]]
        assert status["collector"]["doing"] == "polling" and status["collector"]["problems"]

        hold.unlink()  # the cycle goes on, finishes, and the collector is healthy again
        assert wait_for(lambda: run_collector(env, "healthcheck").returncode == 0, 30), output()
        assert wait_for(lambda: len(inbox.messages) >= 2, 30), output()
        assert "RECOVERED: collector stuck" in inbox.messages[1]["Subject"]
        assert _health(db_url, tmp_path, strict=True).status_code == 200
    finally:
        hold.unlink(missing_ok=True)
        proc.terminate()
        proc.wait(15)
        log.close()
    subjects = [m["Subject"] for m in inbox.messages]
    assert sum("ALERT: collector stuck" in s for s in subjects) == 1, subjects
    assert "alert: collector stuck" in output()
