"""Import runs that could not be written (disk full, read-only file, I/O error).

While the database refuses writes, each failed attempt is kept in memory (bounded) and
written as a failed import_run row, with its real start and end and the cause, as soon as
the database takes writes again. So an outage shows in /imports, /api/status and the
failure alert afterwards, even though nothing could be recorded at the time.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from peewee import Database, DatabaseError

from shared.models import ImportRun

log = logging.getLogger("collector")

MAX_KEPT = 500  # failed attempts kept in memory; older ones are counted, not kept
ROLLBACK_NOISE = "cannot rollback"  # SQLite's follow-on error once it rolled back by itself


def write_error_cause(exc: BaseException) -> str:
    """The root cause of a failed write, in one line: `database or disk is full`.

    When a commit fails on a full disk, SQLite rolls back by itself and the library's own
    rollback then fails with "cannot rollback - no transaction is active"; that second
    error hides the first in its `__context__`. Walk the chain and name the first."""
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in seen:
        seen.append(current)
        current = current.__cause__ or current.__context__
    real = [e for e in seen if ROLLBACK_NOISE not in str(e)]
    root = real[-1] if real else exc
    return str(root).strip() or type(root).__name__


class WriteFailed(Exception):
    """The database refused a write of this run; `attempt` is what should have been written."""

    def __init__(self, attempt: UnwrittenRun, cause: str) -> None:
        super().__init__(f"cannot write the database: {cause}")
        self.attempt = attempt
        self.cause = cause


@dataclass
class UnwrittenRun:
    trigger: str
    slot_ts: int
    started_at: float
    finished_at: float
    message: str
    request_ids: list[str] = field(default_factory=list)
    run_id: int | None = None  # the row exists (left "running") when start_run got through
    claimed: list[Any] = field(default_factory=list)  # requests, released once written


def is_write_error(exc: BaseException) -> bool:
    return isinstance(exc, DatabaseError | OSError)


class PendingRuns:
    """Failed attempts waiting for a writable database, oldest first, at most MAX_KEPT.
    The main loop adds and flushes; the watchdog thread reads a snapshot for the alert."""

    def __init__(
        self, limit: int = MAX_KEPT, release: Callable[[list[Any]], None] | None = None
    ) -> None:
        self._release = release  # the channel's: the requests a written run answers are done
        self._kept: deque[UnwrittenRun] = deque(maxlen=limit)
        self._lock = threading.Lock()
        self.dropped = 0  # attempts beyond the cap: counted in the message of the next row

    def __len__(self) -> int:
        return len(self._kept)

    def snapshot(self) -> list[UnwrittenRun]:
        with self._lock:
            return list(self._kept)

    def add(self, attempt: UnwrittenRun) -> UnwrittenRun | None:
        """Keep an attempt; returns the oldest one when it had to make room for it."""
        with self._lock:
            oldest = None
            if len(self._kept) == self._kept.maxlen:
                self.dropped += 1
                oldest = self._kept[0]
            self._kept.append(attempt)
            return oldest

    def flush(self, db: Database) -> int:
        """Write every kept attempt in one transaction; 0 and nothing lost if it fails."""
        kept = self.snapshot()
        if not kept:
            return 0
        try:
            with db.atomic():
                for index, attempt in enumerate(kept):
                    note = ""
                    if index == 0 and self.dropped:
                        note = f" ({self.dropped} earlier failed attempts were not kept)"
                    _write(attempt, note)
        except Exception as exc:
            log.debug("outage runs not written yet: %s", write_error_cause(exc))
            return 0
        with self._lock:
            for _ in kept:
                self._kept.popleft()
            self.dropped = 0
        if self._release is not None:
            try:
                self._release([request for attempt in kept for request in attempt.claimed])
            except Exception as exc:  # they stay claimed: answered again later, not lost
                log.warning("answered requests not marked done: %s", write_error_cause(exc))
        return len(kept)


def _write(attempt: UnwrittenRun, note: str) -> None:
    values = {
        "status": "failed",
        "finished_at": attempt.finished_at,
        "message": attempt.message + note,
    }
    if attempt.run_id is not None:
        updated = (
            ImportRun.update(**values)
            .where((ImportRun.id == attempt.run_id) & (ImportRun.status == "running"))
            .execute()
        )
        if updated:
            return
        if ImportRun.get_or_none(ImportRun.id == attempt.run_id) is not None:
            return  # already closed (by the orphan sweep of a restart)
    ImportRun.create(
        trigger=attempt.trigger,
        request_id=attempt.request_ids[0] if attempt.request_ids else None,
        request_ids=json.dumps(attempt.request_ids) if attempt.request_ids else None,
        slot_ts=attempt.slot_ts,
        started_at=attempt.started_at,
        **values,
    )
