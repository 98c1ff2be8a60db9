"""The peak watch's one door to KAMO's forecasts: the newest vintage of every series for
the coming hours, read through the forecast work's reader (shared.forecasts) from the
`forecast` table. Without stored forecasts the watch runs on the real-time estimate alone.
"""

from __future__ import annotations

from peewee import Database

from shared.forecasts import latest_forecast

Forecasts = dict[str, list[tuple[int, float, int]]]  # series -> [(target_ts, kW, issued_ts)]


def latest_forecasts(db: Database, area_id: int, from_ts: int, hours: int) -> Forecasts:
    """{series: [(target hour, kW, issue time)]} for the hours [from_ts, from_ts + hours h]
    (the current hour and the next `hours`), each the newest vintage."""
    if hours < 0:
        return {}
    # latest_forecast's range leaves out its end: one hour more.
    return latest_forecast(db, area_id, from_ts, hours + 1)
