"""Clock-aligned slots driven by `schedule`, on a UTC clock whatever the local zone says.

`schedule` compares naive local times, and in Central time the autumn repeated hour
would lose twelve 5-minute slots. `UtcScheduler` gives it naive UTC instead. One job
per slot mark (`every().hour.at(":05")`, ...) keeps slots aligned to the hour.

Guards around it: a fire for a slot already polled does nothing (after a long stall every
overdue job fires once: that burst becomes one poll at most; after the clock steps back,
the slots it polls again were already polled), and a fire that comes well after its slot
began is skipped, so a cycle that overran waits for the next slot.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import UTC, timedelta

import schedule

from shared.timeutil import iso, next_slot, now_ts, slot_marks, slot_start, utc_naive_now

log = logging.getLogger("collector")

LATE_LIMIT = 30.0  # seconds after a slot starts; later fires skip to the next slot
# Slots remembered as polled: two hours' worth covers a clock stepped back an hour. Bounded,
# so a clock that was far ahead (a Pi booted without RTC) leaves no long silence behind.
REMEMBERED_MINUTES = 120


class UtcJob(schedule.Job):
    """An hourly `.at(":MM")` job whose clock is naive UTC."""

    @property
    def should_run(self) -> bool:
        return utc_naive_now() >= self.next_run

    def _schedule_next_run(self) -> None:
        if self.unit != "hours" or self.at_time is None:
            raise schedule.ScheduleValueError("UtcJob supports every(n).hours.at(':MM') only")
        now = utc_naive_now()
        candidate = now.replace(
            minute=self.at_time.minute, second=self.at_time.second, microsecond=0
        )
        while candidate <= now:
            candidate += timedelta(hours=self.interval)
        self.next_run = candidate


class UtcScheduler(schedule.Scheduler):
    def every(self, interval: int = 1) -> UtcJob:
        return UtcJob(interval, self)

    @property
    def idle_seconds(self) -> float | None:
        if not self.next_run:
            return None
        return (self.next_run - utc_naive_now()).total_seconds()


class SlotLoop:
    """Calls `on_slot(slot_ts)` once per aligned slot, on time or not at all."""

    def __init__(self, interval_minutes: int, on_slot: Callable[[int], None]) -> None:
        self.interval = interval_minutes
        self.on_slot = on_slot
        self.late_limit = min(LATE_LIMIT, interval_minutes * 60 / 4)
        self.polled: deque[int] = deque(maxlen=REMEMBERED_MINUTES // interval_minutes + 1)
        self._skipped: int | None = None
        self.scheduler = UtcScheduler()
        for minute in slot_marks(interval_minutes):
            self.scheduler.every().hour.at(f":{minute:02d}").do(self._fire)

    def reschedule(self) -> None:
        """Forget overdue fires (a standby that takes over starts from the next slot)."""
        for job in self.scheduler.jobs:
            job._schedule_next_run()

    def mark_polled(self, slot_ts: int) -> None:
        """A cycle outside the schedule (startup) already covered this slot."""
        self.polled.append(slot_ts)

    def catch_up(self, after: int) -> None:
        """Poll the current slot now if it began at or after `after` and is not polled yet:
        a manual cycle ran over its start, and that must not cost the slot (a slot is
        skipped as late only when a scheduled cycle overran or the process was paused)."""
        slot = slot_start(now_ts(), self.interval)
        if slot < after or slot in self.polled:
            return
        log.info("polling the slot at %s late: a manual import ran over its start", iso(slot, UTC))
        self.polled.append(slot)
        self.on_slot(slot)

    def _fire(self) -> None:
        now = now_ts()
        slot = slot_start(now, self.interval)
        if slot in self.polled or slot == self._skipped:
            return
        if now - slot > self.late_limit:
            self._skipped = slot
            log.warning(
                "skipped the slot at %s: it began %.0f s ago (a cycle overran or the process "
                "was paused); next poll at the next slot",
                iso(slot, UTC),
                now - slot,
            )
            return
        self.polled.append(slot)
        self.on_slot(slot)

    def tick(self) -> None:
        """Run whatever is due. Reschedules if the clock jumped backwards."""
        upcoming = self.scheduler.next_run
        if upcoming is not None:
            horizon = utc_naive_now() + timedelta(minutes=self.interval, seconds=60)
            if upcoming > horizon:
                log.warning("the clock moved backwards; slots rescheduled")
                for job in self.scheduler.jobs:
                    job._schedule_next_run()
        self.scheduler.run_pending()

    def seconds_until_next(self) -> float:
        idle = self.scheduler.idle_seconds
        return max(0.0, idle) if idle is not None else 1.0

    def next_slot_ts(self) -> int:
        """The next aligned slot after now. Computed, not read from the scheduler: while a
        job runs, its own (current) slot is still the scheduler's earliest next_run."""
        return next_slot(now_ts(), self.interval)
