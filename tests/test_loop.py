"""The slot loop under time travel, including the 2026 autumn DST night.

Travel happens with America/Chicago-aware instants: time-machine then sets the local
zone, naive local time really repeats 01:00-01:59, and a scheduler on local time loses
slots. (UTC-aware travel would make naive now() UTC and hide that bug.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import schedule
import time_machine

from collector.loop import SlotLoop
from shared.timeutil import slot_start

CT = ZoneInfo("America/Chicago")


def travel_minutes(start: datetime, minutes: int, on_step) -> None:
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        for i in range(minutes):
            now = start + timedelta(minutes=i)
            tm.move_to(now.astimezone(CT))
            on_step(now)


def test_plain_schedule_on_local_time_loses_the_repeated_hour():
    # The bug the UTC scheduler exists for, reproduced as DESIGN.md measured it.
    fired: list[datetime] = []
    start = datetime(2026, 11, 1, 5, 30, tzinfo=UTC)  # 00:30 CDT
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        plain = schedule.Scheduler()
        for minute in range(0, 60, 5):
            plain.every().hour.at(f":{minute:02d}").do(lambda: fired.append(datetime.now(UTC)))
        for i in range(4 * 60 + 1):  # until 03:30 CST
            tm.move_to((start + timedelta(minutes=i)).astimezone(CT))
            plain.run_pending()
    assert len(fired) == 36  # of the 48 UTC slots after 00:30 CDT up to 03:30 CST
    utc_slots: list[int] = []
    with time_machine.travel(start.astimezone(CT), tick=False):
        loop = SlotLoop(5, utc_slots.append)
    travel_minutes(start, 4 * 60 + 1, lambda now: loop.tick())
    assert len(utc_slots) == 48


def test_every_utc_slot_fires_once_over_a_week_with_the_autumn_night():
    fired: list[int] = []
    start = datetime(2026, 10, 29, 5, 0, tzinfo=UTC)
    minutes = 7 * 24 * 60
    with time_machine.travel(start.astimezone(CT), tick=False):
        loop = SlotLoop(5, fired.append)
    travel_minutes(start, minutes, lambda now: loop.tick())
    first = int(start.timestamp())
    expected = list(range(first + 300, first + minutes * 60, 300))
    assert fired == expected  # every slot, once, in order
    night = [
        ts
        for ts in fired
        if datetime(2026, 11, 1, 5, 30, tzinfo=UTC).timestamp()
        <= ts
        < datetime(2026, 11, 1, 9, 30, tzinfo=UTC).timestamp()
    ]
    assert len(night) == 48


def test_spring_night_also_keeps_every_slot():
    fired: list[int] = []
    start = datetime(2026, 3, 8, 6, 0, tzinfo=UTC)  # 00:00 CST
    with time_machine.travel(start.astimezone(CT), tick=False):
        loop = SlotLoop(10, fired.append)
    travel_minutes(start, 6 * 60, lambda now: loop.tick())
    assert len(fired) == 6 * 6 - 1 and len(set(fired)) == len(fired)


def test_an_overrunning_cycle_skips_to_the_next_slot():
    fired: list[int] = []
    start = datetime(2026, 11, 26, 16, 0, 0, tzinfo=UTC)
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:

        def slow_cycle(slot: int) -> None:
            fired.append(slot)
            if len(fired) == 1:  # the 16:05 cycle runs until 16:11:30
                tm.move_to((start + timedelta(minutes=11, seconds=30)).astimezone(CT))

        loop = SlotLoop(5, slow_cycle)
        for second in range(0, 20 * 60, 10):
            now = start + timedelta(seconds=second)
            if now > datetime.now(UTC):
                tm.move_to(now.astimezone(CT))
            loop.tick()
    got = [datetime.fromtimestamp(ts, UTC).strftime("%H:%M") for ts in fired]
    assert got == ["16:05", "16:15"]  # 16:10 was skipped, not run late; no overlap


def test_a_long_stall_causes_no_burst():
    fired: list[int] = []
    start = datetime(2026, 11, 26, 16, 0, 0, tzinfo=UTC)
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        loop = SlotLoop(5, fired.append)
        tm.move_to((start + timedelta(hours=3, seconds=5)).astimezone(CT))  # asleep for 3 h
        loop.tick()
        loop.tick()
        assert len(fired) == 1  # at most one poll for the current slot, not 36
        tm.move_to((start + timedelta(hours=3, minutes=5)).astimezone(CT))
        loop.tick()
    assert len(fired) == 2
    assert fired[1] - fired[0] == 300


def test_startup_cycle_covers_its_slot():
    fired: list[int] = []
    start = datetime(2026, 11, 26, 16, 0, 0, tzinfo=UTC)
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        loop = SlotLoop(5, fired.append)
        loop.mark_polled(slot_start(start.timestamp(), 5))
        tm.move_to((start + timedelta(seconds=1)).astimezone(CT))
        loop.tick()
        assert fired == []
        tm.move_to((start + timedelta(minutes=5)).astimezone(CT))
        loop.tick()
    assert len(fired) == 1


def test_clock_set_back_reschedules():
    fired: list[int] = []
    wrong = datetime(2026, 12, 24, 12, 0, tzinfo=UTC)  # booted with a clock a month ahead
    right = datetime(2026, 11, 26, 16, 0, 30, tzinfo=UTC)
    with time_machine.travel(wrong.astimezone(CT), tick=False) as tm:
        loop = SlotLoop(5, fired.append)
        tm.move_to(right.astimezone(CT))  # NTP fixes the clock
        loop.tick()
        tm.move_to((right + timedelta(minutes=5)).astimezone(CT))
        loop.tick()
    assert len(fired) == 1


def test_next_slot_during_a_scheduled_cycle_is_the_following_one():
    seen: list[int] = []
    start = datetime(2026, 11, 26, 16, 4, 59, tzinfo=UTC)
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        loop = SlotLoop(5, lambda slot: seen.append(loop.next_slot_ts()))
        tm.move_to((start + timedelta(seconds=1)).astimezone(CT))
        loop.tick()
    assert seen == [int(datetime(2026, 11, 26, 16, 10, tzinfo=UTC).timestamp())]


def test_a_slot_overrun_by_a_manual_cycle_is_polled_late_not_skipped():
    """A manual cycle that ran over a slot's start: the slot fires 40 s late (past the late
    limit) and would be skipped; catch_up polls it at once, and only once."""
    fired: list[int] = []
    start = datetime(2026, 11, 26, 16, 4, 50, tzinfo=UTC)
    with time_machine.travel(start.astimezone(CT), tick=False) as tm:
        loop = SlotLoop(5, fired.append)
        loop.mark_polled(slot_start(start.timestamp(), 5))
        next_slot = loop.next_slot_ts()
        tm.move_to((start + timedelta(seconds=50)).astimezone(CT))  # the manual cycle ends
        loop.catch_up(next_slot)
        loop.catch_up(next_slot)
        loop.tick()  # the overdue fire finds the slot polled
        assert fired == [next_slot]
        tm.move_to((start + timedelta(minutes=5, seconds=10)).astimezone(CT))
        loop.tick()
        assert fired == [next_slot, next_slot + 300]  # the next slot on time
        loop.catch_up(next_slot + 600)  # a manual cycle that ended before its slot: nothing
        assert fired == [next_slot, next_slot + 300]
