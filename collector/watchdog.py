"""The collector's heartbeat, and the watchdog that runs in the heartbeat's thread.

A mixin of collector.daemon.Daemon. The heartbeat thread keeps beating while a cycle
hangs, and when the heartbeat's content says the collector is stuck (a cycle past its
deadline, or no cycle finished for two slots) it raises the alert itself, with its own
database connection, because the main loop cannot.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from collector.alert_conditions import Condition
from collector.backup_alerts import backup_condition
from shared.heartbeat import WRITE_EVERY, problems
from shared.timeutil import iso, now_ts

if TYPE_CHECKING:
    from collector.lease import FileLease, PgLease
    from collector.loop import SlotLoop
    from collector.outage import PendingRuns
    from collector.peak_step import PeakWatchStep
    from collector.tasks import TaskRunner
    from shared.config import Settings

log = logging.getLogger("collector")

STUCK_KEY = "collector-stuck"


class Watchdog:
    settings: Settings
    lease: FileLease | PgLease
    loop: SlotLoop
    outage: PendingRuns
    peak: PeakWatchStep
    tasks: TaskRunner
    stop: threading.Event
    state: dict[str, Any]
    _beat_lock: threading.Lock
    _beat_failed: bool

    def check_alerts(self, wait: bool = True) -> None:
        raise NotImplementedError

    def beat(self, **changes: Any) -> None:
        with self._beat_lock:
            self.state.update(changes)
            next_ts = self.loop.next_slot_ts()
            self.state["next_slot"] = next_ts
            self.state["next_slot_iso"] = iso(next_ts, self.settings.tz)
            self.state["unwritten_runs"] = len(self.outage)
            try:
                self.lease.write_heartbeat(self.state)
            except OSError as exc:
                if not self._beat_failed:  # once per outage, not every 10 s
                    log.warning("could not write the heartbeat: %s", exc)
                self._beat_failed = True
            else:
                self._beat_failed = False

    def _stuck(self, now: float) -> list[Condition]:
        """The watchdog's condition, from the same content the healthcheck reads."""
        with self._beat_lock:
            if self.state.get("role") != "active":
                return []  # a standby runs no cycles: nothing can be stuck
            found = problems(self.state, now, self.settings.tz)
            busy = self.state.get("deadline_at") is not None
            since = self.state["since"] if busy else self.state["last_finished_at"]
            since = since or self.state["started_at"]
        if not found:
            return []
        return [Condition(STUCK_KEY, "collector stuck", since, found)]

    def _watch(self, now: float) -> list[Condition]:
        """Conditions the Alerter adds to its own: a stuck collector, the daily backup, a
        failing peak watch."""
        backup = backup_condition(self.settings, now, self.tasks.started_at)
        found = self._stuck(now) + ([backup] if backup is not None else [])
        return found + self.peak.conditions()

    def _beat_forever(self) -> None:
        raised = False
        while not self.stop.wait(WRITE_EVERY):
            self.beat()
            stuck = bool(self._stuck(now_ts()))
            if stuck or raised:  # raise the alert, and once more to clear it
                raised = stuck
                self.check_alerts(wait=False)
