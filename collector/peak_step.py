"""The peak watch as one step of the daemon, after each cycle: evaluate in a write
transaction, then send what is due outside it. A failure never stops collection; while it
lasts it is an alert condition (`peak-watch`), so /api/status, the dashboard and the alert
channels show it, not only the log."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from peewee import Database

from collector.alerts import Condition
from collector.outage import write_error_cause
from collector.peak_notify import PeakNotifier
from collector.peak_watch import PeakWatcher
from collector.push import Target
from shared.config import Settings
from shared.timeutil import now_ts

log = logging.getLogger("collector")

PEAK_KEY = "peak-watch"


class PeakWatchStep:
    def __init__(
        self, settings: Settings, db: Database, targets: Callable[[], Sequence[Target]]
    ) -> None:
        self.db = db
        self.watcher = PeakWatcher(settings, db)
        self.notifier = PeakNotifier(settings, targets=targets)
        self.failure: Condition | None = None

    def run(self) -> None:
        try:
            with self.db.atomic():
                self.watcher.evaluate(now_ts())
            self.notifier.deliver()
        except Exception as exc:
            cause = write_error_cause(exc)
            log.error("peak watch failed (%s); collection goes on", cause)
            since = self.failure.since if self.failure else now_ts()
            lines = [f"The peak watch could not be evaluated after the last cycle: {cause}"]
            self.failure = Condition(PEAK_KEY, "peak watch failing", since, lines)
        else:
            self.failure = None

    def conditions(self) -> list[Condition]:
        return [self.failure] if self.failure else []
