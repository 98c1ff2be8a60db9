"""Forecast benchmark figures: what keeping KAMO's forecasts costs per poll, on disk and in WAL.

Run through `make bench`. Two databases go through the same simulated day of 5-minute polls
(the collector's own store code: readings, hourly loads, run rows), one with the simulator's
Forecast series for all 20 areas and one without. The difference is the forecasts' cost:
WAL bytes written per poll (what an SD card sees) and database growth per poll.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import tempfile
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "scripts")]

from kamo_sim_forecast import forecast_series  # noqa: E402
from kamo_sim_model import HOUR, KamoModel, window_hours  # noqa: E402

from collector.ingest import CycleData, store_cycle  # noqa: E402
from collector.parse import AreaInfo, LoadPoint  # noqa: E402
from collector.runs import finish_run, start_run  # noqa: E402
from shared.db import bind, open_writer  # noqa: E402
from shared.schema import migrate  # noqa: E402

from storage_workload import SLOT, hourly, make_substations, readings, wal_frames  # noqa: E402

Row = tuple[str, str, str]
FIRST = 1_795_000_000 - 1_795_000_000 % 86400  # a UTC midnight in November 2026
WARM_POLLS = 144  # half a day of history first, so the B-trees have some depth
MEASURED_POLLS = 288  # one simulated day


def served(model: KamoModel, slot_ts: int) -> dict:
    """The Forecast series of every area as the simulator serves it at `slot_ts`."""
    now = datetime.fromtimestamp(slot_ts, UTC)
    hours = window_hours(now)
    found = {}
    for area in range(1, 21):
        data = forecast_series(model, 1, area, now)["data"]
        found[area] = {
            "Forecast": [LoadPoint(h * HOUR, v) for h, v in zip(hours, data, strict=True)]
        }
    return found


def run_day(path: Path, with_forecasts: bool) -> tuple[list[int], int, int]:
    """(WAL frames of each measured poll, database bytes before, after the measured day)."""
    db = bind(open_writer(f"sqlite:///{path}"))
    db.connect()
    migrate(db)
    page = db.execute_sql("PRAGMA page_size").fetchone()[0]
    subs, rnd, model = make_substations(), random.Random(42), KamoModel()
    cache: dict[int, dict] = {}
    frames = []
    size_before = 0
    warm = WARM_POLLS
    for i in range(warm + MEASURED_POLLS):
        slot = FIRST + i * SLOT
        if i == warm:
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            size_before = path.stat().st_size
        forecasts = {}
        if with_forecasts:  # the simulator's forecast changes once an hour
            hour = slot - slot % HOUR
            forecasts = cache.setdefault(hour, served(model, slot))
        with db.atomic():
            run = start_run("scheduled", slot)
        data = CycleData(
            slot_ts=slot,
            areas=[AreaInfo(a, f"Area {a}", f"A{a}") for a in range(1, 21)],
            loads=hourly(slot, rnd),
            substations=readings(subs, rnd),
            forecasts=forecasts,
        )
        with db.atomic():
            counters = store_cycle(data, slot + 2)
            finish_run(run, status="success", areas_total=20, areas_ok=20, counters=counters)
        if i >= warm:
            frames.append(wal_frames(db))
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    size_after = path.stat().st_size
    db.close()
    return [f * (page + 24) for f in frames], size_before, size_after


def storage_figures(tmp: Path) -> list[Row]:
    plain, plain_before, plain_after = run_day(tmp / "plain.db", False)
    kept, kept_before, kept_after = run_day(tmp / "forecast.db", True)
    extra_wal = statistics.mean(kept) - statistics.mean(plain)
    growth = ((kept_after - kept_before) - (plain_after - plain_before)) / MEASURED_POLLS
    return [
        (
            "WAL bytes per poll, without / with forecasts (day)",
            f"{statistics.mean(plain) / 1024:.1f} / {statistics.mean(kept) / 1024:.1f} KiB",
            "<= 400 KB",
        ),
        ("forecast cost per poll: WAL bytes (day mean)", f"{extra_wal / 1024:.1f} KiB", ""),
        ("forecast cost per poll: database growth", f"{growth:.0f} bytes", ""),
    ]


def main() -> list[Row]:
    with tempfile.TemporaryDirectory() as tmp:
        return storage_figures(Path(tmp))


if __name__ == "__main__":
    print(json.dumps(main()))
