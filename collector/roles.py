"""The collector's roles on PostgreSQL: active (holds the writer lock, polls) or standby.

A mixin of collector.daemon.Daemon, with the channel calls that must never stop the loop
(a database that is down makes them log and wait, not crash). On SQLite the collector is
active from the start (the DATA_DIR lock), and the startup cycle always runs.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Any

from collector.outage import write_error_cause
from collector.runs import close_orphaned_runs, slot_was_polled
from shared.channel import Request
from shared.timeutil import iso, now_ts, slot_start

if TYPE_CHECKING:
    from collector.cycle import Cycle
    from collector.lease import FileLease, PgLease
    from collector.loop import SlotLoop
    from shared.channel import Channel
    from shared.config import Settings

log = logging.getLogger("collector")

MAX_CLAIM = 100  # request ids one run answers (the API queues at most MAX_PENDING)


class Roles:
    settings: Settings
    cycle: Cycle
    lease: FileLease | PgLease
    channel: Channel
    loop: SlotLoop
    stop: threading.Event
    state: dict[str, Any]
    active: bool

    def beat(self, **changes: Any) -> None:
        raise NotImplementedError

    def run_cycle(self, trigger: str, requests: list[Request] | None = None) -> None:
        raise NotImplementedError

    def _become_active(self) -> None:
        """This collector now holds the lock: sweep what a dead holder left, then poll the
        current slot unless the import log shows it polled (a takeover never polls a slot
        twice; a slot whose cycle the old holder did not finish is polled now)."""
        self.active = True
        now = now_ts()
        self.beat(role="active", role_since=self.lease.since or now, state="starting", since=now)
        slot = slot_start(now, self.settings.poll_interval_minutes)
        polled = False
        if self.lease.shared:
            log.info(
                "this collector holds the writer lock and polls (instance %s)",
                self.state["instance"],
            )
            try:
                with self.cycle.db.atomic():
                    orphans = close_orphaned_runs()
                    polled = slot_was_polled(slot)
            except Exception as exc:
                log.error("could not read the import log at takeover: %s", write_error_cause(exc))
                orphans = 0
            if orphans:
                log.warning("closed %d import run(s) left running by a stopped collector", orphans)
        try:
            restored = self.channel.restore()
        except Exception as exc:
            log.warning("claimed requests not put back: %s", write_error_cause(exc))
            restored = []
        if restored:
            log.warning("answering %d request(s) a stopped collector had taken", len(restored))
        self.loop.reschedule()
        self.loop.mark_polled(slot)
        if polled:
            log.info(
                "the slot at %s was polled before the takeover; next poll at the next slot",
                iso(slot, self.settings.tz),
            )
            self.beat(state="idle", since=now_ts())
            return
        # A takeover's cycle also answers what waits (the dead holder's claims among them):
        # one run, not two in one slot. SQLite's startup leaves them to a manual cycle.
        self.run_cycle("startup", self._pending() if self.lease.shared else None)

    def _stand_by(self) -> None:
        """Not (or no longer) the holder: poll nothing, try the lock every TAKEOVER_POLL s."""
        if self.active:
            log.warning("standing by: another collector may hold the writer lock now")
        self.active = False
        if self.state.get("role") != "standby":
            now = now_ts()
            self.beat(role="standby", role_since=now, state="standby", since=now, deadline_at=None)

    def _pending(self) -> list[Request]:
        """Requests waiting; [] while the channel cannot be read (the database is down)."""
        try:
            return self.channel.pending(limit=MAX_CLAIM)
        except Exception as exc:
            log.debug("manual requests not read: %s", write_error_cause(exc))
            return []

    def _release(self, claimed: list[Request]) -> None:
        try:
            self.channel.release(claimed)
        except Exception as exc:  # they stay claimed: answered again after a takeover
            log.warning("answered requests not marked done: %s", write_error_cause(exc))

    def _restore(self, claimed: list[Request]) -> None:
        try:
            self.channel.restore(claimed)
        except Exception as exc:  # they stay claimed: put back at the next active start
            log.warning("requests not put back: %s", write_error_cause(exc))
