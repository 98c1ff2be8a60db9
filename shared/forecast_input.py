"""The peak watch's one door to KAMO's forecasts: the latest value of every series for the
coming hours, from the `forecast` table (area_id, series, target_ts, issued_ts, value_kw),
which the forecast work stores. Without that table there are no forecasts and the watch
runs on the real-time estimate alone.
"""

from __future__ import annotations

from peewee import Database

HOUR = 3600
Forecasts = dict[str, list[tuple[int, float, int]]]  # series -> [(target_ts, kW, issued_ts)]


try:  # the forecast work's reader (shared/forecasts.py), once it is merged
    from shared.forecasts import latest_forecast
except ImportError:  # pragma: no cover - until then, the same query here
    latest_forecast = None


def latest_forecasts(db: Database, area_id: int, from_ts: int, hours: int) -> Forecasts:
    """{series: [(target hour, kW, issue time)]} for the hours [from_ts, from_ts + hours h],
    each the newest vintage. Empty when no forecast table exists yet."""
    if hours < 0 or not db.table_exists("forecast"):
        return {}
    if latest_forecast is not None:  # its range excludes its end: one hour more
        return latest_forecast(db, area_id, from_ts, hours + 1)
    p = db.param
    rows = db.execute_sql(
        "SELECT f.series, f.target_ts, f.value_kw, f.issued_ts FROM forecast f "
        f"WHERE f.area_id = {p} AND f.target_ts >= {p} AND f.target_ts <= {p} "
        "AND f.issued_ts = (SELECT MAX(g.issued_ts) FROM forecast g WHERE g.area_id = f.area_id "
        "AND g.series = f.series AND g.target_ts = f.target_ts) "
        "ORDER BY f.series, f.target_ts",
        (area_id, from_ts, from_ts + hours * HOUR),
    ).fetchall()
    found: Forecasts = {}
    for series, target, value, issued in rows:
        if value is not None:
            found.setdefault(series, []).append((int(target), float(value), int(issued)))
    return found
