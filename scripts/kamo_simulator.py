"""A look-alike of KAMO Power's public load API on loopback, for demos and tests.

    python scripts/kamo_simulator.py --port 8099 [--seed 1] [--now 2026-11-01T06:30:00Z]

Serves /api/area, /api/areagrid/{id} and /api/arealoadtable/{id} in KAMO's shapes, with fault
switches for tests and a control endpoint (/_sim/control) to change settings while running.
Standard library only, so it runs from a fresh clone without installing anything.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import signal
import sys
import threading
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also importable by path, not only run
from kamo_sim_hostile import (  # noqa: E402
    HOSTILE_MODES,
    TRANSPORT_MODES,
    VALUE_MODES,
    HostileWriter,
    hostile_value_body,
)
from kamo_sim_model import AREA_IDS, KamoModel, parse_instant  # noqa: E402

FAULT_MODES = (
    "timeout",
    "http500",
    "http404",
    "html",
    "truncated",
    "nulls",
    "wrong-shape",
    "unknown-fields",
    "unknown-series",
    *HOSTILE_MODES,
)
TIMEOUT_FAULT_SECONDS = 30.0
AREA_PATH = re.compile(r"^/api/(areagrid|arealoadtable)/(\d+)$")
JSON_TYPE = "application/json; charset=utf-8"
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    b"<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. "
    b"Please try again later.</p></body></html>\n"
)


@dataclass
class Settings:
    """What the control endpoint can change; `now` None means the real clock."""

    now: str | None = None
    fault: str | None = None
    fault_areas: list[int] | None = None  # None: every area
    latency_ms: float = 0.0
    error_rate: float = 0.0
    date_skew_seconds: float = 0.0
    revise: int = 0
    trickle_ms: float = 1000.0  # trickle: one byte of the answer every N ms
    huge_mb: int = 200  # huge-body, huge-chunked: answer size
    retry_after_seconds: int = 120  # http429: the Retry-After header


def validate_settings(current: Settings, changes: dict) -> Settings:
    """Return `current` with `changes` applied; raise ValueError naming a bad setting."""
    merged = asdict(current)
    for key, value in changes.items():
        if key not in merged:
            raise ValueError(f"unknown setting {key!r}")
        if key == "now" and value is not None:
            value = parse_instant(str(value)).isoformat().replace("+00:00", "Z")
        elif key == "fault":
            if value in (None, "", "none"):
                value = None
            elif value not in FAULT_MODES:
                raise ValueError(f"fault must be one of {', '.join(FAULT_MODES)} or null")
        elif key == "fault_areas" and value is not None:
            if not isinstance(value, list) or not all(
                isinstance(a, int) and a in AREA_IDS for a in value
            ):
                raise ValueError("fault_areas must be a list of area ids 1-20 or null")
        elif key == "latency_ms" and not (_is_number(value) and value >= 0):
            raise ValueError("latency_ms must be a number >= 0")
        elif key == "date_skew_seconds" and not _is_number(value):
            raise ValueError("date_skew_seconds must be a number")
        elif key == "error_rate" and not (_is_number(value) and 0 <= value <= 1):
            raise ValueError("error_rate must be a number from 0 to 1")
        elif key == "revise" and not (_is_number(value) and isinstance(value, int)):
            raise ValueError("revise must be an integer (kW)")
        elif key == "trickle_ms" and not (_is_number(value) and 1 <= value <= 60_000):
            raise ValueError("trickle_ms must be a number from 1 to 60000")
        elif key == "huge_mb" and not (isinstance(value, int) and 1 <= value <= 4096):
            raise ValueError("huge_mb must be an integer from 1 to 4096")
        elif key == "retry_after_seconds" and not (
            isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 86_400
        ):
            raise ValueError("retry_after_seconds must be an integer from 0 to 86400")
        merged[key] = value
    return Settings(**merged)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


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
            return Settings(**asdict(self.settings))

    def draw_error(self, rate: float) -> bool:
        with self.lock:
            return rate > 0 and self.rng.random() < rate

    def data_now(self, settings: Settings) -> datetime:
        return parse_instant(settings.now) if settings.now else datetime.now(UTC)


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
                obj = model.areagrid(seed, area, now, settings.revise)
            else:
                obj = model.arealoadtable(seed, area, now)
        if fault in VALUE_MODES:
            return hostile_value_body(obj, fault)
        if fault:
            obj = apply_fault(obj, fault, self.server, area, settings)
        return json.dumps(obj).encode()


def apply_fault(obj: dict, fault: str, server: Simulator, area: int, settings: Settings) -> dict:
    """Distort a well-formed answer the way the fault mode describes."""
    rows = obj.get("areaLoadData")
    series = obj.get("chartLineData")
    if fault == "nulls":
        if rows is not None:
            for row in rows[::3]:  # every third substation lost its readings
                row.update(kw=None, kvar=None, pf=None)
        else:
            obj["lineChartLabels"] = None
    elif fault == "wrong-shape":
        if rows is not None:
            obj["areaLoadData"] = {row["name"]: row for row in rows}
        else:
            obj["chartLineData"] = "Actual"
    elif fault == "unknown-fields":
        obj.update(region="x", updatedBy=3)
        for row in rows if rows is not None else series:
            row.update(region="x", updatedBy=3)
    elif fault == "unknown-series" and series is not None:
        now = server.data_now(settings)
        forecast = server.model.forecast_series(server.seed, area, now, "Forecast")
        day_ahead = server.model.forecast_series(server.seed, area, now, "Day Ahead")
        obj["chartLineData"] = [forecast, *series, day_ahead]
    return obj


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="KAMO API look-alike on loopback.")
    parser.add_argument("--port", type=int, default=8099, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback only)")
    parser.add_argument("--seed", type=int, default=1, help="same seed and clock, same answers")
    parser.add_argument("--now", type=_instant, help="pin the data clock (ISO 8601 with offset)")
    parser.add_argument("--fixtures", type=Path, metavar="DIR", help="serve DIR's JSON as is")
    parser.add_argument("--latency-ms", type=float, default=0.0, metavar="N")
    parser.add_argument("--error-rate", type=float, default=0.0, metavar="F", help="0..1")
    parser.add_argument("--fault", choices=FAULT_MODES, metavar="MODE", help=", ".join(FAULT_MODES))
    parser.add_argument("--fault-areas", type=_area_list, metavar="LIST", help="e.g. 7,12 (all)")
    parser.add_argument("--date-skew-seconds", type=float, default=0.0, metavar="S")
    parser.add_argument(
        "--trickle-ms",
        type=float,
        default=1000.0,
        metavar="N",
        help="fault trickle: one byte every N ms (default 1000)",
    )
    parser.add_argument(
        "--huge-mb",
        type=int,
        default=200,
        metavar="N",
        help="faults huge-body, huge-chunked: answer size (default 200)",
    )
    parser.add_argument(
        "--retry-after",
        type=int,
        default=120,
        metavar="S",
        help="fault http429: Retry-After seconds (default 120)",
    )
    parser.add_argument("--quiet", action="store_true", help="no request log")
    args = parser.parse_args(argv)
    if not 0 <= args.error_rate <= 1:
        parser.error("--error-rate must be from 0 to 1")
    if args.latency_ms < 0:
        parser.error("--latency-ms must be >= 0")
    hostile = {"trickle_ms": args.trickle_ms, "huge_mb": args.huge_mb}
    hostile["retry_after_seconds"] = args.retry_after
    try:
        validate_settings(Settings(), hostile)
    except ValueError as exc:
        parser.error(str(exc))
    if args.fixtures is not None and not args.fixtures.is_dir():
        parser.error(f"--fixtures {args.fixtures} is not a directory")
    return args


def _instant(text: str) -> datetime:
    try:
        return parse_instant(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{exc}; e.g. 2026-11-01T06:30:00Z") from None


def _area_list(text: str) -> list[int]:
    try:
        areas = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError("a comma-separated list of area ids") from None
    if not areas or any(a not in AREA_IDS for a in areas):
        raise argparse.ArgumentTypeError("area ids are 1-20")
    return areas


class _Stop(BaseException):
    """Raised by the SIGTERM handler to leave serve_forever. Not an Exception: socketserver
    catches those around request handling, and the signal would be swallowed there."""


def _on_sigterm(signum: int, frame: object) -> None:
    raise _Stop


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings(
        now=args.now.isoformat().replace("+00:00", "Z") if args.now else None,
        fault=args.fault,
        fault_areas=args.fault_areas,
        latency_ms=args.latency_ms,
        error_rate=args.error_rate,
        date_skew_seconds=args.date_skew_seconds,
        trickle_ms=args.trickle_ms,
        huge_mb=args.huge_mb,
        retry_after_seconds=args.retry_after,
    )
    try:
        server = Simulator((args.host, args.port), args.seed, settings, args.fixtures, args.quiet)
    except OSError as exc:
        print(f"kamo-sim: cannot listen on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    host, port = server.server_address[:2]
    source = f"fixtures {args.fixtures}" if args.fixtures else f"seed {args.seed}"
    clock = f"clock pinned at {settings.now}" if settings.now else "real clock"
    print(f"KAMO simulator on http://{host}:{port}/api ({source}, {clock})", flush=True)
    signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        server.serve_forever()
    except (KeyboardInterrupt, _Stop):
        pass
    finally:
        server.stopping.set()
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
