"""What the collector takes from the channel while idle: manual import requests and tasks.

A mixin of collector.daemon.Daemon. Manual requests start a cycle once the rate limit and
the slot guard allow it (shared.triggers); backups and test emails go to the task thread
(collector.tasks). A channel that cannot be read makes them wait, never stops the loop.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from collector.outage import write_error_cause
from collector.roles import MAX_CLAIM
from collector.tasks import TASK_KINDS
from shared.timeutil import now_ts
from shared.triggers import expected_start

if TYPE_CHECKING:
    from collector.lease import FileLease, PgLease
    from collector.loop import SlotLoop
    from collector.tasks import TaskRunner
    from shared.channel import Channel, Request
    from shared.config import Settings

log = logging.getLogger("collector")


class Intake:
    settings: Settings
    lease: FileLease | PgLease
    channel: Channel
    loop: SlotLoop
    tasks: TaskRunner
    state: dict[str, Any]
    slot_guard: float

    def _pending(self) -> list[Request]:
        raise NotImplementedError

    def run_cycle(self, trigger: str, requests: list[Request] | None = None) -> None:
        raise NotImplementedError

    def _take_triggers(self) -> None:
        self._take_tasks()  # backups, test emails: not import cycles
        pending = self._pending()
        if not pending:
            return
        now = now_ts()
        at, by = expected_start(
            now,
            self.state["last_manual_started_at"],
            self.loop.next_slot_ts(),
            self.slot_guard,
            self.settings.manual_gap_seconds,
        )
        if by != "manual" or at > now:
            return  # the rate limit, or the next slot answers them
        taken = pending[:MAX_CLAIM]
        log.info(
            "manual import requested (%s)", requests_text([t.request_id for t in taken]).strip()
        )
        if not self.lease.verify():
            return
        next_slot = self.loop.next_slot_ts()
        self.run_cycle("manual", taken)
        self.loop.catch_up(next_slot)

    def _take_tasks(self) -> None:
        try:
            waiting = self.channel.pending(kinds=TASK_KINDS, limit=MAX_CLAIM)
        except Exception as exc:  # the database is down: they wait
            log.debug("backup/test-email requests not read: %s", write_error_cause(exc))
            return
        self.tasks.take(waiting, self.channel, self.state["instance"])


def requests_text(ids: list[str]) -> str:
    if not ids:
        return ""
    return f" request {ids[0]}" if len(ids) == 1 else f" requests {', '.join(ids)}"
