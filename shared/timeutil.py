"""All time conversion lives here: KAMO's Central labels, UTC storage, display zones, slots.

Storage is UTC epoch seconds. KAMO labels hours in America/Chicago wall-clock time
without an offset (`MM/DD/YYYY H:00`), so two facts need care:
- on the autumn DST day `1:00` appears twice; labels are in time order, so the
  second one is standard time;
- on the spring DST day `2:00` does not exist; a label naming it is bad data.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass
from datetime import UTC, date, datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

KAMO_ZONE = ZoneInfo("America/Chicago")
CLOCK_SKEW_LIMIT = 120.0  # seconds between our clock and KAMO's Date header before we warn
HOUR = 3600

_LABEL = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s+(\d{1,2}):(\d{2})(?::00)?\s*$")


class LabelError(ValueError):
    """A label is not a KAMO hour label, or the labels are out of order."""


@dataclass(frozen=True)
class ResolvedLabel:
    label: str
    ts: int | None  # UTC epoch seconds; None when the label names a non-existent hour
    problem: str | None = None


def parse_label(label: str) -> datetime:
    """`01/04/2026 3:00` -> naive wall-clock datetime; zero padding optional."""
    match = _LABEL.match(label) if isinstance(label, str) else None
    if not match:
        raise LabelError(f"label {label!r} is not MM/DD/YYYY H:MM")
    month, day, year, hour, minute = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute)
    except ValueError as exc:
        raise LabelError(f"label {label!r}: {exc}") from None


def _candidates(wall: datetime, zone: ZoneInfo) -> list[int]:
    """The UTC instants a wall-clock time can mean: 0 (gap), 1, or 2 (repeated hour)."""
    found = []
    for fold in (0, 1):
        aware = wall.replace(tzinfo=zone, fold=fold)
        ts = int(aware.timestamp())
        # A wall time inside the spring gap does not survive the round trip.
        back = datetime.fromtimestamp(ts, zone).replace(tzinfo=None)
        if back == wall and ts not in found:
            found.append(ts)
    return sorted(found)


def resolve_kamo_labels(labels: list[str], zone: ZoneInfo = KAMO_ZONE) -> list[ResolvedLabel]:
    """Map KAMO's labels, in order, to UTC instants.

    A repeated wall-clock hour is resolved by order. Labels before the first unambiguous
    one are resolved backwards from it (each the latest candidate before the label after
    it), so a window that opens with both 1:00s gets the daylight one first. Later labels
    take the first candidate after the label before. Raises LabelError for unparsable or
    out-of-order labels.
    """
    walls = [parse_label(label) for label in labels]
    options = [_candidates(wall, zone) for wall in walls]
    resolved: list[int | None] = [None] * len(labels)
    anchor = next((i for i, cands in enumerate(options) if len(cands) == 1), len(options))
    after = options[anchor][0] if anchor < len(options) else None
    for i in range(anchor - 1, -1, -1):
        if len(options[i]) == 2:
            below = [c for c in options[i] if after is None or c < after]
            resolved[i] = after = below[-1] if below else options[i][0]
    previous: int | None = None
    for i, cands in enumerate(options):
        if i >= anchor and cands:
            later = [c for c in cands if previous is None or c > previous]
            resolved[i] = later[0] if later else cands[-1]
        if resolved[i] is not None:
            if previous is not None and resolved[i] <= previous:
                raise LabelError(f"label {labels[i]!r} is not after the label before it")
            previous = resolved[i]
    return [
        ResolvedLabel(label, ts)
        if ts is not None
        else ResolvedLabel(label, None, f"label {label!r} names a time that does not exist")
        for label, ts in zip(labels, resolved, strict=True)
    ]


def format_kamo_label(ts: int, zone: ZoneInfo = KAMO_ZONE) -> str:
    """The label KAMO would print for a UTC instant (used by the simulator and tests)."""
    local = datetime.fromtimestamp(ts, zone)
    return f"{local.month:02d}/{local.day:02d}/{local.year} {local.hour}:{local.minute:02d}"


# --- clocks and slots --------------------------------------------------------------------


def now_ts() -> float:
    """Current UTC epoch seconds (through datetime, so time-machine controls it)."""
    return datetime.now(UTC).timestamp()


def utc_naive_now() -> datetime:
    """Naive UTC now, for schedulers that compare naive datetimes."""
    return datetime.now(UTC).replace(tzinfo=None)


def slot_start(ts: float, interval_minutes: int) -> int:
    """Start of the aligned slot (UTC epoch seconds) that contains `ts`."""
    step = interval_minutes * 60
    whole = int(ts // 1)
    return whole - whole % step


def next_slot(ts: float, interval_minutes: int) -> int:
    return slot_start(ts, interval_minutes) + interval_minutes * 60


def slot_marks(interval_minutes: int) -> list[int]:
    """Minutes past each hour at which slots start: 5 -> [0, 5, ..., 55]."""
    if interval_minutes <= 0 or 60 % interval_minutes:
        raise ValueError(f"{interval_minutes} does not divide an hour")
    return list(range(0, 60, interval_minutes))


# --- display ------------------------------------------------------------------------------


def to_zone(ts: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(ts, zone)


def iso(ts: float | None, zone: ZoneInfo) -> str | None:
    """ISO 8601 with offset in the display zone, seconds precision; None stays None."""
    if ts is None:
        return None
    return to_zone(int(ts), zone).isoformat(timespec="seconds")


def clock_label(ts: float, zone: ZoneInfo) -> str:
    """`10:10` in the display zone, for log lines."""
    return to_zone(ts, zone).strftime("%H:%M")


def parse_http_date(value: str | None) -> float | None:
    """An HTTP `Date` header to epoch seconds; None when absent or unreadable."""
    if not value:
        return None
    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


# --- query parameters and local calendar boundaries (used by the API) ---------------------

DAY = 86400
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def parse_query_time(value: str, zone: ZoneInfo) -> int:
    """An ISO 8601 date or date-time from a query string to UTC epoch seconds.

    With an offset (or `Z`) it is an instant; without one it is wall-clock time in `zone`,
    and a bare date means that local day's midnight. Raises ValueError when unreadable.
    """
    text = value.strip()
    if not text or len(text) > 40:
        raise ValueError("not an ISO 8601 date or date-time")
    if text.endswith(("z", "Z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError("not an ISO 8601 date or date-time") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    if not 1970 <= parsed.year <= 9998:
        raise ValueError("year out of range")
    return int(parsed.timestamp())


def is_date_only(value: str) -> bool:
    return bool(_DATE_ONLY.match(value.strip()))


def local_midnight(ts: float, zone: ZoneInfo) -> int:
    """UTC instant of the start of the local day that contains `ts`."""
    local = datetime.fromtimestamp(int(ts), zone)
    return int(datetime(local.year, local.month, local.day, tzinfo=zone).timestamp())


def next_local_midnight(ts: float, zone: ZoneInfo) -> int:
    """Start of the local day after the one containing `ts` (days are 23, 24 or 25 h)."""
    return local_midnight(local_midnight(ts, zone) + 26 * HOUR, zone)


def month_start(year: int, month: int, zone: ZoneInfo) -> int:
    """UTC instant of local midnight on the first of a month; months past 12 roll over."""
    year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return int(datetime(year, month, 1, tzinfo=zone).timestamp())


def local_month(ts: float, zone: ZoneInfo) -> tuple[int, int]:
    local = datetime.fromtimestamp(int(ts), zone)
    return local.year, local.month


def daily_time_before(ts: float, zone: ZoneInfo, clock: str) -> int:
    """The newest instant at or before `ts` whose local wall clock reads `clock` ("HH:MM").
    A time the spring change skips counts as the same time past the gap (02:30 -> 03:30
    CDT); a time the autumn change repeats counts once, at its first occurrence."""
    hour, minute = (int(part) for part in clock.split(":"))
    day = datetime.fromtimestamp(int(ts), zone).date()
    for back in (0, 1, 2):
        d = date.fromordinal(day.toordinal() - back)
        at = int(datetime(d.year, d.month, d.day, hour, minute, tzinfo=zone).timestamp())
        if at <= ts:
            return at
    raise AssertionError("unreachable: a local day lasts at most 25 hours")


def utc_offset(ts: float, zone: ZoneInfo) -> int:
    """Seconds to add to a UTC instant to get the wall clock of `zone` at that instant."""
    offset = datetime.fromtimestamp(int(ts), zone).utcoffset()
    return int(offset.total_seconds()) if offset is not None else 0


def offset_segments(start: int, end: int, zone: ZoneInfo) -> list[tuple[int, int]]:
    """[(from_ts, offset_seconds), ...] covering [start, end): where the zone's offset changes.

    Lets a query turn UTC instants into local wall-clock seconds with a short CASE, so
    local days and months are grouped in the database. Probes daily, then bisects each
    change to the second; a year has at most a handful of changes.
    """
    segments = [(start, utc_offset(start, zone))]
    probe = start
    while probe < end:
        step_end = min(probe + DAY, end)
        if utc_offset(step_end, zone) != segments[-1][1]:
            low, high = probe, step_end  # offset(low) is the current one, offset(high) is not
            while high - low > 1:
                mid = (low + high) // 2
                if utc_offset(mid, zone) == segments[-1][1]:
                    low = mid
                else:
                    high = mid
            if high < end:
                segments.append((high, utc_offset(high, zone)))
        probe = step_end
    return segments


def wall_key_to_ts(wall_seconds: int, zone: ZoneInfo) -> int:
    """Local wall-clock seconds since 1970-01-01 00:00 (as a query groups them) back to UTC.

    A wall time in the autumn repeated hour maps to its first (daylight) instant; one in
    the spring gap to the instant just after the gap.
    """
    wall = datetime.fromtimestamp(wall_seconds, UTC).replace(tzinfo=None)
    return int(wall.replace(tzinfo=zone).timestamp())


def add_local_days(ts: int, days: int, zone: ZoneInfo) -> int:
    """Local midnight `days` calendar days after (or before) the local day containing `ts`."""
    local = datetime.fromtimestamp(int(ts), zone).date()
    target = date.fromordinal(local.toordinal() + days)
    return int(datetime(target.year, target.month, target.day, tzinfo=zone).timestamp())


def iso_many(instants: list[int], zone: ZoneInfo) -> list[str]:
    """`iso()` for many instants at once, the same strings, several times faster.

    Long series (a year of hours) are formatted from the zone's offset segments and a
    per-day cache instead of one zone lookup per instant.
    """
    if not instants:
        return []
    low, high = min(instants), max(instants)
    segments = offset_segments(int(low), int(high) + 1, zone)
    starts = [s for s, _ in segments]
    suffixes = {}
    for _, offset in segments:
        sign = "+" if offset >= 0 else "-"
        hours, rest = divmod(abs(offset), HOUR)
        suffixes[offset] = f"{sign}{hours:02d}:{rest // 60:02d}"
    days: dict[int, str] = {}
    out = []
    single = segments[0][1] if len(segments) == 1 else None
    for ts in instants:
        offset = single if single is not None else segments[bisect_right(starts, ts) - 1][1]
        day, second = divmod(int(ts) + offset, DAY)
        text = days.get(day)
        if text is None:
            text = days[day] = date.fromordinal(day + 719163).isoformat() + "T"  # 1970-01-01
        out.append(f"{text}{_CLOCK[second // 60]}:{second % 60:02d}{suffixes[offset]}")
    return out


_CLOCK = [f"{m // 60:02d}:{m % 60:02d}" for m in range(1440)]


def local_periods(period: str, start: int, end: int, zone: ZoneInfo) -> list[tuple[int, str]]:
    """[(UTC start, label)] of the local days, months or years from the one holding `start`
    up to `end`; labels are `2026-11-01`, `2026-11` or `2026`."""
    local = datetime.fromtimestamp(int(start), zone)
    found = []
    if period == "day":
        cursor = local_midnight(start, zone)
        while cursor < end:
            found.append((cursor, to_zone(cursor, zone).date().isoformat()))
            cursor = add_local_days(cursor, 1, zone)
    elif period == "month":
        year, month = local.year, local.month
        while (cursor := month_start(year, month, zone)) < end:
            found.append((cursor, f"{year:04d}-{month:02d}"))
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    elif period == "year":
        year = local.year
        while (cursor := month_start(year, 1, zone)) < end:
            found.append((cursor, f"{year:04d}"))
            year += 1
    else:
        raise ValueError(f"unknown period {period!r}")
    return found


# --- page labels and chart marks (used by the dashboard) -----------------------------------


def local_text(ts: float | None, zone: ZoneInfo, fmt: str = "%Y-%m-%d %H:%M %Z") -> str | None:
    """A UTC instant as wall-clock text in `zone`; `%Z` is the zone's own abbreviation at
    that instant (CST or CDT for America/Chicago), never a fixed one. None stays None."""
    if ts is None:
        return None
    return to_zone(int(ts), zone).strftime(fmt)


def zone_names(start: int, end: int, zone: ZoneInfo) -> list[str]:
    """The abbreviations `zone` uses over [start, end), in order of first use: `['CDT', 'CST']`
    across the autumn change, `['CST']` in winter."""
    names: list[str] = []
    for seg_start, _ in offset_segments(start, max(end, start + 1), zone):
        name = to_zone(seg_start, zone).strftime("%Z")
        if name not in names:
            names.append(name)
    return names


def local_hour_marks(start: int, end: int, zone: ZoneInfo, step_hours: int) -> list[int]:
    """UTC instants in [start, end] that fall on a local whole hour divisible by `step_hours`
    (0:00, 3:00, ... for 3). Walks UTC hours, so the repeated autumn hour appears twice and
    the missing spring hour not at all, as a wall clock shows them."""
    first = int(start) - int(start) % HOUR
    if first < start:
        first += HOUR
    marks = []
    for ts in range(first, int(end) + 1, HOUR):
        local = to_zone(ts, zone)
        if local.minute == 0 and local.hour % step_hours == 0:
            marks.append(ts)
    return marks
