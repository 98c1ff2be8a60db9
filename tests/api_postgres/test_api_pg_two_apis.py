"""Scale-out with nothing shared but PostgreSQL: two API processes (gunicorn, the
container's command, under the least-privilege API role) and one collector daemon
(1-minute slots, the simulator), each with its OWN DATA_DIR, for two minutes.

0 errors; the collector part of /api/status and /api/imports read the same through both
APIs; a trigger posted to API A is answered by a run that API B shows."""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pg_support import API_KEY, REPO_ROOT, TZ

from pg_cluster import PgCollector, grant_api, least_privilege_database
from pg_throwaway import postgres_or_skip
from sim_process import control, free_port
from support import wait_for

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from slow_clients import sqlite_env, start_gunicorn, stop_gunicorn  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

DURATION = 120.0
COLLECTOR_KEYS = ("state", "pid", "version", "next_poll", "active", "standby")


def _get(port: int, path: str) -> tuple[int, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=15) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300]
    except OSError as exc:
        return 0, str(exc)


def _post_trigger(port: int) -> tuple[int, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/import/trigger", method="POST", headers={"X-API-Key": API_KEY}
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()[:300]


def _state(port: int, errors: list[str]) -> dict | None:
    """What must read the same through every API: the collector part and the import log."""
    found: dict[str, Any] = {}
    for path in ("/api/status", "/api/imports?limit=20", "/api/health"):
        status, body = _get(port, path)
        if status != 200:
            errors.append(f":{port}{path} -> {status} {body}")
            return None
        found[path] = body
    collector = found["/api/status"]["collector"]
    view = {key: collector[key] for key in COLLECTOR_KEYS}
    if view["active"] is not None:  # the age grows between two reads: not compared
        view["active"] = {k: v for k, v in view["active"].items() if "heartbeat" not in k}
    return {"collector": view, "runs": found["/api/imports?limit=20"]["runs"]}


@pytest.fixture
def cluster(simulator, tmp_path: Path):
    control(simulator.base_url, now=None, fault=None, fault_areas=None, revise=0, latency_ms=0)
    admin = postgres_or_skip()
    procs: list = []
    collector = None
    try:
        with least_privilege_database(admin) as (collector_url, api_url):
            collector = PgCollector(simulator.base_url, tmp_path / "collector", collector_url)
            assert wait_for(lambda: "import startup" in collector.output(), 60, step=0.5), (
                collector.output()
            )
            grant_api(admin, api_url)
            ports = []
            for name in ("api-a", "api-b"):
                data_dir = tmp_path / name
                data_dir.mkdir()
                env = {
                    **sqlite_env(data_dir),
                    "DATABASE_URL": api_url,
                    "API_KEY": API_KEY,
                    "TZ": TZ,
                    "WEB_CONCURRENCY": "1",
                }
                port = free_port()
                procs.append(start_gunicorn(env, port, data_dir / "gunicorn.log"))
                ports.append(port)
            yield collector, ports
    finally:
        for proc in procs:
            stop_gunicorn(proc)
        if collector is not None:
            assert collector.stop() == 0, collector.output()
        admin.close()


def test_two_apis_and_a_collector_share_nothing_but_the_database(cluster) -> None:
    collector, (port_a, port_b) = cluster
    errors: list[str] = []
    compared = 0
    trigger: dict | None = None
    answered_via_b = None
    started = time.monotonic()
    while time.monotonic() - started < DURATION:
        first = _state(port_a, errors)
        other = _state(port_b, errors)
        again = _state(port_a, errors)
        if first is not None and first == again:  # nothing changed meanwhile: B must agree
            assert other == first, json.dumps({"a": first, "b": other}, indent=1)[:3000]
            compared += 1
        if trigger is None and time.monotonic() - started > 20:
            status, trigger = _post_trigger(port_a)
            assert status == 202, trigger
            assert trigger["answered_by"] in ("manual", "scheduled") and trigger["expected_at"]
        if trigger is not None and answered_via_b is None:
            status, body = _get(port_b, f"/api/imports?request_id={trigger['request_id']}")
            done = [r for r in body["runs"] if r["status"] != "running"] if status == 200 else []
            if done:
                answered_via_b = done[0]
        time.sleep(0.5)

    assert errors == [], errors[:5]
    assert compared >= 20, compared
    assert answered_via_b is not None, collector.output()
    assert answered_via_b["status"] == "success"
    assert trigger["request_id"] in answered_via_b["request_ids"]
    status, body = _get(port_b, "/api/status")
    assert body["collector"]["state"] == "running"
    assert body["collector"]["active"]["pid"] == collector.proc.pid
    scheduled = [r for r in _state(port_b, errors)["runs"] if r["trigger"] == "scheduled"]
    assert len(scheduled) >= 1  # a slot passed during the two minutes
    assert not list((collector.data_dir).glob("triggers/*")), "no trigger files on PostgreSQL"
