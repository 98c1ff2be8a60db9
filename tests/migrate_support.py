"""Helpers for the `collector migrate --to` tests: generated SQLite databases and the
command run as a user runs it (import from here, not from a conftest)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from support import REPO_ROOT, collector_env, run_collector

GENERATOR = REPO_ROOT / "scripts" / "gen_bench_db.py"
DATA_END = "2026-11-26T00:00:00Z"  # the generator's default end


def generate(path: Path, days: int, substations: int) -> Path:
    """A database like a collector's after `days` of 5-minute polls (gen_bench_db.py)."""
    subprocess.run(
        [
            sys.executable,
            str(GENERATOR),
            "--out",
            str(path),
            "--days",
            str(days),
            "--substations",
            str(substations),
            "--end",
            DATA_END,
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return path


def migrate_env(db: Path) -> dict[str, str]:
    """The collector's environment with DATABASE_URL naming `db` (no KAMO is reached)."""
    return collector_env("http://127.0.0.1:9", db.parent, DATABASE_URL=f"sqlite:///{db}")


def migrate(db: Path, target: str, *extra: str, timeout: float = 600):
    return run_collector(migrate_env(db), "migrate", "--to", target, *extra, timeout=timeout)


def migrate_command(target: str, *extra: str) -> list[str]:
    return [sys.executable, "-m", "collector", "migrate", "--to", target, *extra]


def checksum_rows(output: str) -> dict[str, list[str]]:
    """The verification table of the output: table -> its cells."""
    rows = {}
    for line in output.splitlines():
        cells = line.split()
        if len(cells) >= 6 and cells[5] in ("ok", "DIFFERENT"):
            rows[cells[0]] = cells
    return rows
