"""Hourly load: current, history, peaks, statistics, coincident peaks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from peewee import Database

from api.queries.common import marks
from shared.timeutil import local_periods

MEMBER_IDS = tuple(range(1, 18))
SYSTEM_AREA = 20


def cooperatives(db: Database) -> list[tuple]:
    return db.execute_sql(
        "SELECT id, name, abbreviation, is_aggregate FROM area ORDER BY id"
    ).fetchall()


def current_load(db: Database, area_id: int) -> tuple[int, float] | None:
    """(ts, load_kw) of the newest hour stored for the area."""
    return db.execute_sql(
        f"SELECT ts, load_kw FROM hourly_load WHERE area_id = {db.param} ORDER BY ts DESC LIMIT 1",
        (area_id,),
    ).fetchone()


def latest_loads(db: Database) -> list[tuple[int, str, int, float]]:
    """(area_id, abbreviation, ts, load_kw) of the newest hour of every area with data."""
    return db.execute_sql(
        """SELECT a.id, a.abbreviation, h.ts, h.load_kw FROM area a
           JOIN hourly_load h ON h.area_id = a.id AND h.ts =
               (SELECT max(ts) FROM hourly_load WHERE area_id = a.id)
           ORDER BY a.id"""
    ).fetchall()


def history(db: Database, area_id: int, start: int, end: int) -> list[tuple[int, float]]:
    p = db.param
    return db.execute_sql(
        f"SELECT ts, load_kw FROM hourly_load WHERE area_id = {p} AND ts >= {p} AND ts < {p} "
        "ORDER BY ts",
        (area_id, start, end),
    ).fetchall()


def data_span(db: Database, area_id: int) -> tuple[int | None, int | None]:
    row = db.execute_sql(
        f"SELECT min(ts), max(ts) FROM hourly_load WHERE area_id = {db.param}", (area_id,)
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def peaks(
    db: Database, area_id: int, period: str, start: int, end: int, zone: ZoneInfo
) -> list[tuple[str, int, float, int]]:
    """(period label, ts, load_kw, hours with data) per local period in [start, end), newest
    first. The peak is the highest hour; on a tie the earliest hour wins.

    Grouped in Python over rows in key order: a year is 8,760 rows, and walking them
    against the period starts is faster than a window function over local dates.
    """
    periods = local_periods(period, start, end, zone)
    if not periods:
        return []
    starts = [s for s, _ in periods]
    best: dict[int, list] = {}
    index = 0
    for ts, kw in history(db, area_id, max(start, starts[0]), end):
        while index + 1 < len(starts) and ts >= starts[index + 1]:
            index += 1
        current = best.get(index)
        if current is None:
            best[index] = [ts, kw, 1]
            continue
        current[2] += 1
        if kw > current[1]:  # strictly greater: the earliest hour keeps a tie
            current[0], current[1] = ts, kw
    return [(periods[i][1], ts, kw, n) for i, (ts, kw, n) in sorted(best.items(), reverse=True)]


def stats(db: Database, area_id: int, start: int, end: int) -> dict:
    p = db.param
    where = f"FROM hourly_load WHERE area_id = {p} AND ts >= {p} AND ts < {p}"
    row = db.execute_sql(
        f"SELECT count(*), min(load_kw), max(load_kw), avg(load_kw), sum(load_kw) {where}",
        (area_id, start, end),
    ).fetchone()
    hours, low, high, average, total = row
    at = {}
    for name, order in (("min_at", "load_kw, ts"), ("max_at", "load_kw DESC, ts")):
        found = db.execute_sql(
            f"SELECT ts {where} ORDER BY {order} LIMIT 1", (area_id, start, end)
        ).fetchone()
        at[name] = found[0] if found else None
    return {
        "hours": hours,
        "min": low,
        "max": high,
        "average": average,
        "sum": total,
        **at,
    }


def system_peaks(
    db: Database, start: int, end: int, zone: ZoneInfo
) -> list[tuple[str, int, float]]:
    """(YYYY-MM, ts, load_kw) of the KAMO system (area 20) peak hour of each local month."""
    return [row[:3] for row in peaks(db, SYSTEM_AREA, "month", start, end, zone)]


def loads_at(db: Database, instants: list[int]) -> dict[tuple[int, int], float]:
    """{(area_id, ts): load_kw} of the member areas at the given hours."""
    if not instants:
        return {}
    found = db.execute_sql(
        f"SELECT area_id, ts, load_kw FROM hourly_load "
        f"WHERE area_id IN ({marks(db, len(MEMBER_IDS))}) AND ts IN ({marks(db, len(instants))}) "
        "ORDER BY area_id, ts",
        (*MEMBER_IDS, *instants),
    ).fetchall()
    return {(a, ts): kw for a, ts, kw in found}
