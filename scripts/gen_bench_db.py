"""Generate a benchmark database: one year of 5-minute polls, ~300 substations (~31M readings),
and hourly forecast vintages (a 12-hour forecast reissued every hour, ~2.3M rows).

    python scripts/gen_bench_db.py --out data/bench.db [--seed 1] [--days 365]

Reproducible: the same seed, end and sizes give the same rows. The schema is the real one
(shared.schema.migrate); rows go in with bulk sqlite3 inserts in key order, then the
collector's own rollup code builds the hourly substation rollup. Takes a few minutes.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import random
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from collector.estimate_calib import update_load_estimates  # noqa: E402
from collector.forecast_scores import build_forecast_scores  # noqa: E402
from collector.rollup import build_completed_hours  # noqa: E402
from shared.db import bind, open_writer  # noqa: E402
from shared.models import pf_to_columns  # noqa: E402
from shared.schema import migrate  # noqa: E402

AREAS_JSON = REPO / "scripts" / "kamo_fixtures" / "real-2026-01-04" / "area.json"
MEMBERS = range(1, 18)
AGGREGATES = {18: range(1, 10), 19: range(10, 18), 20: range(1, 18)}
HOUR = 3600
BATCH = 50_000
FORECAST_LEADS = 12  # the forecast covers 12 hours ahead and is reissued every hour
FORECAST_BASE, FORECAST_STEP = 0.02, 0.019  # error spread as in scripts/kamo_sim_forecast.py


def diurnal(ts: int) -> float:
    """A load shape: evening peak, night trough, summer and winter above spring and fall."""
    hour = (ts // HOUR - 6) % 24  # roughly Central time
    day = (ts // 86400) % 365
    season = 1.0 + 0.25 * math.cos(2 * math.pi * (day - 200) / 365) ** 2
    return season * (0.75 + 0.25 * math.sin(2 * math.pi * (hour - 11) / 24))


def substations(rng: random.Random, total: int) -> list[tuple[int, int, str, float]]:
    """(id, area_id, name, base kW): 8-28 per member area, `total` in all."""
    counts = [8] * len(MEMBERS)
    for _ in range(total - sum(counts)):
        candidates = [i for i, c in enumerate(counts) if c < 28]
        counts[rng.choice(candidates)] += 1
    found, next_id = [], 1
    for area_id, count in zip(MEMBERS, counts, strict=True):
        for n in range(count):
            found.append((next_id, area_id, f"Sub {area_id}-{n + 1:02d}", rng.uniform(800, 9000)))
            next_id += 1
    return found


def reading_rows(rng: random.Random, subs, start: int, end: int, interval: int):
    for ts in range(start, end, interval):
        shape = diurnal(ts)
        for sid, _area, _name, base in subs:
            kw = round(base * shape * rng.uniform(0.93, 1.07))
            if rng.random() < 0.01:
                kw += 0.5
            kvar = round(kw * rng.uniform(-0.45, 0.3))
            pf = 0.0 if kvar == 0 else math.copysign(round(kw / math.hypot(kw, kvar), 2), kvar)
            centi, exact = pf_to_columns(pf)
            yield (ts, sid, kw, kvar, centi, exact, 0, 0)


def forecast_rows(rng: random.Random, actual: dict[tuple[int, int], float], start: int, end: int):
    """Vintages in key order, shaped like what the collector keeps from the simulator: each
    target hour gets 13 values (issued 12 h ahead down to its own hour), each one a new
    vintage since the error shrinks as the hour comes closer."""
    areas = sorted({a for a, _ in actual})
    for area in areas:
        for target in range(start + FORECAST_LEADS * HOUR, end, HOUR):
            kw = actual[(area, target)]
            steps = [rng.gauss(0, FORECAST_STEP) for _ in range(FORECAST_LEADS)]
            error = rng.gauss(0, FORECAST_BASE) + sum(steps)
            for lead in range(FORECAST_LEADS, -1, -1):  # oldest issue first: key order
                yield (area, "Forecast", target, target - lead * HOUR, round(kw * (1 + error)))
                if lead:
                    error -= steps[lead - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "data" / "bench.db")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--substations", type=int, default=300)
    parser.add_argument("--interval-minutes", type=int, default=5)
    parser.add_argument("--end", default="2026-11-26T00:00:00Z", help="UTC end (exclusive)")
    args = parser.parse_args(argv)

    end = int(datetime.fromisoformat(args.end.replace("Z", "+00:00")).astimezone(UTC).timestamp())
    start = end - args.days * 86400
    interval = args.interval_minutes * 60
    rng = random.Random(args.seed)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        Path(f"{args.out}{suffix}").unlink(missing_ok=True)

    db = bind(open_writer(f"sqlite:///{args.out.resolve()}"))
    db.connect()
    migrate(db)
    db.close()

    began = time.monotonic()
    conn = sqlite3.connect(args.out, isolation_level=None)
    conn.executescript(
        "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-200000;"
    )
    conn.execute("BEGIN")
    areas = json.loads(AREAS_JSON.read_text())
    conn.executemany(
        "INSERT INTO area (id, name, abbreviation, is_aggregate) VALUES (?, ?, ?, ?)",
        [(a["id"], a["name"], a["abrev"], int(a["id"] in AGGREGATES)) for a in areas],
    )
    subs = substations(rng, args.substations)
    conn.executemany(
        "INSERT INTO substation (id, area_id, name, first_seen, last_seen) VALUES (?, ?, ?, ?, ?)",
        [(sid, area, name, start, end - interval) for sid, area, name, _ in subs],
    )
    # Hourly load: members from their substations' shape, aggregates as sums.
    area_base = {a: sum(b for _, area, _, b in subs if area == a) for a in MEMBERS}
    load_rows = []
    for ts in range(start, end, HOUR):
        member = {a: round(area_base[a] * diurnal(ts) * rng.uniform(0.97, 1.03)) for a in MEMBERS}
        values = {**member, **{g: sum(member[m] for m in ms) for g, ms in AGGREGATES.items()}}
        load_rows += [(a, ts, float(kw), ts + 300, ts + 300, 0) for a, kw in values.items()]
    load_rows.sort()
    conn.executemany("INSERT INTO hourly_load VALUES (?, ?, ?, ?, ?, ?)", load_rows)
    actual = {(a, ts): kw for a, ts, kw, *_ in load_rows}
    forecasts = 0
    insert_forecast = (
        "INSERT INTO forecast (area_id, series, target_ts, issued_ts, value_kw) "
        "VALUES (?, ?, ?, ?, ?)"
    )
    rows_iter = forecast_rows(random.Random(args.seed + 1), actual, start, end)
    while chunk := list(itertools.islice(rows_iter, BATCH)):
        conn.executemany(insert_forecast, chunk)
        forecasts += len(chunk)
    # One import run per slot; about 1% failed.
    runs = []
    for ts in range(start, end, interval):
        failed = rng.random() < 0.01
        runs.append(
            (
                "scheduled",
                None,
                ts,
                ts + 1.0,
                ts + 2.5,
                "failed" if failed else "success",
                20,
                0 if failed else 20,
                0,
                0,
                0,
                0 if failed else len(subs),
                0,
                '{"7": "timeout"}' if failed else "{}",
                "[]",
                None,
                None,
            )
        )
    conn.executemany(
        "INSERT INTO import_run (trigger, request_id, slot_ts, started_at, finished_at, status, "
        "areas_total, areas_ok, load_new, load_revised, load_unchanged, readings_stored, "
        "substations_new, area_errors, warnings, message, clock_skew_seconds) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        runs,
    )
    total = 0
    insert = "INSERT INTO substation_reading VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
    batch = []
    for row in reading_rows(rng, subs, start, end, interval):
        batch.append(row)
        if len(batch) >= BATCH:
            conn.executemany(insert, batch)
            total += len(batch)
            batch.clear()
            if total % 5_000_000 < BATCH:
                print(f"  {total:,} readings ({time.monotonic() - began:.0f} s)", flush=True)
    conn.executemany(insert, batch)
    total += len(batch)
    conn.execute("UPDATE row_count SET rows = ? WHERE \"table\" = 'substation_reading'", (total,))
    conn.execute("UPDATE row_count SET rows = ? WHERE \"table\" = 'hourly_load'", (len(load_rows),))
    conn.execute("COMMIT")
    conn.close()

    db = bind(open_writer(f"sqlite:///{args.out.resolve()}"))
    db.connect()
    with db.atomic():
        hours = build_completed_hours(end, max_hours=args.days * 24 + 24)
        build_forecast_scores(end, max_days=args.days + 2)
    while True:  # the real-time estimate's calibration, a week per transaction like the collector
        with db.atomic():
            if not update_load_estimates(end):
                break
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()
    size = args.out.stat().st_size
    print(
        f"{args.out}: {total:,} readings, {len(load_rows):,} hourly loads, {len(runs):,} runs, "
        f"{forecasts:,} forecast vintages, "
        f"{hours:,} rollup hours, {size / 1e9:.2f} GB, {time.monotonic() - began:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
