"""The built images (`make images`), run with podman as a user runs them with compose.

The simulator listens on the host's loopback; the collector container polls it and the API
container serves from the same bind-mounted data directory, both as PUID:PGID 1234:1234.

podman runs here (Debian's 4.3, as root) with the flags DESIGN.md records for these machines:
runc (crun refuses the hybrid cgroups), cgroupfs, host networking, ulimits within the host's
hard limits, and vfs storage, where `make images` leaves the images. Podman runs the image's
entrypoint, user and environment exactly as Docker does, so no chroot stand-in is needed.
Without podman, buildah or the built images this module skips, or fails under CI
(REQUIRE_CONTAINERS=1).
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

from sim_process import SimProcess, free_port, start_simulator

pytestmark = [pytest.mark.slow, pytest.mark.containers]

TAG = os.environ.get("KAMO_IMAGE_TAG", "local")
IMAGES = {name: f"localhost/kamo-load-logger-{name}:{TAG}" for name in ("collector", "api")}
PODMAN = ["podman", "--storage-driver", "vfs", "--runtime", "runc", "--cgroup-manager", "cgroupfs"]
# podman 4.3 logs that it cannot schedule the images' healthchecks (no systemd here); the
# tests run each image's check themselves.
RUN = [
    "run",
    "--network",
    "host",
    "--ulimit",
    "nofile=20000:20000",
    "--ulimit",
    "nproc=1000:1000",
]
PUID = PGID = 1234  # not the image's 1000: the entrypoint must apply it
DEADLINE = 120  # seconds; a busy 2-core machine starts a container in a few


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(
        [*PODMAN, *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if check and done.returncode != 0:
        raise AssertionError(f"podman {' '.join(args)} -> {done.returncode}\n{done.stderr}")
    return done


def why_containers_cannot_run() -> str | None:
    if os.geteuid() != 0:
        return "needs root (podman with vfs storage and runc, as in CI)"
    for tool in ("podman", "buildah", "runc"):
        if shutil.which(tool) is None:
            return f"{tool} is not installed"
    for image in IMAGES.values():
        if podman("image", "exists", image, check=False).returncode != 0:
            return f"{image} is not built: run `make images` first"
    return None


def healthcheck_of(image: str) -> list[str]:
    """The HEALTHCHECK command as the built image stores it (CMD form)."""
    out = podman("image", "inspect", "--format", "{{json .Config.Healthcheck}}", image).stdout
    test = json.loads(out)["Test"]
    assert test[0] == "CMD", f"{image}: healthcheck {test}"
    return test[1:]


def wait_for(what: str, check, timeout: float = DEADLINE, logs=lambda: ""):
    """Poll `check` until it returns something truthy; fail naming `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (requests.RequestException, ValueError, OSError) as exc:
            result, last = None, exc
        if result:
            return result
        time.sleep(0.5)
    raise AssertionError(f"no {what} within {timeout} s (last error: {last})\n{logs()}")


def fingerprint(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass
class Stack:
    data: Path
    sim: SimProcess
    api_url: str
    names: dict[str, str]

    def logs(self) -> str:
        out = []
        for name, container in self.names.items():
            done = podman("logs", container, check=False)
            out.append(f"--- {name}:\n{done.stdout}{done.stderr}")
        return "\n".join(out)

    def env_args(self, name: str) -> list[str]:
        env = {
            "PUID": str(PUID),
            "PGID": str(PGID),
            "TZ": "America/Chicago",
            "KAMO_BASE_URL": self.sim.base_url,
            "POLL_INTERVAL_MINUTES": "1",
        }
        if name == "api":
            env.update(HOST="127.0.0.1", PORT=self.api_url.rsplit(":", 1)[1], WEB_CONCURRENCY="2")
        return [arg for k, v in env.items() for arg in ("--env", f"{k}={v}")]

    def start(self, name: str) -> None:
        podman(
            *RUN,
            "--detach",
            "--name",
            self.names[name],
            *self.env_args(name),
            "--volume",
            f"{self.data}:/data",
            IMAGES[name],
        )

    def fresh(self, *command: str) -> subprocess.CompletedProcess:
        """`command` in a new collector container on the same data directory, through the
        image's entrypoint, as `docker run --rm` would run it."""
        return podman(
            *RUN,
            "--rm",
            *self.env_args("collector"),
            "--volume",
            f"{self.data}:/data",
            IMAGES["collector"],
            *command,
            check=False,
        )

    def status(self) -> dict:
        return requests.get(f"{self.api_url}/api/status", timeout=5).json()


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    reason = why_containers_cannot_run()
    if reason:
        if os.environ.get("REQUIRE_CONTAINERS") == "1":
            pytest.fail(f"REQUIRE_CONTAINERS=1 but {reason}")
        pytest.skip(reason)
    data = tmp_path_factory.mktemp("containers") / "data"
    data.mkdir()  # root's, as a folder made by hand on a NAS; the entrypoint hands it over
    # Checked before anything is trusted to it: a file from the host must show up inside.
    (data / "mount-probe").write_text(token := secrets.token_hex(8))
    suffix = secrets.token_hex(4)
    names = {name: f"kamo-e2e-{name}-{suffix}" for name in IMAGES}
    with start_simulator("--quiet") as sim:
        stack = Stack(data, sim, f"http://127.0.0.1:{free_port()}", names)
        try:
            stack.start("collector")
            stack.start("api")
            seen = podman("exec", names["collector"], "cat", "/data/mount-probe", check=False)
            assert seen.stdout == token, (
                f"the bind mount does not show the host's folder: {seen.stderr}\n{stack.logs()}"
            )
            wait_for(
                "successful run in /api/status",
                lambda: (stack.status().get("last_success") or {}).get("status") == "success",
                logs=stack.logs,
            )
            yield stack
        finally:
            for name in names.values():
                podman("rm", "--force", "--time", "10", name, check=False)


def test_the_containers_share_the_bind_mounted_directory(stack: Stack):
    # What the collector container wrote is in the host's folder, and the API read it.
    assert (stack.data / "kamo_load.db").is_file()
    assert (stack.data / "collector.heartbeat").is_file()
    with sqlite3.connect(f"file:{stack.data / 'kamo_load.db'}?mode=ro", uri=True) as db:
        (runs,) = db.execute("SELECT count(*) FROM import_run WHERE status = 'success'").fetchone()
    status = stack.status()
    assert runs >= 1 and status["last_success"]["status"] == "success"
    assert status["collector"]["state"] == "running"
    assert status["database"]["rows"]["hourly_load"] > 0


def test_each_healthcheck_passes_inside_its_container(stack: Stack):
    for name, container in stack.names.items():
        check = healthcheck_of(IMAGES[name])
        done = podman("exec", container, *check, check=False)
        assert done.returncode == 0, f"{name}: {check} -> {done.stdout}{done.stderr}"


def test_the_collector_healthcheck_fails_once_the_collector_stops(stack: Stack):
    check = healthcheck_of(IMAGES["collector"])
    # The same check from a fresh container on the same data passes while the collector runs ...
    running = stack.fresh(*check)
    assert running.returncode == 0, running.stdout + running.stderr
    podman("stop", "--time", "30", stack.names["collector"])
    exit_code = podman("inspect", "--format", "{{.State.ExitCode}}", stack.names["collector"])
    assert exit_code.stdout.strip() == "0", stack.logs()  # SIGTERM is a clean stop
    # ... and fails once it stopped, though the heartbeat file is seconds old.
    stopped = stack.fresh(*check)
    assert stopped.returncode == 1, stopped.stdout + stopped.stderr
    assert stopped.stdout.split(":")[0] in {"stopped", "stale"}, stopped.stdout
    # The API keeps serving and says so.
    api = podman("exec", stack.names["api"], *healthcheck_of(IMAGES["api"]), check=False)
    assert api.returncode == 0, api.stderr
    wait_for(
        "collector shown as stopped",
        lambda: stack.status()["collector"]["state"] != "running",
    )


def test_the_api_container_cannot_write_the_database(stack: Stack):
    """The API opens the database with the app's read-only connection. The folder itself is
    writable by PUID (the API drops manual-import requests there), so the test writes through
    the connection the API uses, as the container user, with the collector stopped so the
    file is still."""
    podman("stop", "--time", "30", stack.names["collector"])
    db = stack.data / "kamo_load.db"
    before = fingerprint(db)
    attempt = (
        "import os; from shared.db import open_reader; "
        "db = open_reader(os.environ['DATABASE_URL']); "
        "db.execute_sql('CREATE TABLE written_by_api (x)'); "
        "db.execute_sql('DELETE FROM import_run')"
    )
    done = podman(
        "exec", "--user", f"{PUID}:{PGID}", stack.names["api"], "python", "-c", attempt, check=False
    )
    assert done.returncode != 0, "the API's connection wrote to the database"
    assert "readonly database" in done.stderr, done.stderr
    assert fingerprint(db) == before
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        tables = {row[0] for row in con.execute("SELECT name FROM sqlite_master")}
    assert "written_by_api" not in tables


def test_every_file_in_the_data_directory_belongs_to_puid_pgid(stack: Stack):
    # Last: the checks above ran as root inside the containers, as Docker runs healthchecks.
    paths = [stack.data, *stack.data.rglob("*")]
    assert len(paths) > 3
    owners = {str(p): (p.stat().st_uid, p.stat().st_gid) for p in paths}
    assert {path: ids for path, ids in owners.items() if ids != (PUID, PGID)} == {}
