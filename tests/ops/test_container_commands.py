"""The two containers' commands, run as plain processes that share one data directory."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

from shared.triggers import write_trigger

from .helpers import REPO, VENV_BIN, app_env
from .test_docker import only, parse, stages
from sim_process import free_port

pytestmark = pytest.mark.slow

API_READY = (REPO / "api" / "gunicorn.conf.py").is_file() and "def create_app" in (
    REPO / "api" / "__init__.py"
).read_text()


def container_argv(argv: list[str]) -> list[str]:
    """An image command with this venv's executables in place of the image's PATH lookup."""
    program = {"python": sys.executable, "gunicorn": str(VENV_BIN / "gunicorn")}[argv[0]]
    return [program, *argv[1:]]


def image_command(name: str, instruction: str) -> list[str]:
    (command,) = only(stages(parse(name))[-1], instruction)
    values = list(command.value)
    return container_argv(values[1:] if instruction == "HEALTHCHECK" else values)


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 30) -> requests.Response:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args} exited with {proc.returncode}"
        try:
            return requests.get(url, timeout=2)
        except requests.ConnectionError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered {url}")


def stop(proc: subprocess.Popen) -> int:
    proc.send_signal(signal.SIGTERM)  # the images' STOPSIGNAL
    try:
        return proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError(f"{proc.args} did not stop within 20 s of SIGTERM") from None


@pytest.mark.skipif(not API_READY, reason="api/ (create_app, gunicorn.conf.py) is not built yet")
def test_collector_and_api_commands_share_one_data_directory(ops_simulator, tmp_path):
    # /app as in the images: the code and the scripts, no .env; the data in its own folder.
    app = tmp_path / "app"
    app.mkdir()
    for package in ("api", "collector", "shared", "scripts"):
        (app / package).symlink_to(REPO / package)
    data = tmp_path / "data"
    port = free_port()
    env = app_env(
        data,
        data / "kamo_load.db",
        KAMO_BASE_URL=ops_simulator.base_url,
        POLL_INTERVAL_MINUTES="1",
        HOST="127.0.0.1",
        PORT=str(port),
        PYTHONPATH=str(app),
        WEB_CONCURRENCY="2",
    )
    logs = {name: (tmp_path / f"{name}.log").open("w+") for name in ("once", "collector", "api")}

    def run(argv, name):
        return subprocess.Popen(
            argv,
            cwd=app,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=logs[name],
            stderr=subprocess.STDOUT,
        )

    def log(name: str) -> str:
        if not logs[name].closed:
            logs[name].flush()
        return Path(logs[name].name).read_text()

    # `docker compose run --rm collector python -m collector once`
    once = run([sys.executable, "-m", "collector", "once"], "once")
    assert once.wait(60) == 0, log("once")

    collector = run(image_command("collector", "CMD"), "collector")
    api = run(image_command("api", "CMD"), "api")
    try:
        base = f"http://127.0.0.1:{port}"
        health = wait_http(f"{base}/api/health", api)
        assert health.status_code == 200, health.text
        areas = requests.get(f"{base}/api/cooperatives", timeout=5).json()
        assert len(areas) == 20
        current = requests.get(f"{base}/api/load/current/1", timeout=5).json()
        assert current["area_id"] == 1 and current["load_kw"] is not None

        # The API sees the collector daemon through the shared data directory.
        deadline = time.monotonic() + 20
        while (
            requests.get(f"{base}/api/health", timeout=5).json()["collector"]["state"] != "running"
        ):
            assert time.monotonic() < deadline, log("collector")
            time.sleep(0.2)
        trigger = write_trigger(data / "triggers")
        deadline = time.monotonic() + 20
        while f"request {trigger.request_id}" not in log("collector"):
            assert time.monotonic() < deadline, log("collector")
            time.sleep(0.1)

        # Both HEALTHCHECK commands, as Docker runs them inside each container.
        for name in ("collector", "api"):
            check = subprocess.run(
                image_command(name, "HEALTHCHECK"),
                cwd=app,
                env=env,
                capture_output=True,
                text=True,
                timeout=30,
            )
            assert check.returncode == 0, f"{name}: {check.stdout}{check.stderr}"

        assert stop(collector) == 0, log("collector")
        # The API keeps serving while the collector is down (depends_on: service_started).
        health = requests.get(f"{base}/api/health", timeout=5)
        assert health.status_code == 200 and health.json()["collector"]["state"] == "stale"
        check = subprocess.run(
            image_command("collector", "HEALTHCHECK"), cwd=app, env=env, capture_output=True
        )
        assert check.returncode == 1  # the collector's container would now be unhealthy
    finally:
        for proc in (collector, api):
            if proc.poll() is None:
                stop(proc)
        for handle in logs.values():
            handle.close()
    assert api.returncode == 0, log("api")


@pytest.mark.skipif(not API_READY, reason="api/ (create_app, gunicorn.conf.py) is not built yet")
def test_api_under_a_sub_path_with_script_name(sample_db, tmp_path):
    """docs/reverse-proxy.md: with SCRIPT_NAME=/kamo gunicorn serves the API under /kamo (the
    proxy passes the path unchanged), and the image's HEALTHCHECK follows it."""
    app = tmp_path / "app"
    app.mkdir()
    for package in ("api", "collector", "shared"):
        (app / package).symlink_to(REPO / package)
    port = free_port()
    env = app_env(
        sample_db.parent,
        sample_db,
        HOST="127.0.0.1",
        PORT=str(port),
        SCRIPT_NAME="/kamo",
        PYTHONPATH=str(app),
    )
    log = (tmp_path / "api.log").open("w+")
    api = subprocess.Popen(
        image_command("api", "CMD"),
        cwd=app,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}/kamo"
        assert wait_http(f"{base}/api/health", api).status_code == 200
        areas = requests.get(f"{base}/api/cooperatives", timeout=5)
        assert areas.status_code == 200 and len(areas.json()) == 20
        check = subprocess.run(
            image_command("api", "HEALTHCHECK"), cwd=app, env=env, capture_output=True, text=True
        )
        assert check.returncode == 0, check.stderr
        # The dashboard (once there is one) links inside the prefix only.
        page = requests.get(f"{base}/", timeout=10)
        if page.status_code == 200 and page.headers["Content-Type"].startswith("text/html"):
            links = re.findall(r'(?:href|src|action|data-[a-z-]+)="(/[^"]*)"', page.text)
            assert links and all(link.startswith("/kamo/") for link in links), links
        # Without the prefix nothing is served: the proxy must pass the path unchanged.
        assert requests.get(f"http://127.0.0.1:{port}/api/health", timeout=5).status_code != 200
    finally:
        stop(api)
        log.close()
