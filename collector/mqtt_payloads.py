"""What the collector publishes over MQTT: state read from the database after a cycle, and
Home Assistant's discovery configs for it.

Topics under MQTT_PREFIX (default `kamo`), every one retained:
  <prefix>/status           `online` / `offline` (the last will): availability
  <prefix>/area/<id>        {"area_id", "area_name", "load_kw", "timestamp"}, as /api/load/current
  <prefix>/run              the last finished import run
  <prefix>/health           {"problem": bool, "problems": [...]}: failed run or active alerts
  <prefix>/peak_watch       {"active": bool, "watches": [...]}: open peak watches
Discovery: <discovery prefix>/<component>/<node>/<object>/config, one device for them all.
"""

from __future__ import annotations

import json
import re
from typing import Any

from collector import __version__
from shared.config import Settings
from shared.models import AlertState, Area, HourlyLoad, ImportRun, PeakWatch
from shared.timeutil import iso

NAME_MAX = 100
DEVICE_NAME = "KAMO Load Logger"
RUN_STATUSES = ["success", "partial", "failed"]


def _name(text: str) -> str:
    flat = re.sub(r"[\x00-\x1f\x7f]+", " ", str(text)).strip()
    return flat[:NAME_MAX]


def read_state(settings: Settings) -> dict[str, Any]:
    """The state to publish, from the database (the caller's thread owns the connection)."""
    zone = settings.tz
    areas = []
    for area in Area.select().order_by(Area.id):
        newest = (
            HourlyLoad.select(HourlyLoad.ts, HourlyLoad.load_kw)
            .where(HourlyLoad.area_id == area.id)
            .order_by(HourlyLoad.ts.desc())
            .first()
        )
        areas.append(
            {
                "area_id": area.id,
                "area_name": _name(area.name),
                "abbreviation": _name(area.abbreviation),
                "load_kw": newest.load_kw if newest else None,
                "timestamp": iso(newest.ts, zone) if newest else None,
            }
        )
    last = (
        ImportRun.select()
        .where(ImportRun.status != "running")
        .order_by(ImportRun.id.desc())
        .first()
    )
    run = None
    if last is not None:
        run = {
            "status": last.status,
            "run_id": last.id,
            "trigger": last.trigger,
            "started_at": iso(last.started_at, zone),
            "finished_at": iso(last.finished_at, zone) if last.finished_at else None,
            "areas_ok": last.areas_ok,
            "areas_total": last.areas_total,
        }
    alerts = [
        _name((s.detail or s.key).splitlines()[0] if (s.detail or s.key) else s.key)
        for s in AlertState.select().where(AlertState.active == True)  # noqa: E712
    ]
    problems = [f"last run {last.status}"] if last is not None and last.status == "failed" else []
    problems += alerts
    health = {"problem": bool(problems), "problems": problems[:20]}
    watches = [
        {
            "area_id": w.area_id,
            "expected_hour": iso(w.expected_ts, zone),
            "expected_kw": w.expected_kw,
            "peak_kw": w.peak_kw,
            "margin_pct": w.margin_pct,
            "source": _name(w.source),
        }
        for w in PeakWatch.select()
        .where((PeakWatch.kind == "watch") & PeakWatch.closed_at.is_null())
        .order_by(PeakWatch.area_id)
    ]
    peak_watch = {"active": bool(watches), "watches": watches}
    return {"areas": areas, "run": run, "health": health, "peak_watch": peak_watch}


def state_messages(prefix: str, state: dict[str, Any]) -> list[tuple[str, str]]:
    """(topic, payload) of every state topic; areas without data yet are left out."""
    found = [
        (f"{prefix}/area/{a['area_id']}", json.dumps(_area_payload(a)))
        for a in state["areas"]
        if a["load_kw"] is not None
    ]
    if state["run"] is not None:
        found.append((f"{prefix}/run", json.dumps(state["run"])))
    found.append((f"{prefix}/health", json.dumps(state["health"])))
    if "peak_watch" in state:
        found.append((f"{prefix}/peak_watch", json.dumps(state["peak_watch"])))
    return found


def _area_payload(area: dict[str, Any]) -> dict[str, Any]:
    keys = ("area_id", "area_name", "load_kw", "timestamp")
    return {k: area[k] for k in keys}


def _node(prefix: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", prefix)


def _device(node: str) -> dict[str, Any]:
    return {
        "identifiers": [f"{node}_kamo_load_logger"],
        "name": DEVICE_NAME,
        "manufacturer": "KAMO Load Logger",
        "model": "collector",
        "sw_version": __version__,
    }


def discovery_messages(
    prefix: str, discovery_prefix: str, areas: list[dict[str, Any]]
) -> list[tuple[str, str]]:
    """(topic, config) for Home Assistant: one sensor per area load, the run status, and a
    `problem` binary sensor (on = collection has a problem; HA shows it as Problem / OK).
    `problem` rather than `connectivity`: health also covers stale data and low disk, and
    whether the collector is reachable at all is the availability topic's job."""
    node = _node(prefix)
    common = {
        "availability_topic": f"{prefix}/status",
        "payload_available": "online",
        "payload_not_available": "offline",
        "device": _device(node),
        "origin": {"name": DEVICE_NAME, "sw_version": __version__},
    }
    found = []
    for area in areas:
        if area["load_kw"] is None:
            continue
        object_id = f"area_{area['area_id']}_load"
        config = {
            "name": f"{area['area_name']} load",
            "unique_id": f"{node}_{object_id}",
            "state_topic": f"{prefix}/area/{area['area_id']}",
            "value_template": "{{ value_json.load_kw }}",
            "json_attributes_topic": f"{prefix}/area/{area['area_id']}",
            "device_class": "power",
            "unit_of_measurement": "kW",
            "state_class": "measurement",
            **common,
        }
        found.append((f"{discovery_prefix}/sensor/{node}/{object_id}/config", config))
    found.append(
        (
            f"{discovery_prefix}/sensor/{node}/last_run/config",
            {
                "name": "Last import run",
                "unique_id": f"{node}_last_run",
                "state_topic": f"{prefix}/run",
                "value_template": "{{ value_json.status }}",
                "json_attributes_topic": f"{prefix}/run",
                "device_class": "enum",
                "options": RUN_STATUSES,
                "icon": "mdi:database-import",
                **common,
            },
        )
    )
    found.append(
        (
            f"{discovery_prefix}/binary_sensor/{node}/collection_problem/config",
            {
                "name": "Collection problem",
                "unique_id": f"{node}_collection_problem",
                "state_topic": f"{prefix}/health",
                "value_template": "{{ 'ON' if value_json.problem else 'OFF' }}",
                "payload_on": "ON",
                "payload_off": "OFF",
                "json_attributes_topic": f"{prefix}/health",
                "device_class": "problem",
                **common,
            },
        )
    )
    found.append(
        (
            f"{discovery_prefix}/binary_sensor/{node}/peak_watch/config",
            {
                "name": "Peak watch",
                "unique_id": f"{node}_peak_watch",
                "state_topic": f"{prefix}/peak_watch",
                "value_template": "{{ 'ON' if value_json.active else 'OFF' }}",
                "payload_on": "ON",
                "payload_off": "OFF",
                "json_attributes_topic": f"{prefix}/peak_watch",
                "icon": "mdi:transmission-tower-export",
                **common,
            },
        )
    )
    return [(topic, json.dumps(config)) for topic, config in found]
