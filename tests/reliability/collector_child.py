"""A real collector in a child process whose clock the reliability cases move.

    python tests/reliability/collector_child.py once --at TS [--trace FILE]
    python tests/reliability/collector_child.py cycles --first-slot TS --slots N
        [--step S] [--sim-clock] [--rss-every K] [--stop-file F] [--seconds T]

`once` is `python -m collector once` (lock, migrate, orphan closing, one Cycle, checkpoint)
with the clock set to TS. With `--trace`, every BEGIN / COMMIT / ROLLBACK the collector sends
to SQLite is appended to FILE before SQLite runs it, so a parent that SIGKILLs this process
can tell whether a write transaction was open.

`cycles` runs the daemon's own `run_cycle` (its logging and error handling) once per slot,
slot after slot, with the clock moved to 2 s after each slot start. `--sim-clock` moves the
simulator's data clock along. It prints one JSON line per `--rss-every` slots and a last one.
Settings come from the environment, as for the real collector.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
import time_machine
from peewee import SqliteDatabase

CT = ZoneInfo("America/Chicago")
CYCLE_OFFSET = 2  # seconds after the slot start that a scheduled cycle begins


def rss_kb() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def install_trace(path: str) -> None:
    """Record transaction statements through SQLite's own trace hook (observation only)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    original = SqliteDatabase._connect

    def traced(self):
        conn = original(self)

        def note(sql: str) -> None:
            word = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else ""
            if word in ("BEGIN", "COMMIT", "ROLLBACK", "END"):
                os.write(fd, f"{word}\n".encode())

        conn.set_trace_callback(note)
        return conn

    SqliteDatabase._connect = traced


def instant(ts: float) -> datetime:
    # Chicago-aware, as DESIGN.md asks: naive local time then really is Central time.
    return datetime.fromtimestamp(ts, UTC).astimezone(CT)


def run_once(args: argparse.Namespace) -> int:
    if args.trace:
        install_trace(args.trace)
    from collector.cli import main

    with time_machine.travel(instant(args.at), tick=True):
        return main(["once"])


def run_cycles(args: argparse.Namespace) -> int:
    from collector.cli import setup_logging
    from collector.client import KamoClient
    from collector.cycle import Cycle
    from collector.daemon import Daemon
    from collector.lock import writer_lock
    from collector.runs import close_orphaned_runs
    from shared.config import settings_or_exit
    from shared.db import bind, open_writer
    from shared.schema import migrate

    settings = settings_or_exit("collector")
    setup_logging(settings)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    control = settings.kamo_base_url.rstrip("/").removesuffix("/api") + "/_sim/control"
    stop_file = Path(args.stop_file) if args.stop_file else None
    # time-machine moves time.monotonic() too, not perf_counter(): wall figures use that.
    real = time.perf_counter
    deadline = real() + args.seconds if args.seconds else None
    first_wall = real()
    with (
        writer_lock(settings.lock_path),
        time_machine.travel(instant(args.first_slot + CYCLE_OFFSET), tick=True) as clock,
    ):
        db = bind(open_writer(settings.database_url))
        db.connect(reuse_if_open=True)
        migrate(db)
        close_orphaned_runs()
        client = KamoClient(
            settings.kamo_base_url,
            timeout=settings.kamo_timeout_seconds,
            max_concurrency=settings.kamo_max_concurrency,
            abort=stop,
        )
        daemon = Daemon(settings, Cycle(db, client, settings.poll_interval_minutes), stop)
        slot, done, longest = args.first_slot, 0, 0.0
        while not stop.is_set() and (args.slots is None or done < args.slots):
            if deadline is not None and real() > deadline:
                break
            if stop_file is not None and stop_file.exists():
                break
            clock.move_to(instant(slot + CYCLE_OFFSET))
            if args.sim_clock:
                at = datetime.fromtimestamp(slot + CYCLE_OFFSET, UTC).isoformat()
                requests.post(control, json={"now": at}, timeout=5).raise_for_status()
            began = real()
            daemon.run_cycle("scheduled")
            longest = max(longest, real() - began)
            done += 1
            slot += args.step
            if args.rss_every and done % args.rss_every == 0:
                print(json.dumps({"slots": done, "rss_kb": rss_kb()}), flush=True)
        client.close()
        db.close()
    summary = {
        "slots": done,
        "rss_kb": rss_kb(),
        "longest_cycle_s": round(longest, 3),
        "wall_s": round(real() - first_wall, 1),
        "final": True,
    }
    print(json.dumps(summary), flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    once = sub.add_parser("once")
    once.add_argument("--at", type=float, required=True)
    once.add_argument("--trace")
    cycles = sub.add_parser("cycles")
    cycles.add_argument("--first-slot", type=int, required=True)
    cycles.add_argument("--slots", type=int)
    cycles.add_argument("--step", type=int, default=300)
    cycles.add_argument("--sim-clock", action="store_true")
    cycles.add_argument("--rss-every", type=int, default=0)
    cycles.add_argument("--stop-file")
    cycles.add_argument("--seconds", type=float)
    args = parser.parse_args(argv)
    return run_once(args) if args.mode == "once" else run_cycles(args)


if __name__ == "__main__":
    sys.exit(main())
