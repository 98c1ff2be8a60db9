"""Reading stored forecasts (table `forecast`), for the API and the collector's peak watch.

Plain SQL on `db.param`, valid on SQLite and PostgreSQL. Every query seeks by the key
(area_id, series, target_ts, issued_ts): the series of an area are found one index seek
each, then each series is read over its target range only, so the cost follows the hours
asked for, not the length of the history.
"""

from __future__ import annotations

from peewee import Database

HOUR = 3600
MAX_SERIES = 64  # bounds the seek loop; the collector keeps at most 16 per area and poll


def area_series(db: Database, area_id: int) -> list[str]:
    """Labels of every forecast series stored for an area, in the database's text order.

    A loose index scan: MIN(series) above the previous one, one seek per series, instead
    of reading every row of the area's history."""
    p = db.param
    found: list[str] = []
    after: str | None = None
    while len(found) < MAX_SERIES:
        if after is None:
            sql, args = f"SELECT MIN(series) FROM forecast WHERE area_id = {p}", (area_id,)
        else:
            sql = f"SELECT MIN(series) FROM forecast WHERE area_id = {p} AND series > {p}"
            args = (area_id, after)
        row = db.execute_sql(sql, args).fetchone()
        if row is None or row[0] is None:
            break
        after = row[0]
        found.append(after)
    return found


def latest_forecast(
    db: Database, area_id: int, from_ts: int, hours: int
) -> dict[str, list[tuple[int, float, int]]]:
    """The latest vintage of each target hour in [from_ts, from_ts + hours h), per series:
    {series: [(target_ts, value_kw, issued_ts), ...]} in target order. Series without a
    target in the range are left out (a label KAMO stopped sending drops out by itself)."""
    p = db.param
    end = from_ts + hours * HOUR
    result: dict[str, list[tuple[int, float, int]]] = {}
    for series in area_series(db, area_id):
        rows = db.execute_sql(
            f"SELECT target_ts, value_kw, issued_ts FROM forecast WHERE area_id = {p} "
            f"AND series = {p} AND target_ts >= {p} AND target_ts < {p} "
            "ORDER BY target_ts, issued_ts",
            (area_id, series, from_ts, end),
        ).fetchall()
        latest: dict[int, tuple[int, float, int]] = {}
        for target, value, issued in rows:
            latest[target] = (target, value, issued)  # ordered by issue: the last one wins
        if latest:
            result[series] = list(latest.values())
    return result


def accuracy(
    db: Database, area_id: int, since_ts: int | None = None, max_lead: int = 12
) -> dict[str, list[tuple[int, int, float, float | None]]]:
    """Forecast error against the stored actuals, per series and lead time:
    {series: [(lead_hours, count, mae_kw, mape_percent), ...]} for leads 1..max_lead.

    Each stored vintage is scored at its own lead, target_ts - issued_ts rounded to whole
    hours; a value that did not change is stored, and so scored, once (at its first lead).
    Only target hours before the area's newest stored hour count: that one may still be
    provisional. MAPE leaves out hours whose actual is 0 or below (undefined there);
    it is None when no hour qualifies.
    """
    p = db.param
    newest = db.execute_sql(
        f"SELECT MAX(ts) FROM hourly_load WHERE area_id = {p}", (area_id,)
    ).fetchone()
    if not newest or newest[0] is None:
        return {}
    low = since_ts if since_ts is not None else -(2**62)
    result: dict[str, list[tuple[int, int, float, float | None]]] = {}
    for series in area_series(db, area_id):
        # Integer arithmetic truncates alike on both backends; +1800 rounds half up.
        rows = db.execute_sql(
            f"""SELECT (f.target_ts - f.issued_ts + 1800) / 3600 AS lead, COUNT(*),
                       SUM(ABS(f.value_kw - h.load_kw)),
                       SUM(CASE WHEN h.load_kw > 0
                           THEN ABS(f.value_kw - h.load_kw) / h.load_kw END),
                       COUNT(CASE WHEN h.load_kw > 0 THEN 1 END)
                FROM forecast f
                JOIN hourly_load h ON h.area_id = f.area_id AND h.ts = f.target_ts
                WHERE f.area_id = {p} AND f.series = {p}
                  AND f.target_ts >= {p} AND f.target_ts < {p}
                  AND f.target_ts - f.issued_ts >= 1800
                  AND f.target_ts - f.issued_ts < {p}
                GROUP BY (f.target_ts - f.issued_ts + 1800) / 3600
                ORDER BY lead""",
            (area_id, series, low, newest[0], max_lead * HOUR + 1800),
        ).fetchall()
        scored = [
            (int(lead), count, err / count, 100 * rel / rel_count if rel_count else None)
            for lead, count, err, rel, rel_count in rows
        ]
        if scored:
            result[series] = scored
    return result
