"""Paths KAMO asked us to leave alone for a while (429 or 503 with Retry-After).

A deferred path gets no request until its time is up: not a retry within the cycle, and not
in later cycles before then. The deferral never reaches past `limit` (the cycle passes the
next slot, so a scheduled poll is never lost to it), nor past MAX_DEFER_SECONDS. One entry
per path, dropped once expired, and at most MAX_ENTRIES: the map cannot grow without bound.
"""

from __future__ import annotations

import threading
from zoneinfo import ZoneInfo

from shared.timeutil import clock_label, now_ts, parse_http_date

MAX_DEFER_SECONDS = 3600.0
MAX_ENTRIES = 256


def retry_after_seconds(value: str, now: float) -> float | None:
    """Retry-After as seconds from `now`: delay-seconds or an HTTP date; None if unreadable."""
    value = value.strip()
    if value.isdigit():
        return float(value) if len(value) <= 9 else MAX_DEFER_SECONDS
    when = parse_http_date(value)
    return None if when is None else when - now


class Deferrals:
    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._lock = threading.Lock()
        self._until: dict[str, tuple[float, str]] = {}  # path -> (epoch seconds, why)

    def defer(self, path: str, seconds: float, detail: str, limit: float | None = None) -> str:
        """Record the deferral and return the reason for the run: `deferred until 10:12 (...)`."""
        now = now_ts()
        until = now + min(seconds, MAX_DEFER_SECONDS)
        if limit is not None:
            until = min(until, limit)
        with self._lock:
            self._expire(now)
            if len(self._until) >= MAX_ENTRIES and path not in self._until:
                del self._until[min(self._until, key=lambda p: self._until[p][0])]
            self._until[path] = (until, detail)
        return self._reason(until, detail)

    def reason(self, path: str) -> str | None:
        """Why `path` must not be requested now, or None when it may be."""
        now = now_ts()
        with self._lock:
            self._expire(now)
            entry = self._until.get(path)
        return None if entry is None else self._reason(*entry)

    def __len__(self) -> int:
        with self._lock:
            self._expire(now_ts())
            return len(self._until)

    def _expire(self, now: float) -> None:
        for path in [p for p, (until, _) in self._until.items() if until <= now]:
            del self._until[path]

    def _reason(self, until: float, detail: str) -> str:
        return f"deferred until {clock_label(until, self.zone)} ({detail})"
