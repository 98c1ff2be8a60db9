"""Real processes: gunicorn with the container's command, and a collector daemon that
picks up a trigger written through the API."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from api_support import API_KEY, REPO_ROOT, Store, make_app, sqlite_url

from sim_process import free_port, start_simulator

# The API container's command, exactly (Dockerfile.api / DESIGN.md).
CONTAINER_COMMAND = 'gunicorn -c api/gunicorn.conf.py "api:create_app()"'


def _env(where: Path | Store, **extra: str) -> dict[str, str]:
    store = where if isinstance(where, Store) else Store(sqlite_url(where), where)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_", "API_"))}
    env.update(
        DATABASE_URL=store.url,
        DATA_DIR=str(store.data_dir),
        TZ="America/Chicago",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        PYTHONPATH=str(REPO_ROOT),
        **extra,
    )
    return env


def _wait_for(url: str, proc: subprocess.Popen, timeout: float = 20) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, "process exited early"
        try:
            return requests.get(url, timeout=2)
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer in {timeout} s")


@pytest.mark.slow
def test_gunicorn_serves_health(sim_dir: Store, tmp_path: Path) -> None:
    port = free_port()
    env = _env(sim_dir, HOST="127.0.0.1", PORT=str(port))
    log = (tmp_path / "gunicorn.log").open("w")
    proc = subprocess.Popen(
        shlex.split(CONTAINER_COMMAND), cwd=REPO_ROOT, env=env, stdout=log, stderr=log
    )
    try:
        response = _wait_for(f"http://127.0.0.1:{port}/api/health", proc)
        assert response.status_code == 200
        assert response.json()["database"] == "ok"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        current = requests.get(f"http://127.0.0.1:{port}/api/load/current/20", timeout=5)
        assert current.status_code == 200 and current.json()["area_id"] == 20
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()
    assert '"GET /api/health HTTP/1.1" 200' in (tmp_path / "gunicorn.log").read_text()


@pytest.mark.slow
def test_trigger_is_picked_up_by_the_collector(tmp_path: Path, db_url: str) -> None:
    """POST /api/import/trigger -> the running daemon runs a manual cycle with that id (a
    trigger file on SQLite, an import_request row on PostgreSQL)."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    store = Store(db_url, data_dir)
    with start_simulator("--quiet") as sim:
        # Hourly slots: a request made within 15 s of a slot is answered by that slot's
        # scheduled run instead (by design), which a 5-minute interval made a coin toss here.
        env = _env(
            store,
            KAMO_BASE_URL=sim.base_url,
            KAMO_TIMEOUT_SECONDS="5",
            POLL_INTERVAL_MINUTES="60",
        )
        log = (tmp_path / "collector.log").open("w")
        daemon = subprocess.Popen(
            [sys.executable, "-m", "collector"], cwd=data_dir, env=env, stdout=log, stderr=log
        )
        try:
            client = make_app(store).test_client()
            deadline = time.monotonic() + 30
            while client.get("/api/imports").status_code != 200:  # startup cycle creates the db
                assert time.monotonic() < deadline and daemon.poll() is None
                time.sleep(0.2)
            answer = client.post("/api/import/trigger", headers={"X-API-Key": API_KEY})
            assert answer.status_code == 202
            request_id = answer.get_json()["request_id"]
            runs = []
            while time.monotonic() < deadline:
                runs = client.get(f"/api/imports?request_id={request_id}").get_json()["runs"]
                if runs and runs[0]["status"] != "running":
                    break
                time.sleep(0.2)
            assert runs, (tmp_path / "collector.log").read_text()
            # The answer said which cycle would take it: manual, unless a slot was about to start.
            expected = answer.get_json()["answered_by"]
            assert runs[0]["trigger"] == expected and runs[0]["request_id"] == request_id
            assert runs[0]["status"] == "success"
            assert not (data_dir / "triggers" / f"{request_id}.json").exists()
        finally:
            daemon.terminate()
            daemon.wait(timeout=15)
            log.close()
