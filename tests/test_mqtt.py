"""MQTT with Home Assistant discovery, end to end: a real mosquitto on 127.0.0.1, the
collector daemon as a subprocess against the simulator, a paho subscriber checking what
arrives (discovery fields Home Assistant documents, state values, retained flags, the
last will after kill -9)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from test_daemon import Daemon

from api import create_app

from mqtt_support import start_broker, subscribe
from sim_process import control, free_port
from support import collector_env, query, wait_for

pytestmark = pytest.mark.slow
PINNED = "2026-11-26T16:07:00Z"
HA_SENSOR_FIELDS = {"name", "unique_id", "state_topic", "availability_topic", "device"}


@pytest.fixture
def sim(simulator):
    control(simulator.base_url, now=PINNED, fault=None, fault_areas=None, revise=0,
            error_rate=0, latency_ms=0)  # fmt: skip
    yield simulator


@pytest.fixture
def broker(tmp_path):
    b = start_broker(tmp_path)
    yield b
    b.stop()


def collector(sim, tmp_path: Path, url: str, mqtt_url: str, **extra: str) -> Daemon:
    env = collector_env(sim.base_url, tmp_path, url, POLL_INTERVAL_MINUTES="60",
                        MQTT_URL=mqtt_url, **extra)  # fmt: skip
    return Daemon(env)


def mqtt_status(c: Daemon) -> dict:
    """The broker status the collector keeps in its heartbeat ({} before the first one)."""
    return (c.heartbeat() or {}).get("mqtt") or {}


def newest_loads(url: str) -> dict[int, float]:
    return dict(
        query(
            url,
            "select area_id, load_kw from hourly_load h where ts = "
            "(select max(ts) from hourly_load where area_id = h.area_id)",
        )
    )


def test_discovery_state_retained_and_last_will(sim, broker, tmp_path, db_url):
    live = subscribe(broker.port, "kamo/#", "homeassistant/#")
    c = collector(sim, tmp_path, db_url, broker.url)
    try:
        assert live.wait_for(lambda r: "kamo/health" in r and "kamo/run" in r, 60), c.output()
        # A subscriber that comes later gets everything as retained messages.
        late = subscribe(broker.port, "kamo/#", "homeassistant/#")
        assert late.wait_for(lambda r: len([t for t in r if t.startswith("kamo/area/")]) == 20)
        assert late.last("kamo/status") == ("online", True)

        configs = {t: json.loads(late.last(t)[0]) for t in late.received if t.endswith("/config")}
        assert all(late.last(t)[1] for t in configs)  # retained
        areas = {t: v for t, v in configs.items() if "/sensor/kamo/area_" in t}
        assert len(areas) == 20
        for topic, config in areas.items():
            assert set(config) >= HA_SENSOR_FIELDS, topic
            assert (config["device_class"], config["unit_of_measurement"],
                    config["state_class"]) == ("power", "kW", "measurement")  # fmt: skip
            assert config["availability_topic"] == "kamo/status"
            assert (config["payload_available"], config["payload_not_available"]) == (
                "online", "offline")  # fmt: skip
            assert config["state_topic"] in late.received
            assert config["device"]["name"] == "KAMO Load Logger"
        assert len({c["unique_id"] for c in configs.values()}) == len(configs) == 23
        assert len({json.dumps(c["device"], sort_keys=True) for c in configs.values()}) == 1
        run_cfg = configs["homeassistant/sensor/kamo/last_run/config"]
        assert run_cfg["state_topic"] == "kamo/run" and "success" in run_cfg["options"]
        health_cfg = configs["homeassistant/binary_sensor/kamo/collection_problem/config"]
        assert (health_cfg["device_class"], health_cfg["state_topic"]) == ("problem", "kamo/health")

        # State values are what the cycle stored.
        loads = newest_loads(db_url)
        assert len(loads) == 20
        for area_id, load_kw in loads.items():
            payload, retained = late.last(f"kamo/area/{area_id}")
            state = json.loads(payload)
            assert retained and state["area_id"] == area_id and state["load_kw"] == load_kw
            assert state["timestamp"].endswith("-06:00") and state["area_name"]
        run = json.loads(late.last("kamo/run")[0])
        assert (run["status"], run["trigger"], run["areas_ok"]) == ("success", "startup", 20)
        assert json.loads(late.last("kamo/health")[0]) == {"problem": False, "problems": []}
        assert json.loads(late.last("kamo/peak_watch")[0]) == {"active": False, "watches": []}
        beat = wait_for(lambda: mqtt_status(c).get("last_published_at"), 10)
        assert beat and mqtt_status(c).get("state") == "connected"
        late.close()

        c.proc.kill()  # kill -9: only the broker's last will can say it
        c.proc.wait()
        assert live.wait_for(lambda r: r.get("kamo/status", [("", False)])[-1][0] == "offline", 30)
        after = subscribe(broker.port, "kamo/status")
        assert after.wait_for(lambda r: r.get("kamo/status")) == [("offline", True)]
        after.close()
    finally:
        live.close()
        c.stop()


def test_broker_down_is_retried_and_reported_without_stopping_collection(sim, tmp_path, db_url):
    port = free_port()
    c = collector(sim, tmp_path, db_url, f"mqtt://127.0.0.1:{port}", MQTT_PREFIX="coop/kamo",
                  MQTT_DISCOVERY="off")  # fmt: skip
    broker = None
    try:
        down = wait_for(lambda: mqtt_status(c).get("failed_attempts", 0) >= 2,
                        30)  # fmt: skip
        assert down, c.output()
        status = mqtt_status(c)
        assert status["state"] == "down" and status["broker"] == f"mqtt://127.0.0.1:{port}"
        assert "import startup ok" in wait_for(c.output, 30)  # the cycle did not wait for MQTT

        app = create_app(
            {"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path)}
        )  # /api/status shows what the heartbeat says
        shown = app.test_client().get("/api/status").get_json()["collector"]["mqtt"]
        assert shown["state"] == "down" and shown["failed_attempts"] >= 2

        broker = start_broker(tmp_path, port)  # the broker comes back: reconnect with backoff
        sub = subscribe(port, "#")
        assert sub.wait_for(lambda r: "coop/kamo/run" in r and "coop/kamo/status" in r, 150)
        assert not [t for t in sub.received if t.startswith("homeassistant/")]  # discovery off
        assert wait_for(lambda: mqtt_status(c).get("state") == "connected", 10)
        sub.close()
    finally:
        c.stop()
        if broker:
            broker.stop()


def test_hostile_area_names_are_flattened_and_bounded_in_discovery(writer_db, db_url):
    from collector.mqtt_payloads import discovery_messages, read_state, state_messages
    from shared.config import load_settings
    from shared.models import Area, HourlyLoad

    # No NUL: collector.parse drops it from names (PostgreSQL text cannot hold one).
    hostile = '<script>x</script>"\n\r\t{{ states }}' + "Ω" * 500
    Area.create(id=7, name=hostile, abbreviation="A\nB", is_aggregate=False)
    HourlyLoad.create(area_id=7, ts=1764172800, load_kw=1234.5, first_seen=1, last_changed=1)
    state = read_state(load_settings({"DATABASE_URL": db_url}, env_file=None))
    ((topic, raw),) = [m for m in state_messages("kamo", state) if "/area/" in m[0]]
    assert topic == "kamo/area/7"
    payload = json.loads(raw)
    assert payload["load_kw"] == 1234.5
    assert payload["area_name"].startswith('<script>x</script>" {{ states }}ΩΩ')
    assert len(payload["area_name"]) == 100
    configs = dict(discovery_messages("kamo", "homeassistant", state["areas"]))
    config = json.loads(configs["homeassistant/sensor/kamo/area_7_load/config"])
    assert config["name"] == payload["area_name"] + " load"
    assert not any(ch in payload["area_name"] + config["name"] for ch in "\n\r\x00")
