"""The collector's heartbeat file: written by the collector, read by the API and healthcheck.

A JSON file in DATA_DIR, replaced atomically (temp file, then rename) so a reader never
sees half of it. It is fresh while younger than STALE_AFTER seconds.

A fresh file is not enough: the heartbeat thread keeps writing while a cycle hangs. So the
file also says what the collector is doing (`state`: polling, writing, idle) since when,
the `deadline_at` of a running cycle, and when the last cycle finished; `problems()` reads
that content, and the healthcheck, /api/health and the collector's own alert all use it.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from shared.config import cycle_deadline_seconds
from shared.timeutil import iso, now_ts

STALE_AFTER = 90.0
WRITE_EVERY = 10.0
WRITE_MARGIN = 15.0  # seconds past the fetch deadline a cycle may take to store its data
STALLED_SLOTS = 2  # no cycle finished for this many slots (plus one deadline): stuck
BUSY_STATES = ("polling", "writing")
UTC_ZONE = ZoneInfo("UTC")


def run_deadline(started_at: float, interval_minutes: int) -> float:
    """When a cycle that started at `started_at` is overdue: fetch deadline plus the write."""
    return started_at + cycle_deadline_seconds(interval_minutes) + WRITE_MARGIN


def problems(
    beat: dict[str, Any], now: float | None = None, zone: ZoneInfo = UTC_ZONE
) -> list[str]:
    """Why a collector with this (fresh) heartbeat is not collecting; [] when it is."""
    now = now_ts() if now is None else now

    def _at(ts: object) -> str:
        return str(iso(ts, zone)) if isinstance(ts, int | float) else "unknown"

    found = []
    deadline = beat.get("deadline_at")
    if beat.get("state") in BUSY_STATES and isinstance(deadline, int | float) and now > deadline:
        found.append(
            f"a cycle has been {beat['state']} since {_at(beat.get('since'))}, "
            f"past its deadline {_at(deadline)}"
        )
    interval = beat.get("interval_minutes")
    last = beat.get("last_finished_at") or beat.get("started_at")
    if isinstance(interval, int) and interval > 0 and isinstance(last, int | float):
        limit = STALLED_SLOTS * interval * 60 + cycle_deadline_seconds(interval) + WRITE_MARGIN
        if now - last > limit:
            found.append(f"no cycle has finished since {_at(last)} ({STALLED_SLOTS} slots)")
    return found


def write_heartbeat(path: Path, state: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = dict(state, updated_at=now_ts())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".heartbeat-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(payload, handle)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def read_heartbeat(path: Path) -> dict[str, Any] | None:
    """The last heartbeat, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def collector_state(path: Path, now: float | None = None) -> tuple[str, dict[str, Any] | None]:
    """('running' | 'stale' | 'never', heartbeat) as the API and healthcheck report it."""
    beat = read_heartbeat(path)
    if beat is None:
        return "never", None
    updated = beat.get("updated_at")
    age = (
        (now if now is not None else now_ts()) - updated
        if isinstance(updated, int | float)
        else None
    )
    if age is None or age > STALE_AFTER or beat.get("state") == "stopped":
        return "stale", beat
    return "running", beat
