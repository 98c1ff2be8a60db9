"""Daily forecast error sums (table forecast_score), built once per UTC day.

The API's accuracy by lead would otherwise join every stored vintage with its actual on
each request (over two million vintages a year). A day is summed once its actuals are
final: KAMO's areagrid reaches 12 hours back, so 13 hours after a day ends no value of it
can change. Insert-only, a few rows per area and series, inside the cycle's transaction.
"""

from __future__ import annotations

from shared.forecasts import DAY, SCORE_STATE, area_series, score_rows, scored_until
from shared.models import Area, ForecastScore, RollupState

FINAL_AFTER = 13 * 3600  # KAMO's 12-hour window, and an hour to spare
MAX_DAYS_PER_CALL = 31  # a backfill of old vintages proceeds a month per cycle


def _first_day(db) -> int | None:
    """UTC midnight of the oldest target hour stored: one index seek per area and series."""
    oldest = None
    p = db.param
    for area_id in [a.id for a in Area.select(Area.id)]:
        for series in area_series(db, area_id):
            row = db.execute_sql(
                f"SELECT MIN(target_ts) FROM forecast WHERE area_id = {p} AND series = {p}",
                (area_id, series),
            ).fetchone()
            if row and row[0] is not None and (oldest is None or row[0] < oldest):
                oldest = row[0]
    return None if oldest is None else oldest - oldest % DAY


def build_forecast_scores(slot_ts: int, max_days: int = MAX_DAYS_PER_CALL) -> int:
    """Sum every final day not summed yet (at most `max_days`); returns how many days."""
    db = ForecastScore._meta.database
    final = int(slot_ts) - FINAL_AFTER
    final -= final % DAY  # days before this midnight are final
    start = scored_until(db)
    if start is None:
        start = _first_day(db)
        if start is None:
            return 0
    end = min(final, start + max_days * DAY)
    if end <= start:
        return 0
    rows = []
    for area_id in [a.id for a in Area.select(Area.id).order_by(Area.id)]:
        for series in area_series(db, area_id):
            for day, lead, count, abs_sum, rel_sum, rel_count in score_rows(
                db, area_id, series, start, end
            ):
                rows.append(
                    {
                        "area_id": area_id,
                        "series": series,
                        "day_ts": day,
                        "lead": lead,
                        "count": count,
                        "abs_sum": abs_sum,
                        "rel_sum": rel_sum,
                        "rel_count": rel_count,
                    }
                )
    for first in range(0, len(rows), 200):
        ForecastScore.insert_many(rows[first : first + 200]).execute()
    RollupState.insert(name=SCORE_STATE, built_until=end).on_conflict(
        conflict_target=[RollupState.name], preserve=[RollupState.built_until]
    ).execute()
    return (end - start) // DAY
