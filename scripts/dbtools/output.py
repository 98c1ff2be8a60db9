"""What the commands print: one line a step, with sizes and times people can read."""

from __future__ import annotations


def say(command: str, message: str) -> None:
    print(f"{command}: {message}", flush=True)


def row_counts(counts: dict[str, int]) -> str:
    """'area 20, substation_reading 1,234' for the output."""
    return ", ".join(f"{table} {n:,}" for table, n in counts.items())
