"""What the commands print: one line a step, with sizes and times people can read."""

from __future__ import annotations

import datetime as dt


def say(command: str, message: str) -> None:
    print(f"{command}: {message}", flush=True)


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(microsecond=0)


def stamp(ts: float | None) -> str:
    if ts is None:
        return "none"
    return dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def human_size(size: int) -> str:
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if size >= scale:
            return f"{size / scale:.1f} {unit}"
    return f"{size} bytes"


def row_counts(counts: dict[str, int]) -> str:
    """'area 20, substation_reading 1,234' for the output."""
    return ", ".join(f"{table} {n:,}" for table, n in counts.items())
