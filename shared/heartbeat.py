"""The collector's heartbeat file: written by the collector, read by the API and healthcheck.

A JSON file in DATA_DIR, replaced atomically (temp file, then rename) so a reader never
sees half of it. It is fresh while younger than STALE_AFTER seconds.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from shared.timeutil import now_ts

STALE_AFTER = 90.0
WRITE_EVERY = 10.0


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
