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


DAY = 86400
SCORE_STATE = "forecast_score"  # rollup_state row: days before built_until are scored
MAX_LEAD_HOURS = 12
# Per (UTC day, lead) of one area's series: vintages scored at their own lead, the target
# hour minus the issue time rounded to whole hours (+1800 rounds half up; integer division
# truncates alike on SQLite and PostgreSQL).
_SCORE_SELECT = """
SELECT (f.target_ts / 86400) * 86400, (f.target_ts - f.issued_ts + 1800) / 3600, COUNT(*),
       SUM(ABS(f.value_kw - h.load_kw)),
       COALESCE(SUM(CASE WHEN h.load_kw > 0 THEN ABS(f.value_kw - h.load_kw) / h.load_kw END), 0),
       COUNT(CASE WHEN h.load_kw > 0 THEN 1 END)
FROM forecast f JOIN hourly_load h ON h.area_id = f.area_id AND h.ts = f.target_ts
WHERE f.area_id = {p} AND f.series = {p} AND f.target_ts >= {p} AND f.target_ts < {p}
  AND f.target_ts - f.issued_ts >= 1800 AND f.target_ts - f.issued_ts < {p}
GROUP BY (f.target_ts / 86400) * 86400, (f.target_ts - f.issued_ts + 1800) / 3600
"""


def score_rows(
    db: Database, area_id: int, series: str, start: int, end: int, max_lead: int = MAX_LEAD_HOURS
) -> list[tuple[int, int, int, float, float, int]]:
    """(day_ts, lead, count, abs_sum, rel_sum, rel_count) of the vintages whose target hour
    is in [start, end), straight from the vintages (the collector's rollup uses it too)."""
    sql = _SCORE_SELECT.format(p=db.param)
    args = (area_id, series, start, end, max_lead * HOUR + 1800)
    return [tuple(r) for r in db.execute_sql(sql, args).fetchall()]


def scored_until(db: Database) -> int | None:
    """Target days before this instant are summed in forecast_score (None: none yet)."""
    row = db.execute_sql(
        f"SELECT built_until FROM rollup_state WHERE name = {db.param}", (SCORE_STATE,)
    ).fetchone()
    return row[0] if row else None


def accuracy(
    db: Database, area_id: int, since_ts: int | None = None, max_lead: int = MAX_LEAD_HOURS
) -> dict[str, list[tuple[int, int, float, float | None]]]:
    """Forecast error against the stored actuals, per series and lead time:
    {series: [(lead_hours, count, mae_kw, mape_percent), ...]} for leads 1..max_lead.

    Each stored vintage is scored at its own lead, target_ts - issued_ts rounded to whole
    hours; a value that did not change is stored, and so scored, once (at its first lead).
    Whole UTC days: `since_ts` counts from the midnight before it. Days the collector has
    summed come from forecast_score, the hours after them from the vintages, leaving out
    the area's newest stored hour (its actual may still change). MAPE leaves out hours whose
    actual is 0 or below (undefined there); it is None when no hour qualifies.
    """
    p = db.param
    newest = db.execute_sql(
        f"SELECT MAX(ts) FROM hourly_load WHERE area_id = {p}", (area_id,)
    ).fetchone()
    if not newest or newest[0] is None:
        return {}
    low = -(2**62) if since_ts is None else since_ts - since_ts % DAY
    built = scored_until(db)
    tail = low if built is None else max(low, built)
    result: dict[str, list[tuple[int, int, float, float | None]]] = {}
    for series in area_series(db, area_id):
        sums: dict[int, list[float]] = {}
        rows: list = []
        if built is not None and built > low:
            rows += db.execute_sql(
                f"SELECT lead, SUM(count), SUM(abs_sum), SUM(rel_sum), SUM(rel_count) "
                f"FROM forecast_score WHERE area_id = {p} AND series = {p} "
                f"AND day_ts >= {p} AND day_ts < {p} AND lead <= {p} GROUP BY lead",
                (area_id, series, low, built, max_lead),
            ).fetchall()
        if tail < newest[0]:
            rows += [r[1:] for r in score_rows(db, area_id, series, tail, newest[0], max_lead)]
        for lead, count, abs_sum, rel_sum, rel_count in rows:
            total = sums.setdefault(int(lead), [0, 0.0, 0.0, 0])
            for i, value in enumerate((count, abs_sum, rel_sum, rel_count)):
                total[i] += value
        scored = [
            (lead, int(n), err / n, 100 * rel / rel_n if rel_n else None)
            for lead, (n, err, rel, rel_n) in sorted(sums.items())
            if n
        ]
        if scored:
            result[series] = scored
    return result
