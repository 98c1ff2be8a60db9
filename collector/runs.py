"""The import-run log: every poll attempt is a row, from start to outcome."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict

from collector.ingest import Counters
from shared.models import ImportRun
from shared.timeutil import now_ts

INTERRUPTED = "interrupted: the collector was stopped during the cycle"
ORPHANED = "the collector process ended before this run finished"


def start_run(
    trigger: str, slot_ts: int, request_ids: Sequence[str] = (), started_at: float | None = None
) -> ImportRun:
    """A run row in state "running"; `request_id` keeps the first request for old readers.
    `started_at` defaults to now (the demo's simulated history passes its own times)."""
    return ImportRun.create(
        trigger=trigger,
        request_id=request_ids[0] if request_ids else None,
        request_ids=json.dumps(list(request_ids)) if request_ids else None,
        slot_ts=slot_ts,
        started_at=now_ts() if started_at is None else started_at,
        status="running",
    )


def status_for(areas_ok: int, areas_total: int) -> str:
    if areas_total and areas_ok == areas_total:
        return "success"
    return "partial" if areas_ok else "failed"


def finish_run(
    run: ImportRun,
    *,
    status: str,
    areas_total: int = 0,
    areas_ok: int = 0,
    counters: Counters | None = None,
    area_errors: dict[str, str] | None = None,
    warnings: list[str] | None = None,
    message: str | None = None,
    clock_skew_seconds: float | None = None,
    finished_at: float | None = None,
) -> ImportRun:
    run.status = status
    run.finished_at = now_ts() if finished_at is None else finished_at
    run.areas_total = areas_total
    run.areas_ok = areas_ok
    for name, value in asdict(counters or Counters()).items():
        setattr(run, name, value)
    run.area_errors = json.dumps(area_errors or {}, sort_keys=True)
    run.warnings = json.dumps(warnings or [])
    run.message = message
    run.clock_skew_seconds = clock_skew_seconds
    run.save()
    return run


def slot_was_polled(slot_ts: int) -> bool:
    """Did a finished cycle poll this slot? Runs that ended by a stop, a crash or a lost
    lock carry a message and do not count: their slot is polled again at a takeover."""
    return (
        ImportRun.select()
        .where(
            (ImportRun.slot_ts == slot_ts)
            & (ImportRun.status != "running")
            & (ImportRun.message.is_null() | (ImportRun.status != "failed"))
        )
        .exists()
    )


def close_orphaned_runs() -> int:
    """Mark runs left 'running' by a dead process as failed. Call only while holding the lock."""
    return (
        ImportRun.update(status="failed", finished_at=now_ts(), message=ORPHANED)
        .where(ImportRun.status == "running")
        .execute()
    )
