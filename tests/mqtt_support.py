"""A real MQTT broker (Debian's mosquitto) on 127.0.0.1 for tests, and a paho subscriber.

Without /usr/sbin/mosquitto the tests skip on a laptop; under CI (REQUIRE_MQTT=1) they fail.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from sim_process import free_port

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def mosquitto_or_skip() -> str:
    if Path(MOSQUITTO).is_file() and os.access(MOSQUITTO, os.X_OK):
        return MOSQUITTO
    if os.environ.get("REQUIRE_MQTT") == "1":
        pytest.fail("REQUIRE_MQTT=1 but mosquitto is not installed (apt-get install mosquitto)")
    pytest.skip("mosquitto is not installed")


@dataclass
class BrokerProcess:
    proc: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_broker(directory: Path, port: int | None = None) -> BrokerProcess:
    binary = mosquitto_or_skip()
    port = port or free_port()
    conf = directory / "mosquitto.conf"
    log = directory / "mosquitto.log"
    conf.write_text(
        f"listener {port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
        f"log_dest file {log}\nlog_type all\n"
    )
    proc = subprocess.Popen([binary, "-c", str(conf)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)  # fmt: skip
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return BrokerProcess(proc, port, log)
        except OSError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"mosquitto did not start: {log.read_text() if log.exists() else ''}")


@dataclass
class Subscriber:
    """Everything received under the subscribed filters: topic -> [(payload, retained)]."""

    client: paho.Client
    received: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def last(self, topic: str) -> tuple[str, bool] | None:
        with self.lock:
            found = self.received.get(topic)
            return found[-1] if found else None

    def wait_for(self, predicate, timeout: float = 30.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                value = predicate(self.received)
            if value:
                return value
            time.sleep(0.05)
        with self.lock:
            return predicate(self.received)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def subscribe(port: int, *filters: str) -> Subscriber:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"test-{free_port()}")
    sub = Subscriber(client)
    ready = threading.Event()

    def on_connect(c, _u, _f, _reason, _p):
        for topic in filters:
            c.subscribe(topic, qos=1)
        ready.set()

    def on_message(_c, _u, msg):
        with sub.lock:
            sub.received.setdefault(msg.topic, []).append((msg.payload.decode(), msg.retain))

    client.on_connect = on_connect
    client.on_message = on_message
    client.connect("127.0.0.1", port)
    client.loop_start()
    assert ready.wait(10), "subscriber could not connect"
    return sub
