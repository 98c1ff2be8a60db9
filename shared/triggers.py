"""Manual import requests: the API drops a file in DATA_DIR/triggers, the collector picks it up.

The file is written under a temporary name and renamed, so the collector never reads a
partial request. The request id is the file name; only safe characters are accepted.

Requests coalesce: the collector takes every pending file at once and one cycle answers
them all. At most MAX_PENDING files wait (the API answers 429 beyond that). Manual cycles
start at least MANUAL_GAP seconds apart, and not when the next scheduled slot begins within
a few seconds: the scheduled cycle then answers the pending requests. (A manual cycle that
still runs over a slot's start is followed by that slot's cycle, late but not skipped.)
`expected_start` states that rule once, for the collector and for the API's answer.

The same channel carries other requests for the collector, named by the file's `kind`:
'import' (the default, also for files without one), 'backup', 'test_email'. Only imports
coalesce into cycles; the others are tasks the collector runs one by one (collector.tasks).
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
MAX_PENDING = 20
MANUAL_GAP = 60.0  # default seconds between the starts of two manual cycles
KINDS = ("import", "backup", "test_email")


class TooManyPending(RuntimeError):
    pass


def expected_start(
    now: float,
    last_manual_start: float | None,
    next_slot: float | None,
    guard: float,
    gap: float = MANUAL_GAP,
) -> tuple[float, str]:
    """(when, "manual" | "scheduled"): when pending requests will be answered, and by which
    cycle. No manual cycle starts within `guard` seconds of the next slot; that slot's
    cycle answers instead."""
    start = max(now, (last_manual_start or 0.0) + gap)
    if next_slot is not None and next_slot - start < guard:
        return float(next_slot), "scheduled"
    return start, "manual"


CLAIMED = ".claimed-"  # a request a cycle took, kept until its run is recorded


def claim(trigger: Trigger) -> Path | None:
    """Take a request for a cycle: renamed, not removed, until its run is recorded (a rename
    needs no free space, and a collector that dies first leaves it to be answered later)."""
    target = trigger.path.with_name(CLAIMED + trigger.path.name)
    try:
        os.replace(trigger.path, target)
    except FileNotFoundError:
        return None
    return target


def release(claimed: list[Path]) -> None:
    """The run that answers these requests is recorded: forget them."""
    for path in claimed:
        path.unlink(missing_ok=True)


def restore_claims(directory: Path, only: list[Path] | None = None) -> list[str]:
    """Requests taken but never recorded (by a stopped collector, or `only` these): pending
    again."""
    restored = []
    found = only if only is not None else sorted(directory.glob(f"{CLAIMED}*.json"))
    for path in found:
        name = path.name.removeprefix(CLAIMED)
        try:
            os.replace(path, path.with_name(name))
        except FileNotFoundError:
            continue
        restored.append(name.removesuffix(".json"))
    return restored


def count_pending(directory: Path) -> int:
    """Requests waiting or taken but not yet recorded: the bound counts both."""
    try:
        return sum(1 for p in directory.iterdir() if p.suffix == ".json")
    except FileNotFoundError:
        return 0


@dataclass(frozen=True)
class Trigger:
    request_id: str
    path: Path
    requested_at: float | None
    kind: str = "import"


def new_request_id() -> str:
    return secrets.token_hex(8)


def write_trigger(
    directory: Path, request_id: str | None = None, limit: int | None = None, kind: str = "import"
) -> Trigger:
    """Queue a request. Raises TooManyPending when `limit` files already wait, OSError when
    the directory cannot be written (disk full, read-only)."""
    request_id = request_id or new_request_id()
    if not REQUEST_ID.match(request_id):
        raise ValueError(f"request id {request_id!r} has characters other than A-Z a-z 0-9 _ -")
    if kind not in KINDS:
        raise ValueError(f"request kind {kind!r} is not one of {', '.join(KINDS)}")
    if limit is not None and count_pending(directory) >= limit:
        raise TooManyPending(f"{limit} manual import requests are already waiting")
    directory.mkdir(parents=True, exist_ok=True)
    requested_at = now_ts()
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".", suffix=".tmp")
    target = directory / f"{request_id}.json"
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(
                {"request_id": request_id, "requested_at": requested_at, "kind": kind}, handle
            )
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)  # a full disk must not leave temp files behind
        raise
    return Trigger(request_id, target, requested_at, kind)


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
        if not path.is_file():  # reading a FIFO or a device would block the collector
            continue
        try:
            body = json.loads(path.read_text())
            requested_at, kind = body.get("requested_at"), body.get("kind") or "import"
        except (OSError, ValueError, AttributeError):
            requested_at, kind = None, "import"
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:
            continue
        found.append((mtime, Trigger(path.stem, path, requested_at, str(kind))))
    return [t for _, t in sorted(found, key=lambda pair: pair[0])]


def waiting_request(directory: Path, request_id: str) -> Trigger | None:
    """The request `request_id` while its file waits or is taken but not yet recorded (the
    API reports it queued), else None."""
    if not REQUEST_ID.match(request_id):
        return None
    for name in (f"{request_id}.json", f"{CLAIMED}{request_id}.json"):
        path = directory / name
        try:
            body = json.loads(path.read_text())
        except FileNotFoundError:
            continue
        except (OSError, ValueError):
            body = {}
        if not isinstance(body, dict):
            body = {}
        return Trigger(request_id, path, body.get("requested_at"), body.get("kind") or "import")
    return None
