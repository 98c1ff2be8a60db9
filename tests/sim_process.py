"""Run the KAMO simulator (scripts/kamo_simulator.py) as a subprocess for tests.

with start_simulator("--now", "2026-11-01T08:30:00Z") as sim:
    requests.get(f"{sim.base_url}/area")
    control(sim.base_url, fault="http500", fault_areas=[7])
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO_ROOT = Path(__file__).resolve().parent.parent
SIMULATOR = REPO_ROOT / "scripts" / "kamo_simulator.py"
START_TIMEOUT_SECONDS = 10.0


class SimProcess:
    """A running simulator; `base_url` is KAMO_BASE_URL for it (ends in /api)."""

    def __init__(self, proc: subprocess.Popen, port: int, stdout, stderr) -> None:
        self.proc = proc
        self.port = port
        self.host = "127.0.0.1"
        self.base_url = f"http://127.0.0.1:{port}/api"
        self.control_url = f"http://127.0.0.1:{port}/_sim/control"
        # Output goes to temporary files, not pipes: an unread pipe would fill up with the
        # request log and block the simulator.
        self._stdout = stdout
        self._stderr = stderr

    def stdout(self) -> str:
        return _read(self._stdout)

    def stderr(self) -> str:
        return _read(self._stderr)

    def stop(self, timeout: float = 5.0) -> int | None:
        """Terminate (SIGTERM, then SIGKILL after `timeout`) and return the exit code."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode

    def close(self) -> None:
        self.stop()
        self._stdout.close()
        self._stderr.close()

    def __enter__(self) -> SimProcess:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_simulator(*args: str, timeout: float = START_TIMEOUT_SECONDS) -> SimProcess:
    """Start the simulator on a free loopback port with extra CLI `args`; wait until it
    accepts connections. Raises RuntimeError with the simulator's stderr if it does not."""
    for _attempt in range(3):  # another process may grab the free port before we bind it
        port = free_port()
        # Both files belong to the SimProcess, which closes them.
        stdout = tempfile.TemporaryFile()  # noqa: SIM115
        stderr = tempfile.TemporaryFile()  # noqa: SIM115
        proc = subprocess.Popen(
            [sys.executable, str(SIMULATOR), "--port", str(port), *args],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
        )
        sim = SimProcess(proc, port, stdout, stderr)
        if _wait_ready(sim, timeout):
            return sim
        error = sim.stderr()
        sim.close()
        if "Address already in use" not in error:
            break
    raise RuntimeError(f"KAMO simulator did not start on port {port}:\n{error}")


def control(base_url: str, **settings: object) -> dict:
    """Change a running simulator's settings (POST /_sim/control) and return all of them.

    Keys: now (ISO string, None for the real clock), fault, fault_areas (list or None for all),
    latency_ms, error_rate, date_skew_seconds, revise."""
    root = base_url.rstrip("/").removesuffix("/api")
    response = requests.post(f"{root}/_sim/control", json=settings, timeout=5)
    if response.status_code != 200:
        raise ValueError(f"simulator control refused {settings}: {response.text}")
    return response.json()


def _wait_ready(sim: SimProcess, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if sim.proc.poll() is not None:
            return False
        try:
            with socket.create_connection((sim.host, sim.port), timeout=0.2):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def _read(file) -> str:
    # pread leaves the shared file offset alone, so the simulator's next write still appends.
    fd = file.fileno()
    return os.pread(fd, os.fstat(fd).st_size, 0).decode(errors="replace")
