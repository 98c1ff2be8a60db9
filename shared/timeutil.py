"""All time conversion lives here: KAMO's Central labels, UTC storage, display zones, slots.

Storage is UTC epoch seconds. KAMO labels hours in America/Chicago wall-clock time
without an offset (`MM/DD/YYYY H:00`), so two facts need care:
- on the autumn DST day `1:00` appears twice; labels are in time order, so the
  second one is standard time;
- on the spring DST day `2:00` does not exist; a label naming it is bad data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

KAMO_ZONE = ZoneInfo("America/Chicago")
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

    A repeated wall-clock hour is resolved by order: the first candidate after the
    previous label's instant (or, for a leading label, the one before the next
    label's instant). Raises LabelError for unparsable or out-of-order labels.
    """
    walls = [parse_label(label) for label in labels]
    options = [_candidates(wall, zone) for wall in walls]
    resolved: list[int | None] = [None] * len(labels)
    previous: int | None = None
    for i, cands in enumerate(options):
        if len(cands) == 1:
            resolved[i] = cands[0]
        elif len(cands) == 2:
            if previous is not None:
                later = [c for c in cands if c > previous]
                resolved[i] = later[0] if later else cands[-1]
            else:
                following = next((o[0] for o in options[i + 1 :] if len(o) == 1), None)
                earlier = [c for c in cands if following is None or c < following]
                resolved[i] = earlier[-1] if earlier else cands[0]
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
