"""Calibration of the real-time estimate, built once per complete hour in the cycle's write.

For every area and complete UTC hour, `load_estimate` keeps the mean of the hour's
snapshot sums, the hourly actual, their ratio, and the estimate the ratio known before
that hour would have given. The API's estimate reads the ratios; its error figures read
the estimate/actual pairs. The last RECHECK_HOURS are rebuilt each hour, so an actual
that arrives or changes a little late is still taken in.
"""

from __future__ import annotations

import statistics
from collections import deque

from peewee import fn

from shared.estimate import AGGREGATE_MEMBERS, CALIBRATION_HOURS, MEMBER_IDS
from shared.models import HourlyLoad, LoadEstimate, RollupState, SubstationReading

HOUR = 3600
STATE_NAME = "load_estimate"
RECHECK_HOURS = 2
MAX_HOURS_PER_CALL = 168  # a backfill proceeds a week per cycle
_UPDATE = [
    LoadEstimate.readings_kw,
    LoadEstimate.slots,
    LoadEstimate.substations,
    LoadEstimate.actual_kw,
    LoadEstimate.ratio,
    LoadEstimate.estimate_kw,
]


def _slot_sums(start: int, end: int) -> dict[tuple[int, int], list[tuple[float, int]]]:
    """{(area, hour): [(sum of kW, substations) per snapshot]} for [start, end)."""
    db = SubstationReading._meta.database
    p = db.param
    rows = db.execute_sql(
        "SELECT s.area_id, r.ts, SUM(r.kw), COUNT(*) FROM substation_reading r "
        f"JOIN substation s ON s.id = r.substation_id WHERE r.ts >= {p} AND r.ts < {p} "
        "GROUP BY s.area_id, r.ts",
        (start, end),
    ).fetchall()
    found: dict[tuple[int, int], list[tuple[float, int]]] = {}
    for area, ts, kw, count in rows:
        found.setdefault((area, ts - ts % HOUR), []).append((float(kw), int(count)))
    return found


def _prior_ratios(area_id: int, before: int) -> deque:
    rows = (
        LoadEstimate.select(LoadEstimate.ratio)
        .where(
            (LoadEstimate.area_id == area_id)
            & (LoadEstimate.ts < before)
            & LoadEstimate.ratio.is_null(False)
        )
        .order_by(LoadEstimate.ts.desc())
        .limit(CALIBRATION_HOURS)
        .tuples()
    )
    return deque(reversed([r[0] for r in rows]), maxlen=CALIBRATION_HOURS)


def _row(area: int, hour: int, readings: float | None, slots: int, subs: int, actual, prior):
    ratio = actual / readings if actual is not None and readings else None
    estimate = readings * statistics.median(prior) if readings and prior else None
    return {
        "area_id": area,
        "ts": hour,
        "readings_kw": readings,
        "slots": slots,
        "substations": subs,
        "actual_kw": actual,
        "ratio": ratio,
        "estimate_kw": estimate,
    }


def build_hours(start: int, end: int) -> int:
    """(Re)build the rows of the complete hours in [start, end); returns rows written."""
    sums = _slot_sums(start, end)
    actuals = {
        (a, ts): kw
        for a, ts, kw in HourlyLoad.select(HourlyLoad.area_id, HourlyLoad.ts, HourlyLoad.load_kw)
        .where((HourlyLoad.ts >= start) & (HourlyLoad.ts < end))
        .tuples()
    }
    prior = {a: _prior_ratios(a, start) for a in MEMBER_IDS}
    rows = []
    for hour in range(start, end, HOUR):
        members: dict[int, dict] = {}
        for area in MEMBER_IDS:
            snaps = sums.get((area, hour))
            actual = actuals.get((area, hour))
            if not snaps and actual is None:
                continue
            readings = statistics.fmean(kw for kw, _ in snaps) if snaps else None
            subs = max((n for _, n in snaps), default=0) if snaps else 0
            row = _row(area, hour, readings, len(snaps or ()), subs, actual, prior[area])
            if row["ratio"] is not None:
                prior[area].append(row["ratio"])
            members[area] = row
            rows.append(row)
        for agg, parts in AGGREGATE_MEMBERS.items():
            got = [members.get(m) for m in parts]
            if any(r is None or r["readings_kw"] is None for r in got):
                continue
            readings = sum(r["readings_kw"] for r in got)
            estimates = [r["estimate_kw"] for r in got]
            slots = min(r["slots"] for r in got)
            subs = sum(r["substations"] for r in got)
            row = _row(agg, hour, readings, slots, subs, actuals.get((agg, hour)), ())
            row["estimate_kw"] = None if None in estimates else sum(estimates)
            rows.append(row)
    for index in range(0, len(rows), 200):
        LoadEstimate.insert_many(rows[index : index + 200]).on_conflict(
            conflict_target=[LoadEstimate.area_id, LoadEstimate.ts], preserve=_UPDATE
        ).execute()
    return len(rows)


def update_load_estimates(slot_ts: int, max_hours: int = MAX_HOURS_PER_CALL) -> int:
    """Build the hours completed since the last call (no-op within an hour); returns the
    hours built. Call inside the collector's write transaction, after the cycle's data."""
    current_hour = int(slot_ts) - int(slot_ts) % HOUR
    state = RollupState.get_or_none(RollupState.name == STATE_NAME)
    if state is not None:
        if state.built_until >= current_hour:
            return 0
        start = state.built_until - RECHECK_HOURS * HOUR
    else:
        oldest = SubstationReading.select(fn.MIN(SubstationReading.ts)).scalar()
        if oldest is None:
            return 0
        start = oldest - oldest % HOUR
    end = min(current_hour, start + max_hours * HOUR)
    if end <= start:
        return 0
    build_hours(start, end)
    RollupState.insert(name=STATE_NAME, built_until=end).on_conflict(
        conflict_target=[RollupState.name], preserve=[RollupState.built_until]
    ).execute()
    return (end - start) // HOUR
