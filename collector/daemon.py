"""The long-running collector: startup cycle, slot loop, trigger files, heartbeat, signals.

Signal handlers only set flags (the loop and the fetchers check them), so a SIGTERM
never interrupts a database write half-way: fetches in flight are abandoned, the run is
recorded as failed ("interrupted"), and the process exits 0 within a few seconds.
"""

from __future__ import annotations

import logging
import os
import threading
from typing import Any

from collector import __version__
from collector.alerts import Alerter
from collector.client import Interrupted
from collector.cycle import Cycle, format_cycle_line
from collector.loop import SlotLoop
from collector.mqtt import MqttPublisher
from shared.config import Settings
from shared.heartbeat import WRITE_EVERY, write_heartbeat
from shared.timeutil import iso, now_ts, slot_start
from shared.triggers import pending_triggers

log = logging.getLogger("collector")

TRIGGER_POLL = 1.0  # seconds between looks at DATA_DIR/triggers while idle


class Daemon:
    def __init__(self, settings: Settings, cycle: Cycle, stop: threading.Event) -> None:
        self.settings = settings
        self.cycle = cycle
        self.stop = stop  # also the client's abort flag
        self.loop = SlotLoop(settings.poll_interval_minutes, self._scheduled)
        self.alerter = Alerter(settings)
        self._beat_lock = threading.Lock()
        self.state: dict[str, Any] = {
            "pid": os.getpid(),
            "version": __version__,
            "started_at": now_ts(),
            "interval_minutes": settings.poll_interval_minutes,
            "state": "starting",
            "last_cycle": None,
            "last_status": None,
            "next_slot": None,
        }
        # MQTT (optional): state after each cycle; the broker's status goes into the heartbeat.
        self.mqtt = MqttPublisher.from_settings(settings, on_status=lambda s: self.beat(mqtt=s))

    # --- heartbeat -----------------------------------------------------------

    def beat(self, **changes: Any) -> None:
        with self._beat_lock:
            self.state.update(changes)
            next_ts = self.loop.next_slot_ts()
            self.state["next_slot"] = next_ts
            self.state["next_slot_iso"] = iso(next_ts, self.settings.tz)
            try:
                write_heartbeat(self.settings.heartbeat_path, self.state)
            except OSError as exc:
                log.warning(
                    "could not write the heartbeat %s: %s", self.settings.heartbeat_path, exc
                )

    def _beat_forever(self) -> None:
        while not self.stop.wait(WRITE_EVERY):
            self.beat()

    # --- cycles ---------------------------------------------------------------------------

    def _scheduled(self, _slot: int) -> None:
        self.run_cycle("scheduled")

    def run_cycle(self, trigger: str, request_id: str | None = None) -> None:
        self.beat(state="polling")
        try:
            result = self.cycle.run(trigger, request_id)
        except Interrupted:
            log.info("cycle interrupted by shutdown; recorded as failed")
            return
        except Exception:
            log.exception("cycle crashed; the collector keeps running")
            self.beat(state="idle", last_status="failed")
            self.check_alerts()
            self.publish_state()
            return
        finished = result.started_at + result.duration
        last = {
            "run_id": result.run_id,
            "trigger": trigger,
            "status": result.status,
            "started_at": result.started_at,
            "finished_at": finished,
        }
        self.beat(state="idle", last_cycle=last, last_status=result.status)
        self.check_alerts()
        self.publish_state()
        line = format_cycle_line(result, trigger, self.settings.tz, self.loop.next_slot_ts())
        if request_id:
            line += f" request {request_id}"
        log.info(line, extra={"at": result.started_at})

    def check_alerts(self) -> None:
        """Alerting must never stop collection: any error here is logged and dropped."""
        try:
            with self.cycle.db.atomic():
                self.alerter.check()
        except Exception:
            log.exception("alert check failed; collection goes on")

    def publish_state(self) -> None:
        """Hand the state to the MQTT publisher's thread: returns at once, never raises."""
        if self.mqtt is not None:
            self.mqtt.after_cycle()

    def _take_triggers(self) -> None:
        for trigger in pending_triggers(self.settings.triggers_dir):
            if self.stop.is_set():
                return
            trigger.path.unlink(missing_ok=True)  # claimed: a crash must not replay it forever
            log.info("manual import requested (request %s)", trigger.request_id)
            self.run_cycle("manual", trigger.request_id)

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
        self.loop.mark_polled(slot_start(now_ts(), self.settings.poll_interval_minutes))
        self.run_cycle("startup")
        while not self.stop.is_set():
            self.loop.tick()
            if not self.stop.is_set():
                self._take_triggers()
            self.stop.wait(min(TRIGGER_POLL, max(0.05, self.loop.seconds_until_next())))
        if self.mqtt is not None:
            self.mqtt.stop()
        self.beat(state="stopped")
        log.info("collector stopped")
        return 0
