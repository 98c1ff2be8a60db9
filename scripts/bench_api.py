"""API benchmarks on a generated database (scripts/gen_bench_db.py); prints one table.

    python scripts/bench_api.py --db data/bench.db [--repeat 40]

Latency: each query through the Flask test client (in process, so it measures the app and
SQLite, not the network), p50 and p95 with min-max spread. Throughput: gunicorn started
with the container's command (2 gevent workers) and a small C load generator in a second
process on loopback (compiled with the system cc; a Python fallback is much slower).
Resident memory of each worker is read from /proc after the load test. Slow clients:
/api/health and / while 50 connections send headers a line every 5 s (scripts/slow_clients.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_latency import measure_urls  # noqa: E402
from slow_clients import (  # noqa: E402
    latency_under_slow_clients,
    sqlite_env,
    start_gunicorn,
    stop_gunicorn,
)

LOADGEN_C = r"""
#include <arpa/inet.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
static const char *path; static int port; static double until;
static long ok_total, bad_total; static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + t.tv_nsec / 1e9; }
static void *worker(void *arg) {
  (void)arg; char req[512], buf[65536]; long ok = 0, bad = 0;
  int n = snprintf(req, sizeof req, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   "Connection: close\r\n\r\n", path);
  struct sockaddr_in a = {0}; a.sin_family = AF_INET; a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(0x7f000001);
  while (now() < until) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr *)&a, sizeof a) || write(s, req, n) != n) {
      bad++; close(s); continue; }
    int got = 0, r, first = 1, good = 0;
    while ((r = read(s, buf, sizeof buf)) > 0) {
      if (first) { good = r > 12 && !memcmp(buf + 9, "200", 3); first = 0; } got += r; }
    close(s); if (good) ok++; else bad++;
  }
  pthread_mutex_lock(&lock); ok_total += ok; bad_total += bad; pthread_mutex_unlock(&lock);
  return NULL;
}
int main(int argc, char **argv) {
  port = atoi(argv[1]); path = argv[2]; int c = atoi(argv[3]); double d = atof(argv[4]);
  pthread_t t[256]; double start = now(); until = start + d;
  for (int i = 0; i < c; i++) pthread_create(&t[i], NULL, worker, NULL);
  for (int i = 0; i < c; i++) pthread_join(t[i], NULL);
  printf("%ld %ld %.3f\n", ok_total, bad_total, now() - start); return 0;
}
"""


def latency_cases(db_path: Path) -> list[tuple[str, str, float]]:
    """(label, url, target p95 ms); windows end at the newest data in the database."""
    from shared.timeutil import KAMO_ZONE, iso

    conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    newest = conn.execute("SELECT max(ts) FROM substation_reading").fetchone()[0] + 300
    big = conn.execute(
        "SELECT area_id FROM substation GROUP BY area_id ORDER BY count(*) DESC LIMIT 1"
    ).fetchone()[0]
    conn.close()
    end = iso(newest, KAMO_ZONE).replace("+", "%2B")
    month = iso(newest - 30 * 86400, KAMO_ZONE).replace("+", "%2B")
    year = iso(newest - 365 * 86400, KAMO_ZONE).replace("+", "%2B")
    # The generated year ends before today: ask for its last 12 forecast hours explicitly.
    last_hours = iso(newest - 12 * 3600, KAMO_ZONE).replace("+", "%2B")
    return [
        (
            f"substations 30 d, area {big}, auto",
            f"/api/substations/history/{big}?start={month}&end={end}",
            100,
        ),
        ("load history 1 year, area 20", f"/api/load/history/20?start={year}&end={end}", 50),
        ("peaks by day (366), area 20", "/api/load/peaks/20?period=day&limit=366", 50),
        ("peaks by month (12), area 20", "/api/load/peaks/20?period=month", 50),
        ("peaks by year, area 20", "/api/load/peaks/20?period=year", 50),
        ("/api/status", "/api/status", 30),
        ("load stats 1 year, area 1", f"/api/load/stats/1?start={year}&end={end}", 50),
        ("coincident peaks 12 months", "/api/load/coincident-peaks", 50),
        ("load current, area 20", "/api/load/current/20", 10),
        ("substations current, area 1", f"/api/substations/current/{big}", 30),
        (
            "forecast + accuracy (1 year of vintages), area 20",
            f"/api/forecast/20?start={last_hours}",
            50,
        ),
    ]


def measure_latency(db_path: Path, repeat: int) -> list[dict]:
    return measure_urls(db_path, latency_cases(db_path), repeat)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _loadgen() -> Path | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    out = Path(tempfile.gettempdir()) / "kamo_loadgen"
    src = out.with_suffix(".c")
    src.write_text(LOADGEN_C)
    subprocess.run([cc, "-O2", "-pthread", "-o", str(out), str(src)], check=True)
    return out


def _worker_rss_mb(master: int) -> list[float]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                sizes.append(int(line.split()[1]) / 1024)
    return sizes


def measure_throughput(db_path: Path, seconds: float, concurrency: int) -> dict:
    loadgen = _loadgen()
    if loadgen is None:
        return {"error": "no C compiler for the load generator"}
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{db_path.resolve()}",
        DATA_DIR=str(db_path.parent),
        HOST="127.0.0.1",
        PORT=str(port),
        PATH=f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    )
    command = 'gunicorn -c api/gunicorn.conf.py "api:create_app()"'
    proc = subprocess.Popen(
        shlex.split(command),
        cwd=REPO,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = "/api/load/current/20"
        subprocess.run(
            [str(loadgen), str(port), url, str(concurrency), "1"], check=True, capture_output=True
        )  # warm-up
        done = subprocess.run(
            [str(loadgen), str(port), url, str(concurrency), str(seconds)],
            check=True,
            capture_output=True,
            text=True,
        )
        ok, bad, elapsed = done.stdout.split()
        rss = _worker_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return {
        "rps": int(ok) / float(elapsed),
        "errors": int(bad),
        "rss_mb": max(rss) if rss else None,
        "workers": len(rss),
    }


def measure_slow_clients(db_path: Path, clients: int = 50) -> dict:
    """/api/health and / latency while `clients` connections send headers slowly."""
    port = _free_port()
    with tempfile.TemporaryDirectory() as tmp:
        env = {**sqlite_env(db_path.parent), "DATABASE_URL": f"sqlite:///{db_path.resolve()}"}
        proc = start_gunicorn(env, port, Path(tmp) / "gunicorn.log")
        try:
            return latency_under_slow_clients(port, clients, samples=40, interval=5.0)
        finally:
            stop_gunicorn(proc)


def _slow_rows(slow: dict) -> list[list[str]]:
    rows = []
    for label, key in (("/api/health", "health"), ("/", "dashboard")):
        s = slow[key]
        failed = f", {s['failed']} failed" if s["failed"] else ""
        value = f"median {s['median_ms']:.1f} ms ({s['min_ms']:.1f}-{s['max_ms']:.1f}){failed}"
        rows.append([f"API {label} with 50 slow-header clients", value, "< 1000 ms, 0 failed"])
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=REPO / "data" / "bench.db")
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=10)
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"{args.db} not found: run scripts/gen_bench_db.py --out {args.db} first")
        return 1
    rows = measure_latency(args.db, args.repeat)
    print(f"{'query':44} {'p50 ms':>8} {'p95 ms':>8} {'spread ms':>16} {'target':>8}")
    for r in rows:
        verdict = "ok" if r["p95"] <= r["target"] else "OVER"
        spread = f"{r['min']:.1f}-{r['max']:.1f}"
        print(
            f"{r['label']:44} {r['p50']:8.1f} {r['p95']:8.1f} {spread:>16} "
            f"{'<=' + str(r['target']):>6} {verdict}"
        )
    table = [
        [f"API {r['label']}", f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms "
         f"({r['min']:.1f}-{r['max']:.1f})", f"p95 <= {r['target']} ms"]
        for r in rows
    ]  # fmt: skip
    t = measure_throughput(args.db, args.seconds, args.concurrency)
    if "error" in t:
        print(f"throughput: {t['error']}")
        table.append(["API gunicorn /api/load/current/20", t["error"], ">= 1000 req/s"])
    else:
        print(
            f"{'gunicorn /api/load/current/20 (2 workers)':44} {t['rps']:8.0f} req/s "
            f"(target >= 1000), errors {t['errors']}, "
            f"worker RSS max {t['rss_mb']:.1f} MB of {t['workers']} (target <= 80)"
        )
        table.append(["API gunicorn /api/load/current/20",
                      f"{t['rps']:.0f} req/s, {t['errors']} errors", ">= 1000 req/s"])  # fmt: skip
        table.append(["API worker RSS after the load", f"{t['rss_mb']:.1f} MB", "<= 80 MB"])
    slow_rows = _slow_rows(measure_slow_clients(args.db))
    for row in slow_rows:
        print(f"{row[0]:44} {row[1]}")
    table.extend(slow_rows)
    print(json.dumps(table))  # the last line: what `make bench` collects
    return 0


if __name__ == "__main__":
    sys.exit(main())
