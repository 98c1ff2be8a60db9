"""Real-time estimate figures; prints one table (the last line is JSON for scripts/bench.py).

    python scripts/bench_estimate.py [--days 7] [--db data/bench.db] [--repeat 40]

Accuracy: a week of the simulator's answers (a poll every 15 minutes) stored through the
collector's own ingest path into a temporary SQLite file, which also builds the estimate's
calibration as hours complete; the error is |estimate - hourly actual| / actual, for the
hour estimate (that hour's snapshots, the ratio known before it) and for single snapshots
(what `/api/load/now` shows at any moment). Latency: `/api/load/now` through the Flask test
client on the one-year benchmark database.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "scripts"))

from kamo_sim_model import KamoModel  # noqa: E402

from collector.ingest import CycleData, store_cycle  # noqa: E402
from collector.parse import AreaInfo, parse_areagrid, parse_loadtable  # noqa: E402
from shared.db import bind, open_writer  # noqa: E402
from shared.estimate import error_stats, member_ratio, percentile  # noqa: E402
from shared.schema import migrate  # noqa: E402

HOUR = 3600
STEP = 900
START = int(datetime(2026, 11, 16, 6, tzinfo=UTC).timestamp())


def simulate(db_path: Path, days: int, seed: int = 1):
    model = KamoModel()
    db = bind(open_writer(f"sqlite:///{db_path}"))
    db.connect()
    migrate(db)
    areas = [AreaInfo(a["id"], a["name"], a["abrev"]) for a in model.areas]
    for slot in range(START, START + days * 86400 + STEP, STEP):
        now = datetime.fromtimestamp(slot, UTC)
        data = CycleData(slot_ts=slot, areas=areas)
        for area in range(1, 21):
            data.loads[area] = parse_areagrid(model.areagrid(seed, area, now), area).points
            if area <= 17:
                table = model.arealoadtable(seed, area, now)
                data.substations[area] = parse_loadtable(table, area)[0]
        with db.atomic():
            store_cycle(data, slot)
    return db


def snapshot_errors(db, area_ids: range) -> list[float]:
    """Every snapshot's estimate (sum x the ratio known before its hour) against its hour's
    actual, summed over `area_ids` (KAMO = all 17 members)."""
    sums = db.execute_sql(
        "SELECT r.ts, s.area_id, SUM(r.kw) FROM substation_reading r "
        "JOIN substation s ON s.id = r.substation_id GROUP BY r.ts, s.area_id"
    ).fetchall()
    by_slot: dict[int, dict[int, float]] = {}
    for ts, area, kw in sums:
        by_slot.setdefault(ts, {})[area] = kw
    actual = dict(db.execute_sql("SELECT ts, load_kw FROM hourly_load WHERE area_id = 20"))
    ratios: dict[tuple[int, int], float | None] = {}
    errors = []
    for ts, parts in sorted(by_slot.items()):
        hour = ts - ts % HOUR
        if hour not in actual:
            continue
        total = 0.0
        for area in area_ids:
            if (area, hour) not in ratios:
                ratios[(area, hour)] = member_ratio(db, area, hour)
            ratio = ratios[(area, hour)]
            if ratio is None or area not in parts:
                break
            total += parts[area] * ratio
        else:
            errors.append(abs(total - actual[hour]) / actual[hour] * 100)
    return errors


def latency(db_path: Path, repeat: int) -> list[dict]:
    from bench_latency import measure_urls

    cases = [
        ("/api/load/now/20 (KAMO)", "/api/load/now/20", None),
        ("/api/load/now/5 (member)", "/api/load/now/5", None),
    ]
    return measure_urls(db_path, cases, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--db", type=Path, default=REPO / "data" / "bench.db")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    rows = []
    began = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp:
        db = simulate(Path(tmp) / "sim.db", args.days)
        now = START + args.days * 86400 + HOUR
        kamo = error_stats(db, 20, now)
        members = [
            abs(est - act) / act * 100
            for est, act in db.execute_sql(
                "SELECT estimate_kw, actual_kw FROM load_estimate WHERE area_id <= 17 "
                "AND estimate_kw IS NOT NULL AND actual_kw > 0"
            )
        ]
        snaps = snapshot_errors(db, range(1, 18))
        db.close()
    span = f"{args.days} d simulated, {kamo['hours']} h"
    rows.append([f"estimate error, KAMO hour ({span})",
                 f"median {kamo['median_pct']}% p95 {kamo['p95_pct']}%", ""])  # fmt: skip
    rows.append([f"estimate error, members hour ({len(members)} area-hours)",
                 f"median {statistics.median(members):.2f}% "
                 f"p95 {percentile(members, 95):.2f}%", ""])  # fmt: skip
    rows.append([f"estimate error, KAMO single snapshot ({len(snaps)})",
                 f"median {statistics.median(snaps):.2f}% p95 {percentile(snaps, 95):.2f}%",
                 ""])  # fmt: skip
    print(f"simulated and measured in {time.monotonic() - began:.0f} s", file=sys.stderr)
    if args.db.is_file():
        for r in latency(args.db, args.repeat):
            rows.append([f"latency {r['label']} (1 year)",
                         f"p50 {r['p50']:.1f} ms p95 {r['p95']:.1f} ms", ""])  # fmt: skip
    else:
        rows.append(["latency /api/load/now", f"skipped: no {args.db}", ""])
    for row in rows:
        print("  ".join(row), file=sys.stderr)
    print(json.dumps(rows))
    return 0


if __name__ == "__main__":
    sys.exit(main())
