"""MQTT publisher (MQTT_URL): retained state after every cycle, Home Assistant discovery.

Never in the way of a cycle: the daemon hands over the state (`after_cycle`) into a slot
that holds only the latest one, and a worker thread publishes it. paho's own network
thread connects with a bounded timeout and reconnects with backoff (1 s doubling to 2 min)
while the broker is down. Each connection announces `online` and publishes the discovery
configs once; the last will turns availability `offline` when the collector dies. The
broker's status goes to `on_status` (the daemon puts it in the heartbeat, /api/status
shows it).
"""

from __future__ import annotations

import contextlib
import logging
import ssl
import threading
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import paho.mqtt.client as paho

from collector.mqtt_payloads import discovery_messages, read_state, state_messages
from shared.config import Settings
from shared.timeutil import now_ts

log = logging.getLogger("collector")

CONNECT_TIMEOUT = 10.0  # TCP connect and CONNACK
PUBLISH_TIMEOUT = 10.0  # all of one state's messages acknowledged (QoS 1)
MAX_QUEUED = 200  # paho's outgoing queue; a state is about 25 messages
BACKOFF = (1, 120)  # seconds: first retry, longest wait


class Broker:
    """MQTT_URL taken apart; `label` is safe to log and show (no credentials)."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.tls = parts.scheme == "mqtts"
        self.host = parts.hostname or ""
        self.port = parts.port or (8883 if self.tls else 1883)
        self.username = unquote(parts.username) if parts.username else None
        self.password = unquote(parts.password) if parts.password else None
        self.label = f"{parts.scheme}://{self.host}:{self.port}"


def make_client(broker: Broker, will_topic: str | None = None) -> paho.Client:
    client = paho.Client(
        paho.CallbackAPIVersion.VERSION2,
        client_id=f"kamo-load-logger-{uuid.uuid4().hex[:8]}",
        protocol=paho.MQTTv311,
    )
    if broker.username:
        client.username_pw_set(broker.username, broker.password)
    if broker.tls:
        client.tls_set_context(ssl.create_default_context())
    if will_topic:
        client.will_set(will_topic, "offline", qos=1, retain=True)
    client.connect_timeout = CONNECT_TIMEOUT
    client.reconnect_delay_set(*BACKOFF)
    client.max_queued_messages_set(MAX_QUEUED)
    return client


class MqttPublisher:
    def __init__(
        self, settings: Settings, on_status: Callable[[dict[str, Any]], None] | None = None
    ) -> None:
        self.settings = settings
        self.prefix = settings.mqtt_prefix
        self.availability = f"{self.prefix}/status"
        self.broker = Broker(settings.mqtt_url or "")
        self.on_status = on_status
        self.client = make_client(self.broker, self.availability)
        self.client.on_connect = self._connected
        self.client.on_connect_fail = self._connect_failed
        self.client.on_disconnect = self._disconnected
        self._lock = threading.Lock()
        self._latest: dict[str, Any] | None = None  # the one-slot queue
        self._dirty = False
        self._announced = False  # `online` and discovery sent on this connection
        self._discovered: set[str] = set()
        self._is_connected = threading.Event()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._worker = threading.Thread(target=self._work, name="mqtt", daemon=True)
        self.status: dict[str, Any] = {
            "broker": self.broker.label,
            "state": "connecting",
            "since": now_ts(),
            "last_error": None,
            "failed_attempts": 0,
            "last_published_at": None,
        }

    @classmethod
    def from_settings(
        cls, settings: Settings, on_status: Callable[[dict[str, Any]], None] | None = None
    ) -> MqttPublisher | None:
        return cls(settings, on_status) if settings.mqtt_url else None

    # --- status -------------------------------------------------------------------------------

    def _set_status(self, **changes: Any) -> None:
        with self._lock:
            if "state" in changes and changes["state"] != self.status["state"]:
                changes.setdefault("since", now_ts())
            self.status.update(changes)
            snapshot = dict(self.status)
        if self.on_status is not None:
            try:
                self.on_status(snapshot)
            except Exception:
                log.exception("could not record the MQTT status")

    def _connected(self, _client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            self._failed(f"broker refused the connection: {reason}")
            return
        log.info("MQTT connected to %s", self.broker.label)
        with self._lock:
            self._announced = False
            self._discovered = set()
            self._dirty = self._latest is not None
        self._is_connected.set()
        self._set_status(state="connected", last_error=None, failed_attempts=0)
        self._wake.set()

    def _connect_failed(self, _client, _userdata) -> None:
        self._failed("cannot connect")

    def _disconnected(self, _client, _userdata, _flags, reason, _properties) -> None:
        self._is_connected.clear()
        if self._stop.is_set():
            return
        self._failed(f"connection lost: {reason}")

    def _failed(self, reason: str) -> None:
        self._is_connected.clear()
        with self._lock:
            attempts = self.status["failed_attempts"] + 1
        if attempts == 1:  # once per outage in the log; /api/status has the rest
            log.warning("MQTT broker %s: %s; retrying with backoff", self.broker.label, reason)
        self._set_status(state="down", last_error=reason, failed_attempts=attempts)

    # --- the daemon's side --------------------------------------------------------------------

    def start(self) -> None:
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=60)
        self.client.loop_start()
        self._worker.start()

    def after_cycle(self) -> None:
        """Read the state now (this thread owns the database) and hand it to the worker."""
        try:
            state = read_state(self.settings)
        except Exception:
            log.exception("could not read the state for MQTT; skipped this cycle")
            return
        with self._lock:
            self._latest, self._dirty = state, True
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """A clean stop says `offline` itself (the broker sends the will only on a loss)."""
        self._stop.set()
        self._wake.set()
        self._worker.join(timeout)
        if self._is_connected.is_set():
            info = self.client.publish(self.availability, "offline", qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout)
        self.client.disconnect()
        self.client.loop_stop()

    # --- the worker ---------------------------------------------------------------------------

    def _work(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            self._wake.clear()
            if self._stop.is_set() or not self._is_connected.is_set():
                continue
            try:
                self._publish_due()
            except Exception as exc:  # e.g. the connection dropped mid-way; next wake retries
                log.warning("MQTT publish to %s failed: %s", self.broker.label, exc)
                self._set_status(last_error=f"publish failed: {exc}")

    def _publish_due(self) -> None:
        with self._lock:
            state, dirty, announced = self._latest, self._dirty, self._announced
            self._dirty = False
        messages: list[tuple[str, str]] = []
        if not announced:
            messages.append((self.availability, "online"))
        if state is not None and dirty:
            if self.settings.mqtt_discovery:
                configs = discovery_messages(
                    self.prefix, self.settings.mqtt_discovery_prefix, state["areas"]
                )
                messages += [(t, p) for t, p in configs if t not in self._discovered]
            messages += state_messages(self.prefix, state)
        if not messages:
            return
        try:
            self._send(messages)
        except Exception:
            with self._lock:
                self._dirty = self._dirty or dirty  # try again on the next wake
            raise
        with self._lock:
            self._announced = True
        self._discovered.update(t for t, _ in messages if t.endswith("/config"))
        if dirty:
            self._set_status(last_published_at=now_ts())

    def _send(self, messages: list[tuple[str, str]]) -> None:
        """Publish retained at QoS 1 and wait, within PUBLISH_TIMEOUT, for every ack."""
        deadline = now_ts() + PUBLISH_TIMEOUT
        infos = []
        for topic, payload in messages:
            info = self.client.publish(topic, payload, qos=1, retain=True)
            if info.rc != paho.MQTT_ERR_SUCCESS:
                raise RuntimeError(paho.error_string(info.rc))
            infos.append(info)
        for info in infos:
            info.wait_for_publish(max(0.1, deadline - now_ts()))
            if not info.is_published():
                raise RuntimeError(f"no acknowledgement within {PUBLISH_TIMEOUT:.0f} s")


def publish_test(settings: Settings, timeout: float = CONNECT_TIMEOUT) -> str:
    """One non-retained test message to <prefix>/test; returns what happened, raises
    RuntimeError with the reason when it did not work (test-notify)."""
    broker = Broker(settings.mqtt_url or "")
    client = make_client(broker)
    acked = threading.Event()
    refused: list[str] = []

    def connected(_c, _u, _f, reason, _p) -> None:
        if reason.is_failure:
            refused.append(str(reason))
        acked.set()

    client.on_connect = connected
    try:
        client.connect(broker.host, broker.port, keepalive=30)
    except OSError as exc:
        raise RuntimeError(f"cannot connect to {broker.label}: {exc}") from None
    client.loop_start()
    try:
        if not acked.wait(timeout) or refused:
            why = refused[0] if refused else f"no answer within {timeout:.0f} s"
            raise RuntimeError(f"{broker.label} refused: {why}")
        topic = f"{settings.mqtt_prefix}/test"
        info = client.publish(topic, "test message from KAMO Load Logger", qos=1)
        info.wait_for_publish(timeout)
        if not info.is_published():
            raise RuntimeError(f"{broker.label}: no acknowledgement within {timeout:.0f} s")
        return f"published to {topic} on {broker.label}"
    finally:
        client.disconnect()
        client.loop_stop()
