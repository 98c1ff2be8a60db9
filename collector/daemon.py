"""The long-running collector: startup cycle, slot loop, requests, heartbeat, signals.

Which collector polls (active or standby, on PostgreSQL) is in collector.roles.

Signal handlers only set flags (the loop and the fetchers check them), so a SIGTERM
never interrupts a database write half-way: fetches in flight are abandoned, the run is
recorded as failed ("interrupted"), and the process exits 0 within a few seconds.

The heartbeat thread is also the watchdog: it keeps beating while a cycle hangs, and when
the heartbeat's content says the collector is stuck (a cycle past its deadline, or no
cycle finished for two slots) it raises the alert itself, with its own database
connection, because the main loop cannot.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from collector import __version__
from collector.alerts import Alerter, Condition
from collector.backup_alerts import backup_condition
from collector.client import Interrupted
from collector.cycle import Cycle, format_cycle_line
from collector.lease import LEASE_CHECK, TAKEOVER_POLL, FileLease, LeaseLost, PgLease, identity
from collector.loop import SlotLoop
from collector.mqtt import MqttPublisher
from collector.outage import PendingRuns, WriteFailed, write_error_cause
from collector.peak_step import PeakWatchStep
from collector.roles import MAX_CLAIM, Roles
from collector.tasks import TASK_KINDS, TaskRunner
from shared.channel import Channel, Request, open_channel
from shared.config import Settings
from shared.heartbeat import WRITE_EVERY, problems, run_deadline
from shared.settings_report import settings_report
from shared.timeutil import iso, now_ts
from shared.triggers import expected_start

log = logging.getLogger("collector")

TRIGGER_POLL = 1.0  # seconds between looks at DATA_DIR/triggers while idle
FLUSH_EVERY = 30.0  # seconds between tries to write outage runs while idle
STUCK_KEY = "collector-stuck"
# No manual cycle starts this close to a slot (a normal cycle takes 1-3 s); one that still
# runs over a slot's start is followed by that slot's cycle at once (SlotLoop.catch_up).
SLOT_GUARD = 15.0


class Daemon(Roles):
    def __init__(
        self,
        settings: Settings,
        cycle: Cycle,
        stop: threading.Event,
        lease: FileLease | PgLease | None = None,
        channel: Channel | None = None,
    ) -> None:
        self.settings = settings
        self.cycle = cycle
        self.cycle.on_phase = lambda phase: self.beat(state=phase, since=now_ts())
        self.stop = stop  # also the client's abort flag
        # Who may poll and where the heartbeat goes (DATA_DIR or tables: collector.lease);
        # requests come through the same kind of channel (shared.channel).
        self.lease = lease or FileLease(settings.lock_path, settings.heartbeat_path, held=True)
        self.channel = channel or open_channel(settings.database_url, settings.data_dir)
        self.cycle.guard = lambda: self.lease.guard(self.cycle.db)
        self.active = False
        self.loop = SlotLoop(settings.poll_interval_minutes, self._scheduled)
        self.alerter = Alerter(
            settings, watch=self._watch, unwritten=lambda: self.outage.snapshot()
        )
        self.outage = PendingRuns(release=self.channel.release)
        self.peak = PeakWatchStep(settings, cycle.db, lambda: self.alerter.push.targets)
        self._beat_lock = threading.Lock()
        self._alert_lock = threading.Lock()
        self._beat_failed = False
        self._last_flush_try = 0.0
        # A manual cycle is not started when the next slot begins within this many seconds.
        self.slot_guard = SLOT_GUARD
        started = now_ts()
        # Backups and test emails, in a thread of their own (collector.tasks).
        self.tasks = TaskRunner(
            settings, cycle.db, started, on_scheduled=lambda: self.check_alerts(wait=False)
        )
        self.state: dict[str, Any] = {
            **identity(self.lease),
            "role": "active" if self.lease.held else "standby",
            "role_since": started,
            "pid": os.getpid(),
            "version": __version__,
            "started_at": started,
            "interval_minutes": settings.poll_interval_minutes,
            "state": "starting",
            "since": started,
            "deadline_at": None,
            "last_cycle": None,
            "last_status": None,
            "last_finished_at": None,
            "last_manual_started_at": None,
            "unwritten_runs": 0,
            # What the API needs to say when a manual request will run (shared.triggers).
            "manual_gap_seconds": settings.manual_gap_seconds,
            "slot_guard_seconds": SLOT_GUARD,
            "next_slot": None,
            "backup_time": settings.backup_time,
            # The effective settings (secrets as set/unset), for the API's Settings page.
            "settings": settings_report(settings),
        }
        # MQTT (optional): state after each cycle; the broker's status goes into the heartbeat.
        self.mqtt = MqttPublisher.from_settings(settings, on_status=lambda s: self.beat(mqtt=s))

    # --- heartbeat and watchdog ------------------------------------------------------------

    def beat(self, **changes: Any) -> None:
        with self._beat_lock:
            self.state.update(changes)
            next_ts = self.loop.next_slot_ts()
            self.state["next_slot"] = next_ts
            self.state["next_slot_iso"] = iso(next_ts, self.settings.tz)
            self.state["unwritten_runs"] = len(self.outage)
            try:
                self.lease.write_heartbeat(self.state)
            except OSError as exc:
                if not self._beat_failed:  # once per outage, not every 10 s
                    log.warning("could not write the heartbeat: %s", exc)
                self._beat_failed = True
            else:
                self._beat_failed = False

    def _stuck(self, now: float) -> list[Condition]:
        """The watchdog's condition, from the same content the healthcheck reads."""
        with self._beat_lock:
            if self.state.get("role") != "active":
                return []  # a standby runs no cycles: nothing can be stuck
            found = problems(self.state, now, self.settings.tz)
            busy = self.state.get("deadline_at") is not None
            since = self.state["since"] if busy else self.state["last_finished_at"]
            since = since or self.state["started_at"]
        if not found:
            return []
        return [Condition(STUCK_KEY, "collector stuck", since, found)]

    def _watch(self, now: float) -> list[Condition]:
        """Conditions the Alerter adds to its own: a stuck collector, the daily backup, a
        failing peak watch."""
        backup = backup_condition(self.settings, now, self.tasks.started_at)
        found = self._stuck(now) + ([backup] if backup is not None else [])
        return found + self.peak.conditions()

    def _beat_forever(self) -> None:
        raised = False
        while not self.stop.wait(WRITE_EVERY):
            self.beat()
            stuck = bool(self._stuck(now_ts()))
            if stuck or raised:  # raise the alert, and once more to clear it
                raised = stuck
                self.check_alerts(wait=False)

    # --- cycles ---------------------------------------------------------------------------

    def _scheduled(self, _slot: int) -> None:
        if not self.lease.verify():
            return  # another collector polls now: the main loop stands by
        # A scheduled cycle also answers the manual requests waiting for it.
        self.run_cycle("scheduled", self._pending())

    def run_cycle(self, trigger: str, requests: list[Request] | None = None) -> None:
        """One cycle, answering `requests`. They are claimed now and released once a run row
        names them: written now, or after a write outage. A collector that dies before
        leaves them to the next active start (channel.restore), so none is lost."""
        try:
            files = self.channel.claim(requests or [], self.state["instance"])
        except Exception as exc:  # the requests wait for the next cycle
            log.warning("manual requests not claimed: %s", write_error_cause(exc))
            files = []
        ids = [r.request_id for r in files]
        self.flush_outage()
        started = now_ts()
        deadline = run_deadline(started, self.settings.poll_interval_minutes)
        changes: dict[str, Any] = {"state": "polling", "since": started, "deadline_at": deadline}
        if trigger == "manual":
            changes["last_manual_started_at"] = started
        self.beat(**changes)
        finished_beat: dict[str, Any] = {"state": "idle", "deadline_at": None}
        try:
            result = self.cycle.run(trigger, ids)
        except Interrupted:
            self._release(files)  # the run row names them, as interrupted
            log.info("cycle interrupted by shutdown; recorded as failed")
            return
        except LeaseLost as exc:
            self._restore(files)  # the collector that polls now answers them
            log.error("import %s abandoned: %s", trigger, exc)
            self._finished(finished_beat, "failed")
            return
        except WriteFailed as exc:
            exc.attempt.claimed = files
            dropped = self.outage.add(exc.attempt)
            if dropped is not None:  # its requests wait again rather than vanish
                self._restore(dropped.claimed)
            log.error("import %s failed: %s%s", trigger, exc, _requests(ids))
            self._finished(finished_beat, "failed")
            return
        except Exception as exc:
            self._release(files)
            log.exception("cycle crashed; the collector keeps running")
            log.error("import %s failed: %s%s", trigger, write_error_cause(exc), _requests(ids))
            self._finished(finished_beat, "failed")
            return
        self._release(files)
        # The line goes out before the heartbeat says the run finished: whoever sees the
        # finished run in the heartbeat finds its line in the log.
        line = format_cycle_line(result, trigger, self.settings.tz, self.loop.next_slot_ts())
        log.info(line + _requests(ids), extra={"at": result.started_at})
        finished_beat["last_cycle"] = {
            "run_id": result.run_id,
            "trigger": trigger,
            "status": result.status,
            "started_at": result.started_at,
            "finished_at": result.started_at + result.duration,
            "request_ids": ids,
        }
        self._finished(finished_beat, result.status)

    def _finished(self, changes: dict[str, Any], status: str) -> None:
        now = now_ts()
        self.beat(**changes, since=now, last_status=status, last_finished_at=now)
        self.check_peak_watch()
        self.check_alerts()
        self.publish_state()

    def flush_outage(self) -> None:
        """Write the runs a write error kept in memory, once the database takes writes."""
        self._last_flush_try = now_ts()
        if not len(self.outage):
            return
        written = self.outage.flush(self.cycle.db)
        if written:
            log.warning(
                "recorded %d import run(s) that could not be written during a database outage",
                written,
            )
            self.beat()
            self.check_alerts()

    def check_alerts(self, wait: bool = True) -> None:
        """Alerting must never stop collection: any error here is logged and dropped.
        Two threads may check (the loop, the watchdog): one at a time."""
        if not self._alert_lock.acquire(timeout=-1 if wait else 1.0):
            return
        try:
            self.cycle.db.connect(reuse_if_open=True)  # the watchdog's own connection
            with self.cycle.db.atomic():
                self.alerter.check()
        except Exception as exc:
            log.error("alert check failed (%s); collection goes on", write_error_cause(exc))
        finally:
            self._alert_lock.release()

    def check_peak_watch(self) -> None:
        """The peak watch after each cycle (collector.peak_step); never raises."""
        with self._alert_lock:
            self.peak.run()

    def publish_state(self) -> None:
        """Hand the state to the MQTT publisher's thread: returns at once, never raises."""
        if self.mqtt is not None:
            self.mqtt.after_cycle()

    def _take_triggers(self) -> None:
        self._take_tasks()  # backups, test emails: not import cycles
        pending = self._pending()
        if not pending:
            return
        now = now_ts()
        at, by = expected_start(
            now,
            self.state["last_manual_started_at"],
            self.loop.next_slot_ts(),
            self.slot_guard,
            self.settings.manual_gap_seconds,
        )
        if by != "manual" or at > now:
            return  # the rate limit, or the next slot answers them
        taken = pending[:MAX_CLAIM]
        log.info("manual import requested (%s)", _requests([t.request_id for t in taken]).strip())
        if not self.lease.verify():
            return
        next_slot = self.loop.next_slot_ts()
        self.run_cycle("manual", taken)
        self.loop.catch_up(next_slot)

    def _take_tasks(self) -> None:
        try:
            waiting = self.channel.pending(kinds=TASK_KINDS, limit=MAX_CLAIM)
        except Exception as exc:  # the database is down: they wait
            log.debug("backup/test-email requests not read: %s", write_error_cause(exc))
            return
        self.tasks.take(waiting, self.channel, self.state["instance"])

    def _become_active(self) -> None:
        self.tasks.start()  # closes what a stopped holder left running
        super()._become_active()

    # --- main loop ------------------------------------------------------------------------

    def run(self) -> int:
        if not self.lease.held:
            self.state.update(state="standby")
        self.beat()
        if self.mqtt is not None:
            self.mqtt.start()
        threading.Thread(target=self._beat_forever, name="heartbeat", daemon=True).start()
        log.info(
            "collector %s started: every %d min on the UTC clock, database %s",
            __version__,
            self.settings.poll_interval_minutes,
            self.settings.database_url,
        )
        while not self.stop.is_set():
            if not self.lease.verify(every=LEASE_CHECK):
                self._stand_by()
                if not self.lease.try_acquire():
                    self.stop.wait(TAKEOVER_POLL)
                    continue
            if not self.active:
                self._become_active()
                continue
            self.loop.tick()
            if not self.stop.is_set():
                self._take_triggers()
                self.tasks.check_schedule()
            if len(self.outage) and now_ts() - self._last_flush_try > FLUSH_EVERY:
                self.flush_outage()
            self.stop.wait(min(TRIGGER_POLL, max(0.05, self.loop.seconds_until_next())))
        if self.mqtt is not None:
            self.mqtt.stop()
        self.tasks.stop()
        self.beat(state="stopped", since=now_ts(), deadline_at=None)
        log.info("collector stopped")
        return 0


def _requests(ids: list[str]) -> str:
    if not ids:
        return ""
    return f" request {ids[0]}" if len(ids) == 1 else f" requests {', '.join(ids)}"
