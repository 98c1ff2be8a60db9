"""PostgreSQL figures (issue 11): migration speed, bytes per reading, API latency beside
SQLite at 30 days and 1 year, and /api/load/current/20 throughput with 1, 2 and 4 API
processes. Prints a table; the last line is the JSON rows `make bench` collects.

    python scripts/bench_pg.py [--pg postgresql://postgres@127.0.0.1:5432] [--repeat 20]

Each generated SQLite database (data/bench.db, one year; data/bench-30d.db, made here
once) goes into a new PostgreSQL database with `python -m collector migrate --to`, timed
end to end (copy and verification); the databases are dropped afterwards.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shlex
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_api import _free_port, _loadgen, _worker_rss_mb, latency_cases  # noqa: E402
from bench_latency import measure_urls  # noqa: E402

DATA = REPO / "data"
SIZES = (("30 d", DATA / "bench-30d.db", 30), ("1 y", DATA / "bench.db", 365))
WORKERS = (1, 2, 4)


def ensure_db(path: Path, days: int) -> None:
    if not path.is_file():
        gen = [sys.executable, str(REPO / "scripts" / "gen_bench_db.py"), "--out", str(path)]
        subprocess.run([*gen, "--days", str(days)], check=True, stdout=sys.stderr)
    from shared.db import bind, open_writer
    from shared.schema import migrate

    db = bind(open_writer(f"sqlite:///{path.resolve()}"))  # as the collector does at start
    db.connect()
    migrate(db)
    db.close()


def admin(server: str):
    import psycopg2

    conn = psycopg2.connect(f"{server}/postgres")
    conn.autocommit = True
    return conn


def migrate_into(path: Path, url: str) -> dict:
    env = dict(os.environ, DATABASE_URL=f"sqlite:///{path.resolve()}", DATA_DIR=str(path.parent))
    began = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "collector", "migrate", "--to", url, "--batch", "20000"],
        cwd=REPO, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.monotonic() - began
    if done.returncode != 0:
        raise RuntimeError(f"migrate failed: {(done.stderr or done.stdout).strip()[-300:]}")
    last = done.stdout.strip().splitlines()[-1]  # "... copy 12.3 s at 45,678 rows/s"
    copy_rate = float(last.rsplit(" at ", 1)[1].split()[0].replace(",", ""))
    return {"seconds": seconds, "copy_rows_s": copy_rate}


def storage(url: str) -> dict:
    import psycopg2

    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute(
            "SELECT count(*), pg_total_relation_size('substation_reading'), "
            "pg_relation_size('substation_reading'), pg_indexes_size('substation_reading') "
            "FROM substation_reading"
        )
        rows, total, heap, index = cur.fetchone()
    conn.close()
    return {"rows": rows, "total": total / rows, "heap": heap / rows, "index": index / rows}


def throughput(url: str, data_dir: Path, workers: int, seconds: float, runs: int) -> dict:
    """/api/load/current/20 through gunicorn with `workers` processes, `runs` times."""
    loadgen = _loadgen()
    if loadgen is None:
        return {"error": "no C compiler for the load generator"}
    port = _free_port()
    env = dict(
        os.environ, DATABASE_URL=url, DATA_DIR=str(data_dir), HOST="127.0.0.1", PORT=str(port),
        WEB_CONCURRENCY=str(workers), PATH=f"{Path(sys.executable).parent}:{os.environ['PATH']}",
    )  # fmt: skip
    command = 'gunicorn -c api/gunicorn.conf.py "api:create_app()"'
    proc = subprocess.Popen(
        shlex.split(command), cwd=REPO, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    rates, errors = [], 0
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        path = "/api/load/current/20"
        subprocess.run([str(loadgen), str(port), path, "10", "1"], check=True, capture_output=True)
        for _ in range(runs):
            done = subprocess.run(
                [str(loadgen), str(port), path, "10", str(seconds)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            ok, bad, elapsed = done.stdout.split()
            rates.append(int(ok) / float(elapsed))
            errors += int(bad)
        rss = _worker_rss_mb(proc.pid)
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    return {"rates": sorted(rates), "errors": errors, "workers": len(rss)}


def _lat(r: dict) -> str:
    return f"p50 {r['p50']:.1f} / p95 {r['p95']:.1f} ms ({r['min']:.1f}-{r['max']:.1f})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default="postgresql://postgres@127.0.0.1:5432")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--days", default="30,365", help="which generated databases")
    args = parser.parse_args(argv)
    server = admin(args.pg)
    table: list[list[str]] = []
    created = []
    try:
        for label, path, days in SIZES:
            if str(days) not in args.days.split(","):
                continue
            ensure_db(path, days)
            name = f"kamo_bench_{days}d_{secrets.token_hex(3)}"
            server.cursor().execute(f"CREATE DATABASE {name}")
            created.append(name)
            url = f"{args.pg}/{name}"
            moved = migrate_into(path, url)
            size = storage(url)
            rate = size["rows"] / moved["seconds"]
            table.append([
                f"PG migrate --to, {label} ({size['rows']:,} readings)",
                f"{rate:,.0f} readings/s end to end ({moved['seconds']:.0f} s); "
                f"copy alone {moved['copy_rows_s']:,.0f} rows/s", "",
            ])  # fmt: skip
            table.append([
                f"PG bytes per reading, {label} (table + indexes)",
                f"{size['total']:.1f} B (table {size['heap']:.1f} + indexes {size['index']:.1f})",
                "<= 40 B",
            ])  # fmt: skip
            cases = latency_cases(path)
            lite = measure_urls(path, cases, args.repeat)
            pg = measure_urls(path, cases, args.repeat, database_url=url)
            for a, b in zip(lite, pg, strict=True):
                table.append([
                    f"API {a['label']}, {label}",
                    f"SQLite {_lat(a)} | PG {_lat(b)}", f"p95 <= {a['target']} ms",
                ])  # fmt: skip
            if days == max(int(d) for d in args.days.split(",")):
                for workers in WORKERS:
                    t = throughput(url, DATA, workers, args.seconds, args.runs)
                    if "error" in t:
                        table.append([f"PG /api/load/current/20, {workers} proc", t["error"], ""])
                        continue
                    r = t["rates"]
                    table.append([
                        f"PG /api/load/current/20, {workers} API process(es), {label}",
                        f"median {statistics.median(r):,.0f} req/s ({r[0]:,.0f}-{r[-1]:,.0f}, "
                        f"{len(r)} runs of {args.seconds:.0f} s), {t['errors']} errors", "",
                    ])  # fmt: skip
    finally:
        for name in created:
            server.cursor().execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        server.close()
    for row in table:
        print(f"{row[0]:58} {row[1]}")
    print(json.dumps(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
