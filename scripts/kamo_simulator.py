"""A look-alike of KAMO Power's public load API on loopback, for demos and tests.

    python scripts/kamo_simulator.py --port 8099 [--seed 1] [--now 2026-11-01T06:30:00Z]

Serves /api/area, /api/areagrid/{id} and /api/arealoadtable/{id} in KAMO's shapes, with fault
switches for tests and a control endpoint (/_sim/control) to change settings while running.
Standard library only, so it runs from a fresh clone without installing anything.

This module is the command line; the server is kamo_sim_server.py, the settings
kamo_sim_settings.py, the fault modes kamo_sim_faults.py and kamo_sim_hostile.py, the data
kamo_sim_model.py.
"""

from __future__ import annotations

import argparse
import signal
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also importable by path, not only run
from kamo_sim_faults import FAULT_MODES, fault_modes_help  # noqa: E402
from kamo_sim_model import AREA_IDS, parse_instant  # noqa: E402
from kamo_sim_server import Simulator  # noqa: E402
from kamo_sim_settings import Settings, validate_settings  # noqa: E402


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="KAMO API look-alike on loopback.",
        epilog='fault modes (--fault MODE, or POST /_sim/control with {"fault": MODE}):\n'
        + fault_modes_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,  # keeps one mode per line
    )
    parser.add_argument("--port", type=int, default=8099, help="0 picks a free port")
    parser.add_argument("--host", default="127.0.0.1", help="default 127.0.0.1 (loopback only)")
    parser.add_argument("--seed", type=int, default=1, help="same seed and clock, same answers")
    parser.add_argument("--now", type=_instant, help="pin the data clock (ISO 8601 with offset)")
    parser.add_argument("--fixtures", type=Path, metavar="DIR", help="serve DIR's JSON as is")
    parser.add_argument("--latency-ms", type=float, default=0.0, metavar="N")
    parser.add_argument("--error-rate", type=float, default=0.0, metavar="F", help="0..1")
    parser.add_argument(
        "--fault", choices=FAULT_MODES, metavar="MODE", help="a fault mode (listed below)"
    )
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
    parser.add_argument(
        "--no-forecast", action="store_true", help="serve Actual only, no Forecast series"
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
        forecast=not args.no_forecast,
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
