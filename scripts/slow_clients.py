"""Slow-header clients against a running API, and the latency of real requests meanwhile.

    python scripts/slow_clients.py --compare [--clients 50] [--samples 40]

starts gunicorn with the container's command once per worker class (sync, gthread,
gevent; the class and its limits given on the command line, which wins over the config
file), opens the slow clients, and prints the median and spread of /api/health and /
latency for each. Used by tests/api/test_slow_clients.py and `make bench`.
"""

from __future__ import annotations

import argparse
import os
import select
import shlex
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
COMMAND = 'gunicorn -c api/gunicorn.conf.py "api:create_app()"'
# Worker classes compared, as extra gunicorn arguments; the last one is what the config file
# chooses (no arguments).
VARIANTS = {
    "sync (2 workers)": ["-k", "sync"],
    "gthread (2 workers x 4 threads)": ["-k", "gthread", "--threads", "4"],
    "gthread (2 workers x 32 threads)": ["-k", "gthread", "--threads", "32"],
    "gevent (config file)": [],
}


class SlowHeaderClients:
    """`count` connections that send a request line, then one header line every
    `interval` seconds, and never finish the headers (a slowloris client). A connection the
    server closes is counted in `dropped` and replaced, so `count` stay open throughout."""

    def __init__(self, port: int, count: int, interval: float = 5.0, path: str = "/") -> None:
        self.port, self.count, self.interval, self.path = port, count, interval, path
        self.sockets: list[socket.socket] = []
        self.dropped = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self) -> SlowHeaderClients:
        self.sockets = [self._open() for _ in range(self.count)]
        self._thread.start()
        return self

    def _open(self) -> socket.socket:
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
        sock.sendall(f"GET {self.path} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode())
        return sock

    def _trickle(self) -> None:
        line = 0
        tick = min(0.5, self.interval)
        next_line = time.monotonic() + self.interval
        while not self._stop.wait(tick):
            # The server closing a connection makes it readable (EOF or an error answer).
            closed, _, _ = select.select(self.sockets, [], [], 0)
            for sock in closed:
                sock.close()
                self.dropped += 1
                self.sockets[self.sockets.index(sock)] = self._reopen()
            if time.monotonic() < next_line:
                continue
            line += 1
            next_line += self.interval
            for i, sock in enumerate(self.sockets):
                try:
                    sock.sendall(f"X-Slow-{line}: {line}\r\n".encode())
                except OSError:
                    sock.close()
                    self.dropped += 1
                    self.sockets[i] = self._reopen()

    def _reopen(self) -> socket.socket:
        try:
            return self._open()
        except OSError:  # refused while the server is saturated: try again next tick
            return socket.socket()

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=self.interval + 5)
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()


def timed_get(port: int, path: str, timeout: float = 30.0) -> tuple[float, int]:
    """(seconds, HTTP status) of one complete GET on a fresh connection; status 0 on timeout."""
    started = time.monotonic()
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(
                f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
            )
            head = b""
            while chunk := sock.recv(65536):
                head = head or chunk
            status = int(head.split(b" ", 2)[1]) if head.startswith(b"HTTP/") else 0
    except OSError:
        status = 0
    return time.monotonic() - started, status


def start_gunicorn(
    env: dict[str, str], port: int, log_path: Path, extra: list[str] | None = None
) -> subprocess.Popen:
    """gunicorn with the container's command on 127.0.0.1:port; returns once it
    answers (20 s deadline)."""
    env = {**env, "HOST": "127.0.0.1", "PORT": str(port)}
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [*shlex.split(COMMAND), *(extra or [])],
            cwd=REPO,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn exited: {log_path.read_text()[-2000:]}")
        if timed_get(port, "/api/openapi.json", timeout=2)[1]:  # no database needed
            return proc
        time.sleep(0.1)
    stop_gunicorn(proc)
    raise RuntimeError(f"gunicorn did not answer in 20 s: {log_path.read_text()[-2000:]}")


def stop_gunicorn(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


def worker_rss_mb(master: int) -> list[float]:
    """Resident memory of each child of the gunicorn master, from /proc."""
    found = []
    for child in Path(f"/proc/{master}/task/{master}/children").read_text().split():
        for line in Path(f"/proc/{child}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                found.append(int(line.split()[1]) / 1024)
    return found


def latency_under_slow_clients(port: int, clients: int, samples: int, interval: float) -> dict:
    """Median and spread of /api/health and / while `clients` slow-header clients hold on."""
    with SlowHeaderClients(port, clients, interval) as slow:
        time.sleep(0.5)  # let the server accept them before measuring
        health = _sample(port, "/api/health", samples)
        page = _sample(port, "/", max(1, samples // 4))
        dropped = slow.dropped
    return {"health": _summary(health), "dashboard": _summary(page), "slow_dropped": dropped}


def _sample(port: int, path: str, samples: int, timeout: float = 10.0) -> list:
    """Sequential timed GETs; stops after 3 failures (a starved server would take forever)."""
    results: list[tuple[float, int]] = []
    while len(results) < samples and sum(1 for _, s in results if s != 200) < 3:
        results.append(timed_get(port, path, timeout=timeout))
        time.sleep(0.25)  # spread over several seconds, through drops and reconnections
    return results


def _summary(results: list[tuple[float, int]]) -> dict:
    seconds = sorted(s for s, _ in results)
    return {
        "median_ms": statistics.median(seconds) * 1000,
        "min_ms": seconds[0] * 1000,
        "max_ms": seconds[-1] * 1000,
        "failed": sum(1 for _, status in results if status != 200),
    }


def sqlite_env(db_dir: Path) -> dict[str, str]:
    # GUNICORN_CMD_ARGS would override the config file: what is measured is the file.
    skip = ("KAMO_", "SMTP_", "API_", "GUNICORN_CMD_ARGS")
    env = {k: v for k, v in os.environ.items() if not k.startswith(skip)}
    env.update(
        DATABASE_URL=f"sqlite:///{db_dir / 'kamo.db'}",
        DATA_DIR=str(db_dir),
        TZ="America/Chicago",
        PATH=f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        PYTHONPATH=str(REPO),
    )
    return env


def compare(db_dir: Path, clients: int, samples: int, interval: float) -> list[dict]:
    rows = []
    for label, extra in VARIANTS.items():
        port = _free_port()
        with tempfile.TemporaryDirectory() as tmp:
            proc = start_gunicorn(sqlite_env(db_dir), port, Path(tmp) / "gunicorn.log", extra)
            try:
                idle = _summary([timed_get(port, "/api/health") for _ in range(samples)])
                loaded = latency_under_slow_clients(port, clients, samples, interval)
                rss = worker_rss_mb(proc.pid)
            finally:
                stop_gunicorn(proc)
        rows.append({"variant": label, "idle": idle, **loaded, "rss_mb": max(rss or [0])})
    return rows


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _ms(summary: dict) -> str:
    failed = f" {summary['failed']} failed" if summary["failed"] else ""
    return (
        f"{summary['median_ms']:7.1f} ms ({summary['min_ms']:.1f}-{summary['max_ms']:.1f}){failed}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db-dir", type=Path, help="folder holding kamo.db (default: a demo)")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--samples", type=int, default=40)
    parser.add_argument("--interval", type=float, default=5.0)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db_dir = args.db_dir or _demo_database(Path(tmp))
        rows = compare(db_dir, args.clients, args.samples, args.interval)
    print(f"{args.clients} slow-header clients (one header line every {args.interval:g} s)")
    print(
        f"{'worker class':34} {'/api/health idle':28} {'/api/health loaded':28} "
        f"{'/ loaded':28} {'RSS':9} slow dropped"
    )
    for row in rows:
        print(
            f"{row['variant']:34} {_ms(row['idle']):28} {_ms(row['health']):28} "
            f"{_ms(row['dashboard']):28} {row['rss_mb']:5.1f} MB {row['slow_dropped']}"
        )
    return 0


def _demo_database(folder: Path) -> Path:
    """A small real database: one collector cycle against the simulator."""
    sys.path.insert(0, str(REPO / "tests"))
    from sim_process import start_simulator

    with start_simulator("--quiet") as sim:
        env = {**sqlite_env(folder), "KAMO_BASE_URL": sim.base_url}
        subprocess.run(
            [sys.executable, "-m", "collector", "once"],
            cwd=folder,
            env=env,
            check=True,
            capture_output=True,
            timeout=120,
        )
    return folder


if __name__ == "__main__":
    sys.exit(main())
