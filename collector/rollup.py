"""Hourly substation rollup: built once per complete hour, inside the cycle's transaction.

The API answers long substation histories from `substation_hourly` (a few thousand rows
for 30 days of one area) instead of scanning millions of readings. Building an hour when
it is complete appends a few pages per area once an hour, instead of updating a rollup
on every poll. `rollup_state.built_until` says which hours are final; the API reads raw
readings for the hours after it, so an unbuilt hour is slower to read, never wrong.
"""

from __future__ import annotations

from peewee import fn

from shared.models import RollupState, SubstationHourly, SubstationReading

HOUR = 3600
ROLLUP_NAME = "substation_hourly"
MAX_HOURS_PER_CALL = 168  # a backfill of old data proceeds a week per cycle


_PF = "COALESCE(r.pf_exact, r.pf_centi / 100.0)"
# pf 0 with kvar 0 is KAMO's "no reactive reading", not a power factor: left out.
_PF_OR_NULL = f"CASE WHEN r.kvar = 0 AND {_PF} = 0 THEN NULL ELSE {_PF} END"
_BUILD_SQL = f"""
INSERT INTO substation_hourly (area_id, ts, substation_id, samples, kw_min, kw_max, kw_sum,
    kvar_min, kvar_max, kvar_sum, pf_samples, pf_sum)
SELECT s.area_id, (r.ts / {HOUR}) * {HOUR}, r.substation_id, COUNT(*), MIN(r.kw), MAX(r.kw),
    SUM(r.kw), MIN(r.kvar), MAX(r.kvar), SUM(r.kvar), COUNT({_PF_OR_NULL}), SUM({_PF_OR_NULL})
FROM substation_reading r JOIN substation s ON s.id = r.substation_id
WHERE r.ts >= {{p}} AND r.ts < {{p}}
GROUP BY s.area_id, (r.ts / {HOUR}) * {HOUR}, r.substation_id
"""


def build_completed_hours(now_ts: int, max_hours: int = MAX_HOURS_PER_CALL) -> int:
    """Roll up every complete UTC hour not yet built (at most `max_hours`); returns how many.

    An hour is complete when `now_ts` (the cycle's slot start) is past its end: readings
    of a slot are written by the cycle of that slot, so nothing lands in it afterwards.
    Call inside the collector's write transaction.
    """
    current_hour = int(now_ts) - int(now_ts) % HOUR
    state = RollupState.get_or_none(RollupState.name == ROLLUP_NAME)
    if state is not None:
        start = state.built_until
    else:
        oldest = SubstationReading.select(fn.MIN(SubstationReading.ts)).scalar()
        if oldest is None:
            return 0
        start = oldest - oldest % HOUR
    end = min(current_hour, start + max_hours * HOUR)
    if end <= start:
        return 0
    # Plain SQL (valid on SQLite and PostgreSQL): peewee would coerce 100.0 to an integer.
    db = SubstationHourly._meta.database
    db.execute_sql(_BUILD_SQL.format(p=db.param), (start, end))
    RollupState.insert(name=ROLLUP_NAME, built_until=end).on_conflict(
        conflict_target=[RollupState.name], preserve=[RollupState.built_until]
    ).execute()
    return (end - start) // HOUR
