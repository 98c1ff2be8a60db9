"""Stored history for peak-watch and estimate tests, written through the collector's own
ingest path from the simulator's model (the answers a poll at each slot would get)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from collector.ingest import CycleData, store_cycle
from collector.parse import AreaInfo, LoadPoint, SubstationRow, parse_areagrid, parse_loadtable

REPO = Path(__file__).resolve().parent.parent
HOUR = 3600


def load_model_module():
    """scripts/kamo_sim_model.py, imported by path (scripts/ is not a package)."""
    name = "kamo_sim_model"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def cycle_data(model, seed: int, slot: int, with_loads: bool = True) -> CycleData:
    """What a successful poll at `slot` would store, parsed by the collector's parsers."""
    from datetime import UTC, datetime

    now = datetime.fromtimestamp(slot, UTC)
    areas = [AreaInfo(a["id"], a["name"], a["abrev"]) for a in model.areas]
    data = CycleData(slot_ts=slot, areas=areas)
    for area in range(1, 21):
        if with_loads:
            data.loads[area] = parse_areagrid(model.areagrid(seed, area, now), area).points
        if area <= 17:
            rows, _ = parse_loadtable(model.arealoadtable(seed, area, now), area)
            data.substations[area] = rows
    return data


def fill_history(db, model, seed: int, start: int, end: int, step: int = 1800) -> None:
    """One stored cycle every `step` seconds in [start, end); loads at each hour's first."""
    for slot in range(start, end, step):
        data = cycle_data(model, seed, slot, with_loads=slot % HOUR < step)
        with db.atomic():
            store_cycle(data, slot)


# --- a small known dataset (tests/test_estimate.py, tests/api/test_api_peak.py) ----------

H0 = 1_796_000_400 - 1_796_000_400 % 3600
SLOT = 900


def reading(name: str, kw: float) -> SubstationRow:
    return SubstationRow(name, kw, -10.0, -0.99, False, False)


def poll(slot: int, subs: dict[int, list[float]], loads: dict[int, list[tuple[int, float]]]):
    """One stored cycle: substation kW per area (names A, B, ...), hourly values per area."""
    areas = [AreaInfo(a, f"Area {a}", f"A{a}") for a in (1, 2, 3, 20)]
    data = CycleData(slot_ts=slot, areas=areas)
    for area, values in subs.items():
        data.substations[area] = [reading(chr(65 + i), kw) for i, kw in enumerate(values)]
    for area, points in loads.items():
        data.loads[area] = [LoadPoint(ts, kw) for ts, kw in points]
    store_cycle(data, slot)


# Slot sums of area 1 per hour (two substations), and the hourly actuals. Hour 1 misses a
# snapshot: its mean is over the three that came.
SUMS = {0: [100, 100, 100, 100], 1: [200, 200, 200], 2: [100, 100, 100, 100], 3: [100] * 4}
ACTUALS = {0: 110.0, 1: 220.0, 2: 120.0, 3: 100.0}


def build_known_dataset(db) -> None:
    """Area 1: two substations polled every 15 minutes for four hours, with actuals."""
    for hour, sums in SUMS.items():
        for i, total in enumerate(sums):
            slot = H0 + hour * 3600 + i * SLOT
            loads = {1: [(H0 + (hour - 1) * 3600, ACTUALS[hour - 1])]} if hour and not i else {}
            with db.atomic():
                poll(slot, {1: [total / 2, total / 2]}, loads)
    with db.atomic():  # hour 4 begins: hour 3's actual comes in, hours 0-3 complete
        poll(H0 + 4 * 3600, {1: [75, 75]}, {1: [(H0 + 3 * 3600, ACTUALS[3])]})
