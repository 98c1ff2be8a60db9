"""The real-time load estimate: the newest substation snapshot of an area, calibrated by
the ratio of its hourly actuals to its snapshot sums (`load_estimate`, built by the
collector as hours complete). Read-only; the API and the collector's peak watch use it.

An aggregate (18, 19, 20) is the sum of its members' estimates. A member that has no
usable estimate (no substations, no calibration yet) stands in with its newest hourly
value, and the answer says so.
"""

from __future__ import annotations

import statistics
from typing import Any

from peewee import Database

AGGREGATE_MEMBERS: dict[int, tuple[int, ...]] = {
    18: tuple(range(1, 10)),
    19: tuple(range(10, 18)),
    20: tuple(range(1, 18)),
}
MEMBER_IDS = tuple(range(1, 18))
CALIBRATION_HOURS = 24  # the ratio is the median over this many recent complete hours
SNAPSHOT_LOOKBACK = 6 * 3600  # an area's snapshot is looked for this far before the newest
ERROR_HISTORY_DAYS = 365  # error figures cover at most this much history
HOUR = 3600


def stale_after(interval_minutes: int) -> int:
    """A snapshot older than this (seconds) is stale: three missed polls, at least 15 min."""
    return max(900, 3 * interval_minutes * 60)


def _marks(db: Database, count: int) -> str:
    return ", ".join([db.param] * count)


def member_ratio(db: Database, area_id: int, before: int) -> float | None:
    """Median of actual / snapshot sum over the area's last complete hours before `before`."""
    p = db.param
    rows = db.execute_sql(
        f"SELECT ratio FROM load_estimate WHERE area_id = {p} AND ts < {p} "
        f"AND ratio IS NOT NULL ORDER BY ts DESC LIMIT {CALIBRATION_HOURS}",
        (area_id, before),
    ).fetchall()
    return statistics.median(r[0] for r in rows) if rows else None


def latest_snapshot(db: Database, area_id: int, now: float) -> tuple[int, float, int] | None:
    """(slot ts, sum of kW, substations) of the area's newest snapshot within the lookback;
    None without one (or when the area has no substations)."""
    ids = substation_ids(db, area_id)
    if not ids:
        return None
    p = db.param
    # Looked for back from the newest stored snapshot, so a collector that stopped hours
    # ago still gives its last estimate (marked stale) at the cost of a short range scan.
    newest = db.execute_sql(
        f"SELECT MAX(ts) FROM substation_reading WHERE ts <= {p}", (int(now),)
    ).fetchone()[0]
    if newest is None:
        return None
    row = db.execute_sql(
        f"SELECT ts, SUM(kw), COUNT(*) FROM substation_reading WHERE ts >= {p} AND ts <= {p} "
        f"AND substation_id IN ({_marks(db, len(ids))}) GROUP BY ts ORDER BY ts DESC LIMIT 1",
        (int(newest) - SNAPSHOT_LOOKBACK, int(newest), *ids),
    ).fetchone()
    return (int(row[0]), float(row[1]), int(row[2])) if row else None


def substation_ids(db: Database, area_id: int) -> list[int]:
    rows = db.execute_sql(
        f"SELECT id FROM substation WHERE area_id = {db.param} ORDER BY id", (area_id,)
    ).fetchall()
    return [r[0] for r in rows]


def newest_actual(db: Database, area_id: int) -> tuple[int, float] | None:
    return db.execute_sql(
        f"SELECT ts, load_kw FROM hourly_load WHERE area_id = {db.param} ORDER BY ts DESC LIMIT 1",
        (area_id,),
    ).fetchone()


def member_estimate(db: Database, area_id: int, now: float, stale_seconds: int) -> dict[str, Any]:
    """The estimate of one member area now, with why it is missing when it is."""
    found: dict[str, Any] = {
        "area_id": area_id,
        "estimate_kw": None,
        "snapshot_ts": None,
        "snapshot_kw": None,
        "ratio": None,
        "substations": 0,
        "stale": False,
        "status": "ok",
    }
    if not substation_ids(db, area_id):
        found["status"] = "no substations"
        return found
    snapshot = latest_snapshot(db, area_id, now)
    if snapshot is None:
        found["status"] = "no recent snapshot"
        return found
    ts, kw, count = snapshot
    ratio = member_ratio(db, area_id, int(now) + HOUR)
    found.update(snapshot_ts=ts, snapshot_kw=kw, substations=count, ratio=ratio)
    found["stale"] = now - ts > stale_seconds
    if ratio is None:
        found["status"] = "not calibrated yet"
        return found
    found["estimate_kw"] = round(kw * ratio, 1)
    if found["stale"]:
        found["status"] = "stale"
    return found


def area_estimate(db: Database, area_id: int, now: float, stale_seconds: int) -> dict[str, Any]:
    """The estimate for a member, or for an aggregate as the sum of its members'."""
    members = AGGREGATE_MEMBERS.get(area_id)
    if members is None:
        found = member_estimate(db, area_id, now, stale_seconds)
        return {**found, "members": None, "stand_ins": [], "missing": []}
    parts = [member_estimate(db, m, now, stale_seconds) for m in members]
    total, raw, stand_ins, missing = 0.0, 0.0, [], []
    for part in parts:
        if part["estimate_kw"] is not None:
            total += part["estimate_kw"]
            raw += part["snapshot_kw"]
            continue
        newest = newest_actual(db, part["area_id"])
        if newest is None:
            missing.append(part["area_id"])
            continue
        total += newest[1]
        stand_ins.append(part["area_id"])
    snapshots = [p["snapshot_ts"] for p in parts if p["snapshot_ts"] is not None]
    estimate = round(total, 1) if snapshots and not missing else None
    status = "no estimate" if estimate is None else "partial" if stand_ins else "ok"
    stale = any(p["stale"] for p in parts)
    if stale and status == "ok":
        status = "stale"
    return {
        "area_id": area_id,
        "estimate_kw": estimate,
        "snapshot_ts": min(snapshots) if snapshots else None,
        "snapshot_kw": raw or None,
        "ratio": round(total / raw, 4) if estimate is not None and raw and not stand_ins else None,
        "substations": sum(p["substations"] for p in parts),
        "stale": stale,
        "status": status,
        "members": parts,
        "stand_ins": stand_ins,
        "missing": missing,
    }


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile of a non-empty list (q in 0-100)."""
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))
    return ordered[int(rank) - 1]


def error_stats(db: Database, area_id: int, now: float) -> dict[str, Any]:
    """Absolute % error of the hour estimates against the hourly actuals, stored history."""
    p = db.param
    rows = db.execute_sql(
        f"SELECT estimate_kw, actual_kw FROM load_estimate WHERE area_id = {p} AND ts >= {p} "
        "AND estimate_kw IS NOT NULL AND actual_kw > 0",
        (area_id, int(now) - ERROR_HISTORY_DAYS * 86400),
    ).fetchall()
    errors = [abs(est - actual) / actual * 100 for est, actual in rows]
    if not errors:
        return {"hours": 0, "median_pct": None, "p95_pct": None}
    return {
        "hours": len(errors),
        "median_pct": round(statistics.median(errors), 2),
        "p95_pct": round(percentile(errors, 95), 2),
    }
