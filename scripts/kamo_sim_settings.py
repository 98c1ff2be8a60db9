"""The KAMO simulator's run-time settings and their validation: what the command line starts
with and the control endpoint (/_sim/control) can change. Standard library only.
"""

from __future__ import annotations

import sys
from dataclasses import asdict, dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also importable by path, not only run
from kamo_sim_faults import FAULT_MODES  # noqa: E402
from kamo_sim_model import AREA_IDS, parse_instant  # noqa: E402


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
    forecast: bool = True  # serve the Forecast series beside Actual
    trickle_ms: float = 1000.0  # trickle: one byte of the answer every N ms
    huge_mb: int = 200  # huge-body, huge-chunked: answer size
    retry_after_seconds: int = 120  # http429: the Retry-After header
    peak_at: str | None = None  # a staged peak event: the hour it peaks in (ISO instant)
    peak_factor: float = 1.0  # its load multiplier at that hour (ramps over 3 h each side)


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
        elif key == "peak_at" and value is not None:
            value = parse_instant(str(value)).isoformat().replace("+00:00", "Z")
        elif key == "peak_factor" and not (_is_number(value) and 0.1 <= value <= 10):
            raise ValueError("peak_factor must be a number from 0.1 to 10")
        elif key == "latency_ms" and not (_is_number(value) and value >= 0):
            raise ValueError("latency_ms must be a number >= 0")
        elif key == "date_skew_seconds" and not _is_number(value):
            raise ValueError("date_skew_seconds must be a number")
        elif key == "error_rate" and not (_is_number(value) and 0 <= value <= 1):
            raise ValueError("error_rate must be a number from 0 to 1")
        elif key == "revise" and not (_is_number(value) and isinstance(value, int)):
            raise ValueError("revise must be an integer (kW)")
        elif key == "forecast" and not isinstance(value, bool):
            raise ValueError("forecast must be true or false")
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


def peak_of(settings: Settings) -> tuple[float, float] | None:
    """The model's staged peak (centre of the hour `peak_at` names, factor), or None."""
    if settings.peak_at is None or settings.peak_factor == 1.0:
        return None
    start = parse_instant(settings.peak_at).timestamp()
    return (start - start % 3600 + 1800, float(settings.peak_factor))


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
