"""The KAMO simulator's HTTP server: the routes, KAMO's answer shapes, and the dispatch of fault
modes onto each answer. The command line is kamo_simulator.py. Standard library only.
"""

from __future__ import annotations

import json
import random
import re
import sys
import threading
import time
from dataclasses import asdict
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also importable by path, not only run
from kamo_sim_faults import HTML_ERROR_PAGE, TIMEOUT_FAULT_SECONDS, apply_fault  # noqa: E402
from kamo_sim_forecast import (  # noqa: E402
    day_ahead_series,
    forecast_series,
    relabelled,
    text_series,
)
from kamo_sim_hostile import (  # noqa: E402
    TRANSPORT_MODES,
    VALUE_MODES,
    HostileWriter,
    hostile_value_body,
)
from kamo_sim_model import AREA_IDS, KamoModel, parse_instant  # noqa: E402
from kamo_sim_settings import Settings, peak_of, validate_settings  # noqa: E402

AREA_PATH = re.compile(r"^/api/(areagrid|arealoadtable)/(\d+)$")
JSON_TYPE = "application/json; charset=utf-8"


class Simulator(ThreadingHTTPServer):
    """The HTTP server plus the state every handler thread shares."""

    daemon_threads = True  # a sleeping (timeout fault) handler must never hold up exit

    def __init__(
        self,
        address: tuple[str, int],
        seed: int,
        settings: Settings,
        fixtures: Path | None,
        quiet: bool,
    ) -> None:
        super().__init__(address, Handler)
        self.seed = seed
        self.model = KamoModel()
        self.fixtures = fixtures
        self.quiet = quiet
        self.lock = threading.Lock()
        self.settings = settings
        self.rng = random.Random(seed)  # error-rate draws, deterministic per seed
        self.stopping = threading.Event()  # wakes sleeping handlers at shutdown

    def snapshot(self) -> Settings:
        with self.lock:
            return Settings(**asdict(self.settings))

    def update(self, changes: dict) -> Settings:
        with self.lock:
            self.settings = validate_settings(self.settings, changes)
            self.model.peak = peak_of(self.settings)
            return Settings(**asdict(self.settings))

    def draw_error(self, rate: float) -> bool:
        with self.lock:
            return rate > 0 and self.rng.random() < rate

    def data_now(self, settings: Settings) -> datetime:
        return parse_instant(settings.now) if settings.now else datetime.now(UTC)

    def extra_series(self, area: int, settings: Settings) -> tuple[dict, dict]:
        """The Forecast and Day Ahead series the unknown-series fault adds around Actual."""
        now = self.data_now(settings)
        forecast = forecast_series(self.model, self.seed, area, now)
        return forecast, day_ahead_series(self.model, self.seed, area, now)

    def areagrid(self, area: int, settings: Settings, fault: str | None) -> dict:
        """Actual, then the forecast (unless switched off); the forecast faults apply here."""
        now = self.data_now(settings)
        obj = self.model.areagrid(self.seed, area, now, settings.revise)
        if settings.forecast:
            label = relabelled(now) if fault == "forecast-relabel" else "Forecast"
            forecast = forecast_series(self.model, self.seed, area, now, label)
            obj["chartLineData"].append(forecast)
            if fault == "text-series":
                obj["chartLineData"].append(text_series(forecast))
        return obj


class Handler(BaseHTTPRequestHandler):
    server: Simulator
    protocol_version = "HTTP/1.1"
    # Headers and body go out in two writes; with Nagle on, a keep-alive client's
    # delayed ACK adds ~40 ms to every request, which no real server would show.
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return "KamoSimulator/1.0"

    # HTTP plumbing

    def date_time_string(self, timestamp: float | None = None) -> str:
        # The Date header is real time plus the skew, never the pinned data clock: the collector
        # compares it with its own clock to detect a wrong system clock.
        if timestamp is None:
            timestamp = time.time() + self.server.snapshot().date_skew_seconds
        return super().date_time_string(timestamp)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.server.quiet:
            sys.stderr.write(f"{self.command} {self.path} {code}\n")

    def log_message(self, format: str, *args) -> None:
        sys.stderr.write(f"kamo-sim: {format % args}\n")

    def send_body(self, status: int, body: bytes, content_type: str = JSON_TYPE) -> None:
        try:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True  # the client gave up (e.g. its timeout expired)

    def send_json(self, status: int, obj: object) -> None:
        self.send_body(status, json.dumps(obj).encode())

    def not_found(self) -> None:
        message = f"No HTTP resource was found that matches the request URI '{self.path}'."
        self.send_json(404, {"Message": message})

    # Routes

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/_sim/control":
            self.send_json(200, asdict(self.server.snapshot()))
        elif path.startswith("/api/"):
            self.handle_api(path)
        else:
            self.not_found()

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if self.path.split("?", 1)[0] != "/_sim/control":
            self.not_found()
            return
        try:
            changes = json.loads(raw or b"{}")
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object")
            settings = self.server.update(changes)
        except ValueError as exc:  # JSONDecodeError is a ValueError too
            self.send_json(400, {"error": str(exc)})
            return
        self.send_json(200, asdict(settings))

    def handle_api(self, path: str) -> None:
        settings = self.server.snapshot()
        if settings.latency_ms > 0:
            self.server.stopping.wait(settings.latency_ms / 1000)
        if path == "/api/area":
            self.serve_area_list()
            return
        match = AREA_PATH.match(path)
        area = int(match.group(2)) if match else 0
        if area not in AREA_IDS:
            self.not_found()
            return
        if self.server.draw_error(settings.error_rate):
            self.send_json(500, {"Message": "An error has occurred."})
            return
        endpoint = match.group(1)
        faulty = settings.fault and (settings.fault_areas is None or area in settings.fault_areas)
        fault = settings.fault if faulty else None
        if fault == "timeout":
            self.server.stopping.wait(TIMEOUT_FAULT_SECONDS)
        elif fault == "http500":
            self.send_json(500, {"Message": "An error has occurred."})
            return
        elif fault == "http404":
            self.not_found()
            return
        elif fault == "html":
            self.send_body(200, HTML_ERROR_PAGE, "text/html; charset=utf-8")
            return
        elif fault in TRANSPORT_MODES:
            body = self.area_body(endpoint, area, settings, None) or b"{}"
            HostileWriter(self, self.server.stopping).send(
                fault, body, settings.trickle_ms, settings.huge_mb, settings.retry_after_seconds
            )
            return
        body = self.area_body(endpoint, area, settings, fault)
        if body is None:
            self.not_found()
        elif fault == "truncated":
            self.send_body(200, body[: len(body) // 2])
        else:
            self.send_body(200, body)

    def serve_area_list(self) -> None:
        if self.server.fixtures is None:
            self.send_json(200, self.server.model.areas)
            return
        file = self.server.fixtures / "area.json"
        if file.is_file():
            self.send_body(200, file.read_bytes())
        else:
            self.not_found()

    def area_body(
        self, endpoint: str, area: int, settings: Settings, fault: str | None
    ) -> bytes | None:
        """The JSON bytes of one area answer (None: no such fixture file)."""
        if self.server.fixtures is not None:
            file = self.server.fixtures / f"{endpoint}-{area}.json"
            if not file.is_file():
                return None
            raw = file.read_bytes()
            if fault in (None, "timeout", "truncated"):
                return raw  # byte-for-byte as captured
            obj = json.loads(raw)
        else:
            model, seed, now = self.server.model, self.server.seed, self.server.data_now(settings)
            if endpoint == "areagrid":
                obj = self.server.areagrid(area, settings, fault)
            else:
                obj = model.arealoadtable(seed, area, now)
        if fault in VALUE_MODES:
            return hostile_value_body(obj, fault)
        if fault:
            obj = apply_fault(obj, fault, lambda: self.server.extra_series(area, settings))
        return json.dumps(obj).encode()
