"""Hourly load: current, history, peaks, statistics, coincident peaks."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from peewee import Database

from api.queries.common import local_seconds

MEMBER_IDS = tuple(range(1, 18))
SYSTEM_AREA = 20
PERIOD_FORMATS = {"day": "%Y-%m-%d", "month": "%Y-%m", "year": "%Y"}


def cooperatives(db: Database) -> list[tuple]:
    return db.execute_sql(
        "SELECT id, name, abbreviation, is_aggregate FROM area ORDER BY id"
    ).fetchall()


def current_load(db: Database, area_id: int) -> tuple[int, float] | None:
    """(ts, load_kw) of the newest hour stored for the area."""
    return db.execute_sql(
        "SELECT ts, load_kw FROM hourly_load WHERE area_id = ? ORDER BY ts DESC LIMIT 1",
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
    return db.execute_sql(
        "SELECT ts, load_kw FROM hourly_load WHERE area_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
        (area_id, start, end),
    ).fetchall()


def data_span(db: Database, area_id: int) -> tuple[int | None, int | None]:
    row = db.execute_sql(
        "SELECT min(ts), max(ts) FROM hourly_load WHERE area_id = ?", (area_id,)
    ).fetchone()
    return (row[0], row[1]) if row else (None, None)


def peaks(
    db: Database, area_id: int, period: str, start: int, end: int, zone: ZoneInfo
) -> list[tuple[str, int, float, int]]:
    """(period label, ts, load_kw, hours with data) per local period in [start, end), newest
    first. The peak is the highest hour; on a tie the earliest hour wins."""
    local, params = local_seconds("ts", start, end, zone)
    sql = f"""
        SELECT period, ts, load_kw, hours FROM (
            SELECT period, ts, load_kw,
                   row_number() OVER (PARTITION BY period ORDER BY load_kw DESC, ts) AS rank,
                   count(*) OVER (PARTITION BY period) AS hours
            FROM (SELECT strftime(?, {local}, 'unixepoch') AS period, ts, load_kw
                  FROM hourly_load WHERE area_id = ? AND ts >= ? AND ts < ?))
        WHERE rank = 1 ORDER BY period DESC"""
    return db.execute_sql(sql, (PERIOD_FORMATS[period], *params, area_id, start, end)).fetchall()


def stats(db: Database, area_id: int, start: int, end: int) -> dict:
    row = db.execute_sql(
        "SELECT count(*), min(load_kw), max(load_kw), avg(load_kw), sum(load_kw) "
        "FROM hourly_load WHERE area_id = ? AND ts >= ? AND ts < ?",
        (area_id, start, end),
    ).fetchone()
    hours, low, high, average, total = row
    at = {}
    for name, order in (("min_at", "load_kw, ts"), ("max_at", "load_kw DESC, ts")):
        found = db.execute_sql(
            "SELECT ts FROM hourly_load WHERE area_id = ? AND ts >= ? AND ts < ? "
            f"ORDER BY {order} LIMIT 1",
            (area_id, start, end),
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
    marks = ",".join("?" * len(instants))
    members = ",".join("?" * len(MEMBER_IDS))
    found = db.execute_sql(
        f"SELECT area_id, ts, load_kw FROM hourly_load "
        f"WHERE area_id IN ({members}) AND ts IN ({marks})",
        (*MEMBER_IDS, *instants),
    ).fetchall()
    return {(a, ts): kw for a, ts, kw in found}
