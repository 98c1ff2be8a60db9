"""/api/status shows what the collector watches: alert conditions and its clock."""

from __future__ import annotations

import pytest
from api_support import SQLITE_ONLY, Store, check_ok, collector_once, make_app

from collector.alerts import Alerter
from shared.config import load_settings
from shared.db import bind, open_writer

from sim_process import start_simulator


@pytest.fixture(scope="module")
def skewed(new_store) -> Store:
    """A real cycle against a KAMO whose Date header is 10 minutes ahead of our clock."""
    store = new_store("skewed")
    with start_simulator("--quiet", "--date-skew-seconds", "600") as sim:
        check_ok(collector_once(sim, store.data_dir, store.url))
    return store


def test_clock_warning_in_status(skewed):
    body = make_app(skewed).test_client().get("/api/status").get_json()
    assert 590 <= body["clock"]["skew_seconds"] <= 610
    assert "behind KAMO's" in body["clock"]["warning"]
    assert any("clock" in w for w in body["last_run"]["warnings"])
    assert body["alerts"] == []


def test_active_alert_conditions_in_status(skewed):
    url = skewed.url
    db = bind(open_writer(url))
    with db.connection_context():
        # The collector's own alerter, with a disk threshold no machine meets.
        settings = load_settings({"DATABASE_URL": url, "LOW_DISK_MB": "10000000"}, env_file=None)
        Alerter(settings).check()
    body = make_app(skewed).test_client().get("/api/status").get_json()
    assert [a["key"] for a in body["alerts"]] == ["disk"]
    disk = body["alerts"][0]
    assert disk["title"] == "low disk space" and disk["emailed"] is False  # email is off
    assert "MB free under" in disk["detail"][0] and disk["since"].endswith(("-06:00", "-05:00"))


def _beat_file(data_dir, **beat) -> None:
    import json

    (data_dir / "collector.heartbeat").write_text(json.dumps(beat))


@SQLITE_ONLY  # the heartbeat file; PostgreSQL's collector_state: test_pg_channel
def test_health_is_degraded_when_no_cycle_finished_for_two_slots(skewed, tmp_path):
    """The heartbeat is fresh (its thread beats on), but its content shows no progress."""
    from shared.timeutil import now_ts

    now = now_ts()
    app = make_app(skewed, DATA_DIR=str(tmp_path))
    common = {"pid": 1, "updated_at": now, "interval_minutes": 5, "started_at": now - 3600}
    _beat_file(tmp_path, state="idle", last_finished_at=now - 60, **common)
    healthy = app.test_client().get("/api/health?strict=1")
    assert healthy.status_code == 200 and healthy.get_json()["status"] == "ok"
    assert healthy.get_json()["reasons"] == []
    _beat_file(tmp_path, state="idle", last_finished_at=now - 15 * 60, **common)
    body = app.test_client().get("/api/health").get_json()
    assert body["status"] == "degraded"
    assert any("no cycle has finished" in r for r in body["reasons"])
    assert app.test_client().get("/api/health?strict=1").status_code == 503
    page = app.test_client().get("/").get_data(as_text=True)
    assert "no cycle has finished" in page and "badge stuck" in page


@SQLITE_ONLY  # the heartbeat file; PostgreSQL's collector_state: test_pg_channel
def test_health_is_degraded_when_the_heartbeat_stopped(skewed, tmp_path):
    from shared.timeutil import now_ts

    _beat_file(tmp_path, pid=1, updated_at=now_ts() - 600, state="idle", interval_minutes=5)
    response = make_app(skewed, DATA_DIR=str(tmp_path)).test_client().get("/api/health")
    assert response.status_code == 200 and response.get_json()["status"] == "degraded"
    assert "heartbeat stopped" in response.get_json()["reasons"][0]
    assert make_app(skewed).test_client().get("/api/health?strict=2").status_code == 400


@SQLITE_ONLY  # the heartbeat file; PostgreSQL's collector_state: test_pg_channel
def test_status_shows_the_stuck_collector_and_its_unwritten_runs(skewed, tmp_path):
    from shared.timeutil import now_ts

    now = now_ts()
    _beat_file(tmp_path, pid=1, updated_at=now, state="writing", since=now - 400,
               deadline_at=now - 100, interval_minutes=5, started_at=now - 500,
               last_finished_at=now - 450, unwritten_runs=3)  # fmt: skip
    collector = make_app(skewed, DATA_DIR=str(tmp_path)).test_client().get("/api/status").json
    collector = collector["collector"]
    assert collector["doing"] == "writing" and collector["unwritten_runs"] == 3
    assert any("past its deadline" in p for p in collector["problems"])
