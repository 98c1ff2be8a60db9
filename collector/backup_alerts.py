"""The scheduled-backup alert: the day's backup failed, or did not happen.

Kept apart from collector.alerts (which evaluates the collection conditions); the daemon
adds this condition through the Alerter's `watch`, so it is stored, emailed, pushed and
shown in /api/status like the others.
"""

from __future__ import annotations

from collector.alert_conditions import Condition
from collector.tasks import SCHEDULED
from shared.config import Settings
from shared.db import is_sqlite_url
from shared.models import CollectorTask
from shared.timeutil import daily_time_before, iso

KEY = "backup"
MISSING_AFTER = 2 * 3600  # seconds past BACKUP_TIME with no scheduled backup: missing


def backup_condition(settings: Settings, now: float, started_at: float) -> Condition | None:
    if settings.backup_time is None or not is_sqlite_url(settings.database_url):
        return None
    zone = settings.tz
    newest = (
        CollectorTask.select()
        .where(CollectorTask.request_id.startswith(SCHEDULED))
        .order_by(CollectorTask.requested_at.desc())
        .first()
    )
    if newest is not None and newest.status == "failed":
        since = newest.finished_at or newest.requested_at
        return Condition(
            KEY,
            "scheduled backup failed",
            since,
            [
                f"The backup due at {iso(newest.requested_at, zone)} failed: {newest.message}",
                f"Backups go to {settings.backup_dir}; the next try is at BACKUP_TIME "
                f"{settings.backup_time}, or use Back up now on the Backups page.",
            ],
        )
    target = daily_time_before(now, zone, settings.backup_time)
    made = newest is not None and newest.requested_at >= target
    # Only a time the collector was running for counts (it makes up missed ones at start).
    if made or target < started_at or now - target < MISSING_AFTER:
        return None
    return Condition(
        KEY,
        "scheduled backup missing",
        float(target),
        [
            f"No backup was made for BACKUP_TIME {settings.backup_time} "
            f"({iso(target, zone)}), although the collector was running."
        ],
    )
