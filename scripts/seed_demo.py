"""Thirty days of simulated history for the demo database; `make demo` runs it first.

The simulator's own model (kamo_sim_model, the same seed as the simulator the demo polls)
makes the data, and the collector's own ingest path stores it: `store_cycle` per simulated
poll (hourly loads, readings, and the hourly rollup as each hour completes), one import run
per poll. So every range of the inspector, the peaks and the tables have data at once.

Simulated polls: every 15 minutes over the last 48 hours (the 24 h and 48 h inspector ranges
show raw readings), hourly before that. Writes go in transactions of a day of slots at a
time (few, large WAL appends on an SD card).

A `rollup_state` row named `simulated_history` marks the database: the API and dashboard
show "simulated demo data" while it is there. Run twice, the script sees the marker and
does nothing. It writes only into a database whose collector polls a simulator on loopback
(KAMO_BASE_URL on 127.0.0.1 or localhost) and that holds no data yet: simulated history
never goes into a database of real data.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

from peewee import SqliteDatabase

HERE = Path(__file__).resolve().parent
for folder in (HERE.parent, HERE):  # the repository for collector/ and shared/, this folder
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

from kamo_sim_model import AGGREGATES, MEMBER_IDS, KamoModel  # noqa: E402

from collector.cli import new_database_path  # noqa: E402
from collector.ingest import CycleData, store_cycle  # noqa: E402
from collector.lock import LockHeld, writer_lock  # noqa: E402
from collector.parse import LoadPoint, SubstationRow, parse_area_list  # noqa: E402
from collector.runs import finish_run, start_run  # noqa: E402
from shared.config import ConfigError, load_settings  # noqa: E402
from shared.db import bind, open_writer  # noqa: E402
from shared.models import HourlyLoad, RollupState  # noqa: E402
from shared.schema import migrate  # noqa: E402

PROGRAM = "seed_demo.py"
MARKER = "simulated_history"  # rollup_state name; built_until = end of the simulated history
HISTORY_DAYS = 30
DENSE_HOURS = 48
DENSE_STEP = 900
HOUR = 3600
SLOTS_PER_TRANSACTION = 96
POLL_SECONDS = 2.0  # a simulated poll starts 2 s into its slot and takes about a second
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Seeded:
    slots: int = 0
    load_rows: int = 0
    readings: int = 0
    start: int = 0
    end: int = 0


def history_slots(now: float, days: int = HISTORY_DAYS) -> list[int]:
    """Hourly slots from `days` back, then 15-minute slots for the last DENSE_HOURS, up to
    the 15-minute slot that holds `now` (the live collector continues from there)."""
    end = int(now) - int(now) % DENSE_STEP
    dense_from = end - end % HOUR - DENSE_HOURS * HOUR
    start = dense_from - (days * 24 - DENSE_HOURS) * HOUR
    return list(range(start, dense_from, HOUR)) + list(range(dense_from, end + 1, DENSE_STEP))


def marker_until(db) -> int | None:
    """End of the simulated history when this database holds one (the marker), else None."""
    row = RollupState.get_or_none(RollupState.name == MARKER)
    return None if row is None else row.built_until


class History:
    """The model's values in the parsed shapes the collector's ingest takes."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.model = KamoModel()
        self.areas = parse_area_list(self.model.areas)

    def hourly(self, first_hour: int, end_hour: int) -> dict[int, list[LoadPoint]]:
        """Settled loads of the hours [first_hour, end_hour) (hour indexes) of every area."""
        loads: dict[int, list[LoadPoint]] = {a.id: [] for a in self.areas}
        for hour in range(first_hour, end_hour):
            member = {m: self.model.final_kw(self.seed, m, hour) for m in MEMBER_IDS}
            for area in loads:
                kw = sum(member[m] for m in AGGREGATES.get(area, (area,)))
                loads[area].append(LoadPoint(hour * HOUR, float(kw)))
        return {area: points for area, points in loads.items() if points}

    def readings(self, slot: int) -> dict[int, list[SubstationRow]]:
        at = datetime.fromtimestamp(slot + POLL_SECONDS, UTC)
        out = {}
        for area in MEMBER_IDS:
            rows = self.model.readings(self.seed, area, at)
            out[area] = [
                SubstationRow(r["name"], r["kw"], r["kvar"], r["pf"], False, False) for r in rows
            ]
        return out


def seed_history(db, now: float, seed: int = 1, days: int = HISTORY_DAYS) -> Seeded:
    """Store the simulated history ending at `now` through the collector's ingest path."""
    history = History(seed)
    slots = history_slots(now, days)
    done = Seeded(start=slots[0], end=slots[-1])
    previous = slots[0] - HOUR
    for first in range(0, len(slots), SLOTS_PER_TRANSACTION):
        with db.atomic():
            for slot in slots[first : first + SLOTS_PER_TRANSACTION]:
                # Each poll brings the hours completed since the previous poll, settled.
                loads = history.hourly(previous // HOUR, slot // HOUR)
                data = CycleData(
                    slot_ts=slot,
                    areas=history.areas if slot == slots[0] else [],
                    loads=loads,
                    substations=history.readings(slot),
                )
                started = slot + POLL_SECONDS
                run = start_run("scheduled", slot, started_at=started)
                counters = store_cycle(data, int(started))
                n = len(history.areas)
                finish_run(
                    run,
                    status="success",
                    areas_total=n,
                    areas_ok=n,
                    counters=counters,
                    message="simulated demo history",
                    finished_at=started + 1.0,
                )
                done.slots += 1
                done.load_rows += counters.load_new
                done.readings += counters.readings_stored
                previous = slot
        if first + SLOTS_PER_TRANSACTION >= len(slots):
            break
    with db.atomic():
        RollupState.insert(name=MARKER, built_until=done.end).execute()
    return done


def _refusal(kamo_url: str) -> str | None:
    host = urlparse(kamo_url).hostname or ""
    if host not in LOOPBACK:
        return (
            f"KAMO_BASE_URL is {kamo_url}: this database is fed by the real KAMO, and "
            "simulated history goes into the demo database only"
        )
    return None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog=PROGRAM, description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=1, help="the simulator's seed (default 1)")
    parser.add_argument("--days", type=int, default=HISTORY_DAYS, help="days of history (30)")
    args = parser.parse_args(argv)
    try:
        settings = load_settings()
    except ConfigError as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 2
    refusal = _refusal(settings.kamo_base_url)
    if refusal:
        print(f"{PROGRAM}: {refusal}", file=sys.stderr)
        return 1
    settings.data_dir.mkdir(parents=True, exist_ok=True)  # as the collector does
    try:
        new_file = new_database_path(settings.database_url)
    except ConfigError as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 2
    try:
        with writer_lock(settings.lock_path):
            db = bind(open_writer(settings.database_url))
            db.connect(reuse_if_open=True)
            migrate(db)
            if new_file is not None:
                print(f"demo: created a new database at {new_file}")
            return _seed_once(db, args.seed, args.days)
    except LockHeld as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 1


def _seed_once(db, seed: int, days: int) -> int:
    until = marker_until(db)
    if until is not None:
        when = datetime.fromtimestamp(until, UTC).isoformat(timespec="minutes")
        print(f"demo: the database already holds simulated history up to {when}")
        return 0
    if HourlyLoad.select().exists():
        print(
            "demo: the database has data but no simulated history; not seeding "
            "(delete the demo database for a fresh demo with history)"
        )
        return 0
    began = time.monotonic()
    done = seed_history(db, time.time(), seed, days)
    if isinstance(db, SqliteDatabase):  # fold the WAL in now, not during the demo's first poll
        db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    print(
        f"demo: stored {days} days of simulated history: {done.slots} polls, "
        f"{done.load_rows} hourly loads, {done.readings} readings "
        f"in {time.monotonic() - began:.1f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
