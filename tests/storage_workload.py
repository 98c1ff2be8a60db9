"""A KAMO-shaped workload for storage tests and benchmarks, through the real ingest code.

~300 substations in 17 member areas; kW and kVAR whole except about 1% of kW with one
decimal; kVAR often negative; pf with two decimals carrying the sign of kVAR; about 2%
with kVAR 0 and pf 0.0. Hourly loads for 20 areas, 12 hours a poll, newest one moving.
"""

from __future__ import annotations

import math
import random

from peewee import Database

from collector.ingest import CycleData, store_cycle
from collector.parse import AreaInfo, LoadPoint, SubstationRow
from collector.rollup import build_completed_hours
from collector.runs import finish_run, start_run
from shared.backend import insert_rows, table_bytes
from shared.models import pf_to_columns

SLOT = 300
MEMBERS = range(1, 18)


def make_substations(seed: int = 7) -> dict[int, list[tuple[str, float]]]:
    rnd = random.Random(seed)
    subs = {}
    for area in MEMBERS:
        count = 11 + (area * 11) % 14  # 11..24, 302 in all
        subs[area] = [(f"Sub {area}-{i:02d}", rnd.uniform(300, 22000)) for i in range(count)]
    return subs


def readings(subs, rnd: random.Random) -> dict[int, list[SubstationRow]]:
    out = {}
    for area, items in subs.items():
        rows = []
        for name, base in items:
            kw = float(round(base * rnd.uniform(0.85, 1.15)))
            if rnd.random() < 0.01:
                kw += 0.5
            kvar = float(round(kw * rnd.uniform(-0.4, 0.3)))
            if rnd.random() < 0.02:
                kvar = 0.0
            pf = 0.0 if kvar == 0 else math.copysign(round(kw / math.hypot(kw, kvar), 2), kvar)
            rows.append(SubstationRow(name, kw, kvar, pf, False, False))
        out[area] = rows
    return out


def hourly(slot_ts: int, rnd: random.Random) -> dict[int, list[LoadPoint]]:
    newest = slot_ts - slot_ts % 3600
    loads = {}
    for area in range(1, 21):
        points = [LoadPoint(newest - 3600 * k, 50000.0 + area * 1000 + k) for k in range(11, 0, -1)]
        points.append(LoadPoint(newest, float(round(40000 + rnd.uniform(0, 9000)))))
        loads[area] = points
    return loads


def poll(db: Database, slot_ts: int, subs, rnd: random.Random) -> None:
    """What one cycle writes: the run row, then data and the finished run in one transaction."""
    with db.atomic():
        run = start_run("scheduled", slot_ts)
    data = CycleData(
        slot_ts=slot_ts,
        areas=[AreaInfo(a, f"Area {a}", f"A{a}") for a in range(1, 21)],
        loads=hourly(slot_ts, rnd),
        substations=readings(subs, rnd),
    )
    with db.atomic():
        counters = store_cycle(data, slot_ts + 2)
        finish_run(run, status="success", areas_total=20, areas_ok=20, counters=counters)


def bulk_week(db: Database, subs, first_slot: int, slots: int, rnd: random.Random) -> None:
    """Fill `slots` polls of readings fast, in the order the collector appends them.

    Density depends on the table layout and insert order, which this shares with the
    real ingest; the per-poll path is measured separately with `poll()`.
    """
    poll(db, first_slot, subs, rnd)  # creates the substations through the real code
    ids = dict(db.execute_sql("SELECT name, id FROM substation").fetchall())
    columns = ("ts", "substation_id", "kw", "kvar", "pf_centi", "pf_exact", "quality")
    columns += ("quality_now",)
    for i in range(1, slots):
        ts = first_slot + i * SLOT
        rows = [
            (ts, ids[r.name], r.kw, r.kvar, *pf_to_columns(r.pf), False, False)
            for area_rows in readings(subs, rnd).values()
            for r in area_rows
        ]
        with db.atomic():
            insert_rows(db, "substation_reading", columns, rows)
    with db.atomic():  # the rollup a week-old collector would have built hour by hour
        while build_completed_hours(first_slot + slots * SLOT):
            pass


def wal_frames(db: Database) -> int:
    """SQLite: frames in the WAL now; a PASSIVE checkpoint copies them so the next write
    restarts it (scripts/bench_collector.py; shared.backend.WalMeter covers both backends)."""
    busy, log_frames, _done = db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    return log_frames


def readings_bytes(db: Database) -> int:
    """Bytes on disk of the readings table and all its indexes."""
    return table_bytes(db, "substation_reading")
