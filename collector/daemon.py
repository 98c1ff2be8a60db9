"""The long-running collector: startup cycle, slot loop, trigger files, heartbeat, signals.

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
from collector.client import Interrupted
from collector.cycle import Cycle, format_cycle_line
from collector.loop import SlotLoop
from collector.mqtt import MqttPublisher
from collector.outage import PendingRuns, WriteFailed, write_error_cause
from collector.peak_step import PeakWatchStep
from shared.config import Settings
from shared.heartbeat import WRITE_EVERY, problems, run_deadline, write_heartbeat
from shared.timeutil import iso, now_ts, slot_start
from shared.triggers import (
    Trigger,
    claim,
    expected_start,
    pending_triggers,
    release,
    restore_claims,
)

log = logging.getLogger("collector")

TRIGGER_POLL = 1.0  # seconds between looks at DATA_DIR/triggers while idle
FLUSH_EVERY = 30.0  # seconds between tries to write outage runs while idle
STUCK_KEY = "collector-stuck"
# No manual cycle starts this close to a slot (a normal cycle takes 1-3 s); one that still
# runs over a slot's start is followed by that slot's cycle at once (SlotLoop.catch_up).
SLOT_GUARD = 15.0
MAX_CLAIM = 100  # request ids one run answers (the API queues at most MAX_PENDING)


class Daemon:
    def __init__(self, settings: Settings, cycle: Cycle, stop: threading.Event) -> None:
        self.settings = settings
        self.cycle = cycle
        self.cycle.on_phase = lambda phase: self.beat(state=phase, since=now_ts())
        self.stop = stop  # also the client's abort flag
        self.loop = SlotLoop(settings.poll_interval_minutes, self._scheduled)
        self.alerter = Alerter(
            settings, watch=self._watched, unwritten=lambda: self.outage.snapshot()
        )
        self.outage = PendingRuns()
        self.peak = PeakWatchStep(settings, cycle.db, lambda: self.alerter.push.targets)
        self._beat_lock = threading.Lock()
        self._alert_lock = threading.Lock()
        self._beat_failed = False
        self._last_flush_try = 0.0
        # A manual cycle is not started when the next slot begins within this many seconds.
        self.slot_guard = SLOT_GUARD
        started = now_ts()
        self.state: dict[str, Any] = {
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
                write_heartbeat(self.settings.heartbeat_path, self.state)
            except OSError as exc:
                if not self._beat_failed:  # once per outage, not every 10 s
                    log.warning(
                        "could not write the heartbeat %s: %s", self.settings.heartbeat_path, exc
                    )
                self._beat_failed = True
            else:
                self._beat_failed = False

    def _stuck(self, now: float) -> list[Condition]:
        """The watchdog's condition, from the same content the healthcheck reads."""
        with self._beat_lock:
            found = problems(self.state, now, self.settings.tz)
            busy = self.state.get("deadline_at") is not None
            since = self.state["since"] if busy else self.state["last_finished_at"]
            since = since or self.state["started_at"]
        if not found:
            return []
        return [Condition(STUCK_KEY, "collector stuck", since, found)]

    def _watched(self, now: float) -> list[Condition]:
        return self._stuck(now) + self.peak.conditions()

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
        # A scheduled cycle also answers the manual requests waiting for it.
        waiting = pending_triggers(self.settings.triggers_dir)[:MAX_CLAIM]
        self.run_cycle("scheduled", waiting)

    def run_cycle(self, trigger: str, requests: list[Trigger] | None = None) -> None:
        """One cycle, answering `requests`. Their files are claimed (renamed) now and removed
        once a run row names them: written now, or after a write outage. A collector that
        dies before leaves them to the next start (restore_claims), so none is lost."""
        claimed = {t.request_id: claim(t) for t in requests or []}
        ids = [request_id for request_id, path in claimed.items() if path is not None]
        files = [path for path in claimed.values() if path is not None]
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
            release(files)  # the run row names them, as interrupted
            log.info("cycle interrupted by shutdown; recorded as failed")
            return
        except WriteFailed as exc:
            exc.attempt.claimed = files
            dropped = self.outage.add(exc.attempt)
            if dropped is not None:  # its requests wait again rather than vanish
                restore_claims(self.settings.triggers_dir, dropped.claimed)
            log.error("import %s failed: %s%s", trigger, exc, _requests(ids))
            self._finished(finished_beat, "failed")
            return
        except Exception as exc:
            release(files)
            log.exception("cycle crashed; the collector keeps running")
            log.error("import %s failed: %s%s", trigger, write_error_cause(exc), _requests(ids))
            self._finished(finished_beat, "failed")
            return
        release(files)
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
        pending = pending_triggers(self.settings.triggers_dir)
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
        next_slot = self.loop.next_slot_ts()
        self.run_cycle("manual", taken)
        self.loop.catch_up(next_slot)

    # --- main loop ------------------------------------------------------------------------

    def run(self) -> int:
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
        restored = restore_claims(self.settings.triggers_dir)
        if restored:
            log.warning("answering %d request(s) a stopped collector had taken", len(restored))
        self.loop.mark_polled(slot_start(now_ts(), self.settings.poll_interval_minutes))
        self.run_cycle("startup")
        while not self.stop.is_set():
            self.loop.tick()
            if not self.stop.is_set():
                self._take_triggers()
            if len(self.outage) and now_ts() - self._last_flush_try > FLUSH_EVERY:
                self.flush_outage()
            self.stop.wait(min(TRIGGER_POLL, max(0.05, self.loop.seconds_until_next())))
        if self.mqtt is not None:
            self.mqtt.stop()
        self.beat(state="stopped", since=now_ts(), deadline_at=None)
        log.info("collector stopped")
        return 0


def _requests(ids: list[str]) -> str:
    if not ids:
        return ""
    return f" request {ids[0]}" if len(ids) == 1 else f" requests {', '.join(ids)}"
