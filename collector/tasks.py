"""Requests the collector carries out besides imports: backups and test emails.

They arrive through the manual-import channel (shared.triggers, `kind` 'backup' or
'test_email'), or from the daily schedule (BACKUP_TIME). One worker thread runs them one at
a time, so a 40-second backup or a slow SMTP server never delays a poll. Each has a row in
`collector_task`: running, then done or failed with a message; while its file waits, the
API reports it queued. Rows a stopped collector left running are closed at start.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from peewee import Database, fn

from collector.backup import back_up, database_file
from collector.backup_files import Failed, Refused
from collector.notify import NotifyError, send_mail, test_mail
from shared.channel import Channel, Request
from shared.config import Settings
from shared.db import is_sqlite_url
from shared.models import CollectorTask
from shared.timeutil import daily_time_before, iso, now_ts

log = logging.getLogger("collector")

TASK_KINDS = ("backup", "test_email")
MAX_QUEUED = 20  # requests taken but not started (the API refuses beyond its own limit)
KEEP_DAYS = 90  # task rows older than this are deleted
RETRY_PAUSE = 30.0  # seconds before requests are taken again after one could not be recorded
SCHEDULED = "scheduled-"  # request ids of scheduled backups: scheduled-2026-11-26
ORPHANED = "the collector stopped before this request finished"


@dataclass(frozen=True)
class Job:
    request_id: str
    kind: str
    requested_at: float
    made_by: str = "hand"
    claimed: Request | None = None  # released once the running row is written


def scheduled_backup_due(
    now: float, settings: Settings, last_target: float | None, started_at: float
) -> int | None:
    """The BACKUP_TIME instant a scheduled backup is due for now, or None.

    Due once per local day, at or after BACKUP_TIME. A collector that was off at that time
    makes up for it when it starts, unless it never made a scheduled backup before (a new
    setting starts with the next BACKUP_TIME, not at once)."""
    if settings.backup_time is None or not is_sqlite_url(settings.database_url):
        return None
    target = daily_time_before(now, settings.tz, settings.backup_time)
    if last_target is not None and last_target >= target:
        return None
    if last_target is None and target < started_at:
        return None
    return target


def last_scheduled_target() -> float | None:
    """The BACKUP_TIME instant of the newest scheduled backup attempt (any outcome)."""
    return (
        CollectorTask.select(fn.MAX(CollectorTask.requested_at))
        .where(CollectorTask.request_id.startswith(SCHEDULED))
        .scalar()
    )


def close_orphaned_tasks() -> int:
    return (
        CollectorTask.update(status="failed", finished_at=now_ts(), message=ORPHANED)
        .where(CollectorTask.status.in_(["queued", "running"]))
        .execute()
    )


class TaskRunner:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        started_at: float,
        on_scheduled: Callable[[], None] | None = None,
    ) -> None:
        self.settings = settings
        self.on_scheduled = on_scheduled  # after a scheduled backup: the alert check
        self.db = db
        self.started_at = started_at
        self.jobs: queue.Queue[Job | None] = queue.Queue(maxsize=MAX_QUEUED)
        self._last_target: float | None = None
        self._thread: threading.Thread | None = None
        self._pause_until = 0.0  # after a request could not be recorded (database refusing)
        self._channel: Channel | None = None

    def start(self) -> None:
        """Close what a stopped collector left, and start the worker (once). Called each
        time this collector becomes the active one."""
        try:
            with self.db.atomic():
                closed = close_orphaned_tasks()
                self._last_target = last_scheduled_target()
        except Exception as exc:  # a database refusing writes must not stop collection
            log.error("could not close unfinished backup/test-email requests: %s", exc)
            closed = 0
        if closed:
            log.warning("closed %d backup/test-email request(s) a stopped collector left", closed)
        if self._thread is None:
            self._thread = threading.Thread(target=self._work, name="tasks", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        # A full queue: the thread is a daemon and ends with the process.
        with contextlib.suppress(queue.Full):
            self.jobs.put_nowait(None)

    # --- main loop side -------------------------------------------------------------------

    def take(self, requests: list[Request], channel: Channel, instance: str) -> None:
        """Hand the task requests among `requests` to the worker (claimed meanwhile)."""
        if now_ts() < self._pause_until:
            return
        self._channel = channel
        for trigger in requests:
            if trigger.kind not in TASK_KINDS or self.jobs.full():
                continue
            claimed = channel.claim([trigger], instance)
            if not claimed:
                continue
            requested = trigger.requested_at or now_ts()
            job = Job(trigger.request_id, trigger.kind, requested, claimed=claimed[0])
            self.jobs.put_nowait(job)
            log.info(
                "%s requested (request %s)", trigger.kind.replace("_", " "), trigger.request_id
            )

    def check_schedule(self, now: float | None = None) -> None:
        now = now_ts() if now is None else now
        target = scheduled_backup_due(now, self.settings, self._last_target, self.started_at)
        if target is None or self.jobs.full():
            return
        self._last_target = target
        day = iso(target, self.settings.tz)[:10]
        self.jobs.put_nowait(Job(f"{SCHEDULED}{day}", "backup", float(target), "schedule"))

    # --- worker thread --------------------------------------------------------------------

    def _work(self) -> None:
        while (job := self.jobs.get()) is not None:
            try:
                self.db.connect(reuse_if_open=True)
                self._run(job)
            except Exception:
                log.exception("request %s could not be recorded; the collector goes on", job)
                if job.claimed is not None and self._channel is not None:
                    self._pause_until = now_ts() + RETRY_PAUSE  # pending again, after a pause
                    with contextlib.suppress(Exception):  # else put back at the next start
                        self._channel.restore([job.claimed])

    def _run(self, job: Job) -> None:
        started = now_ts()
        with self.db.atomic():
            CollectorTask.insert(
                request_id=job.request_id,
                kind=job.kind,
                requested_at=job.requested_at,
                started_at=started,
                finished_at=None,
                status="running",
                message="",
                detail="",
            ).on_conflict(  # a request restored after a crash runs again (SQLite and PostgreSQL)
                conflict_target=[CollectorTask.request_id],
                preserve=[
                    CollectorTask.kind,
                    CollectorTask.requested_at,
                    CollectorTask.started_at,
                    CollectorTask.finished_at,
                    CollectorTask.status,
                    CollectorTask.message,
                    CollectorTask.detail,
                ],
            ).execute()
        if job.claimed is not None and self._channel is not None:
            self._channel.release([job.claimed])  # the row is the record now
        ok, message, detail = self._carry_out(job)
        with self.db.atomic():
            CollectorTask.update(
                status="done" if ok else "failed",
                finished_at=now_ts(),
                message=message,
                detail=json.dumps(detail),
            ).where(CollectorTask.request_id == job.request_id).execute()
            CollectorTask.delete().where(
                CollectorTask.requested_at < now_ts() - KEEP_DAYS * 86400
            ).execute()
        what = "scheduled backup" if job.made_by == "schedule" else job.kind.replace("_", " ")
        log_line = log.info if ok else log.error
        log_line(
            "%s %s: %s (request %s)", what, "done" if ok else "failed", message, job.request_id
        )
        if job.made_by == "schedule" and self.on_scheduled is not None:
            self.on_scheduled()

    def _carry_out(self, job: Job) -> tuple[bool, str, dict[str, Any]]:
        if job.kind not in TASK_KINDS:
            return False, f"unknown request kind {job.kind!r}", {}
        if job.kind == "test_email":
            try:
                reply = send_mail(self.settings, test_mail(self.settings))
            except NotifyError as exc:
                return False, str(exc), {}
            to = self.settings.notification_email
            return True, f"sent to {to}; the server answered: {reply}", {"smtp_reply": reply}
        try:
            report = back_up(database_file(self.settings), self.settings, job.made_by)
        except (Refused, Failed, OSError, sqlite3.Error) as exc:
            return False, str(exc), {"made_by": job.made_by}
        detail = {
            "file": report.made.path.name,
            "made_by": job.made_by,
            "deleted": [p.name for p in report.deleted],
        }
        return True, "; ".join(report.lines), detail
