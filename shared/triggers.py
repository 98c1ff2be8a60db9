"""Manual import requests: the API drops a file in DATA_DIR/triggers, the collector picks it up.

The file is written under a temporary name and renamed, so the collector never reads a
partial request. The request id is the file name; only safe characters are accepted.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import tempfile
from dataclasses import dataclass
from pathlib import Path

from shared.timeutil import now_ts

REQUEST_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


@dataclass(frozen=True)
class Trigger:
    request_id: str
    path: Path
    requested_at: float | None


def new_request_id() -> str:
    return secrets.token_hex(8)


def write_trigger(directory: Path, request_id: str | None = None) -> Trigger:
    request_id = request_id or new_request_id()
    if not REQUEST_ID.match(request_id):
        raise ValueError(f"request id {request_id!r} has characters other than A-Z a-z 0-9 _ -")
    directory.mkdir(parents=True, exist_ok=True)
    requested_at = now_ts()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    with os.fdopen(fd, "w") as handle:
        json.dump({"request_id": request_id, "requested_at": requested_at}, handle)
    target = directory / f"{request_id}.json"
    os.replace(tmp, target)
    return Trigger(request_id, target, requested_at)


def pending_triggers(directory: Path) -> list[Trigger]:
    """Requests waiting, oldest first. Temp files and foreign names are ignored."""
    found = []
    try:
        entries = list(directory.iterdir())
    except FileNotFoundError:
        return []
    for path in entries:
        if path.suffix != ".json" or not REQUEST_ID.match(path.stem):
            continue
        try:
            requested_at = json.loads(path.read_text()).get("requested_at")
        except (OSError, ValueError, AttributeError):
            requested_at = None
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        found.append((mtime, Trigger(path.stem, path, requested_at)))
    return [t for _, t in sorted(found, key=lambda pair: pair[0])]
