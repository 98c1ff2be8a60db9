"""Time module properties: every Central hour label from 2020 to 2030 converts to UTC and
back without loss (shared.timeutil, the one module that converts time).

A lone label in the autumn repeated hour is ambiguous; KAMO's labels come as a window in
time order, and the window resolves it. So the property is about windows: the labels of any
run of 2-24 consecutive UTC hours resolve to exactly those instants, each instant formats
back to its label, and the spring day's missing 2:00 resolves to no instant. Short form:
hypothesis over random windows plus every window around both DST days of every year. Long
form: also every 12-hour window (KAMO's) ending at every hour of 2020-2030.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from shared.timeutil import KAMO_ZONE, format_kamo_label, resolve_kamo_labels

from .common import CaseResult

HOUR = 3600
FIRST = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2031, 1, 1, tzinfo=UTC).timestamp())
YEARS = range(2020, 2031)


def dst_days(year: int) -> list[int]:
    """For each of the year's two offset changes in America/Chicago, UTC midnight of the
    day before it."""
    found, day = [], datetime(year, 1, 1, 12, tzinfo=UTC)
    offset = day.astimezone(KAMO_ZONE).utcoffset()
    while day.year == year:
        day += timedelta(days=1)
        now = day.astimezone(KAMO_ZONE).utcoffset()
        if now != offset:
            found.append(int(day.replace(hour=0).timestamp()) - 86400)
            offset = now
    return found


def check_window(last: int, hours: int, result: CaseResult) -> None:
    instants = [last - HOUR * k for k in range(hours - 1, -1, -1)]
    labels = [format_kamo_label(ts) for ts in instants]
    result.tried += 1
    try:
        resolved = [r.ts for r in resolve_kamo_labels(labels)]
    except ValueError as exc:
        result.fail(f"{labels}: {exc}")
        return
    if resolved != instants:
        result.fail(f"{labels} resolved to {resolved}, not {instants}")
        return
    back = [format_kamo_label(ts) for ts in resolved]
    if back != labels:
        result.fail(f"{instants} formatted back as {back}, not {labels}")


def check_missing_hour(year: int, result: CaseResult) -> None:
    spring = datetime.fromtimestamp(dst_days(year)[0] + 86400, UTC)
    label = f"{spring.month:02d}/{spring.day:02d}/{year} 2:00"
    result.tried += 1
    resolved = resolve_kamo_labels([f"{spring.month:02d}/{spring.day:02d}/{year} 1:00", label])
    if resolved[1].ts is not None or not resolved[1].problem:
        result.fail(f"{label} (the missing spring hour) resolved to {resolved[1].ts}")


SHORT_LENGTHS = (2, 3, 6, 12, 13, 24)


def time_properties(examples: int, exhaustive: bool) -> CaseResult:
    """`exhaustive`: every window length around the DST days and every 12-hour window of
    2020-2030; otherwise a few lengths (KAMO's 12 among them) around the DST days."""
    result = CaseResult()
    lengths = range(2, 25) if exhaustive else SHORT_LENGTHS
    for year in YEARS:
        check_missing_hour(year, result)
        for day in dst_days(year):
            # Windows ending in every hour of the day before the change and of its day.
            for last in range(day, day + 2 * 86400, HOUR):
                for hours in lengths:
                    check_window(last, hours, result)
    result.figures["dst_day_windows"] = result.tried

    @settings(
        max_examples=examples,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(st.integers(FIRST // HOUR + 24, END // HOUR - 1), st.integers(2, 24))
    def random_window(hour: int, hours: int) -> None:
        check_window(hour * HOUR, hours, result)

    random_window()
    if exhaustive:
        for last in range(FIRST + 11 * HOUR, END, HOUR):
            check_window(last, 12, result)
    return result
