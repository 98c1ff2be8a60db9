"""/api/status shows what the collector watches: alert conditions and its clock."""

from __future__ import annotations

import pytest
from api_support import check_ok, collector_once, make_app

from collector.alerts import Alerter
from shared.config import load_settings
from shared.db import bind, open_writer

from sim_process import start_simulator


@pytest.fixture(scope="module")
def skewed(tmp_path_factory):
    """A real cycle against a KAMO whose Date header is 10 minutes ahead of our clock."""
    data = tmp_path_factory.mktemp("skewed")
    with start_simulator("--quiet", "--date-skew-seconds", "600") as sim:
        check_ok(collector_once(sim, data))
    return data


def test_clock_warning_in_status(skewed):
    body = make_app(skewed).test_client().get("/api/status").get_json()
    assert 590 <= body["clock"]["skew_seconds"] <= 610
    assert "behind KAMO's" in body["clock"]["warning"]
    assert any("clock" in w for w in body["last_run"]["warnings"])
    assert body["alerts"] == []


def test_active_alert_conditions_in_status(skewed):
    url = f"sqlite:///{skewed / 'kamo.db'}"
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
