"""Optional pruning of raw readings older than RETENTION_DAYS (off unless set).

Only hours already rolled up are pruned, so hourly min/max/average stay forever.
Readings are keyed time-first, so the oldest rows are one contiguous range; a cycle
deletes at most MAX_SECONDS_PER_CYCLE of them to keep each write small on SD cards.
"""

from __future__ import annotations

from peewee import fn

from collector.rollup import ROLLUP_NAME
from shared.models import RollupState, RowCount, SubstationReading

MAX_SECONDS_PER_CYCLE = 6 * 3600


def prune_readings(retention_days: int | None, now: int) -> int:
    """Delete raw readings past retention (within the caller's transaction); returns rows."""
    if not retention_days:
        return 0
    # The substation rollup's row only: rollup_state also holds other marks (the demo's).
    built = (
        RollupState.select(RollupState.built_until).where(RollupState.name == ROLLUP_NAME).scalar()
    )
    oldest = SubstationReading.select(fn.MIN(SubstationReading.ts)).scalar()
    if built is None or oldest is None:
        return 0
    cutoff = min(now - retention_days * 86400, built, oldest + MAX_SECONDS_PER_CYCLE)
    if cutoff <= oldest:
        return 0
    deleted = SubstationReading.delete().where(SubstationReading.ts < cutoff).execute()
    if deleted:
        RowCount.update(rows=RowCount.rows - deleted).where(
            RowCount.table == "substation_reading"
        ).execute()
    return deleted
