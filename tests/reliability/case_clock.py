"""Clock steps: the slot loop (collector.loop.SlotLoop) while the wall clock jumps an hour
forward and an hour back, through time-machine with America/Chicago-aware instants.

For each start time the loop ticks every 10 s for 20 minutes, the clock steps +1 h, ticks
for 30 minutes, steps -1 h, and ticks for 80 minutes (past the latest slot already polled).
Asserted: every poll is on the 5-minute grid and on time; after the forward step at most one
poll comes at once and none for the skipped hour (no catch-up burst); no slot is polled
twice, also after the backward step; every slot after the jumps, once the clock is past the
latest slot polled, is polled.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine

from collector.loop import SlotLoop
from shared.timeutil import now_ts, slot_start

from .common import CaseResult

CT = ZoneInfo("America/Chicago")
INTERVAL = 5
SLOT = INTERVAL * 60
TICK = timedelta(seconds=10)
HOUR = timedelta(hours=1)


def _starts(count: int) -> list[datetime]:
    """Start times spread over the days around both 2026 DST changes and an ordinary day."""
    days = [datetime(2026, 3, 8, 5, 3, 7, tzinfo=UTC), datetime(2026, 11, 1, 4, 31, 40, tzinfo=UTC)]
    days.append(datetime(2026, 11, 26, 15, 58, 21, tzinfo=UTC))
    found = []
    for i in range(count):
        found.append(days[i % len(days)] + timedelta(minutes=97 * (i // len(days))))
    return found


def clock_steps(scenarios: int) -> CaseResult:
    result = CaseResult(unit="polls", worst_label="most polls in one tick after a step")
    result.note_worst(0)
    for start in _starts(scenarios):
        _scenario(start, result)
    return result


def _scenario(start: datetime, result: CaseResult) -> None:
    fired: list[tuple[int, float]] = []  # (slot, clock at the poll)
    label = start.strftime("%Y-%m-%dT%H:%MZ")
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        loop = SlotLoop(INTERVAL, lambda slot: fired.append((slot, now_ts())))
        now = start

        def run(span: timedelta) -> None:
            nonlocal now
            end = now + span
            while now < end:
                now += TICK
                tm.move_to(now.astimezone(CT))
                loop.tick()

        def step(delta: timedelta, name: str) -> int:
            nonlocal now
            now += delta
            tm.move_to(now.astimezone(CT))
            before = len(fired)
            loop.tick()
            loop.tick()
            burst = len(fired) - before
            result.note_worst(burst)
            if burst > 1:
                result.fail(f"{label}: {burst} polls at once after the {name} step")
            return int(now.timestamp())

        run(timedelta(minutes=20))
        result.tried += 1
        ahead_from = int(now.timestamp())
        ahead_to = step(HOUR, "+1 h")
        skipped = [s for s, _ in fired if ahead_from < s + SLOT and s < slot_start(ahead_to, 5)]
        caught_up = [s for s in skipped if s > ahead_from]
        if caught_up:
            result.fail(f"{label}: polled {len(caught_up)} slots of the skipped hour")
        run(timedelta(minutes=30))
        result.tried += 1
        high_water = max(s for s, _ in fired)
        step(-HOUR, "-1 h")
        run(timedelta(minutes=80))
    slots = [s for s, _ in fired]
    dupes = sorted({s for s in slots if slots.count(s) > 1})
    if dupes:
        first = datetime.fromtimestamp(dupes[0], UTC).strftime("%H:%MZ")
        result.fail(f"{label}: {len(dupes)} slots polled twice after the -1 h step, from {first}")
    late = [(s, at) for s, at in fired if s % SLOT or not 0 <= at - s <= loop.late_limit]
    if late:
        result.fail(f"{label}: {len(late)} polls off the grid or late, e.g. {late[0]}")
    end_ts = int(now.timestamp())
    expected = set(range(high_water + SLOT, slot_start(end_ts, INTERVAL) + 1, SLOT))
    missing = expected - set(slots)
    if missing:
        result.lost += len(missing)
        result.fail(f"{label}: {len(missing)} slots after the steps never polled")
