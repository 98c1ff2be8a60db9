"""What every reliability case shares: its result record, a collector child, SQLite checks."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from support import REPO_ROOT, collector_env

CHILD = Path(__file__).resolve().parent / "collector_child.py"


@dataclass
class CaseResult:
    """One row of the table. `status` is "ran", "skipped: why" or "not wired yet"."""

    tried: int = 0
    failures: int = 0
    lost: int = 0
    worst: float | None = None
    unit: str = ""
    worst_label: str = ""
    details: list[str] = field(default_factory=list)  # one line per failure
    figures: dict[str, Any] = field(default_factory=dict)  # extra measured figures
    status: str = "ran"

    def fail(self, message: str) -> None:
        self.failures += 1
        self.details.append(message)

    def note_worst(self, value: float) -> None:
        self.worst = value if self.worst is None else max(self.worst, value)


def child_env(sim_url: str, data_dir: Path, **extra: str) -> dict[str, str]:
    env = collector_env(sim_url, data_dir, **extra)
    env["PYTHONPATH"] = str(REPO_ROOT)
    return env


def child_command(*args: str) -> list[str]:
    return [sys.executable, str(CHILD), *args]


def run_child(env: dict[str, str], *args: str, timeout: float) -> subprocess.CompletedProcess:
    return subprocess.run(
        child_command(*args),
        env=env,
        cwd=env["DATA_DIR"],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def connect_ro(db_path: Path) -> sqlite3.Connection:
    """A read-only connection as the API opens one (`mode=ro`, never `immutable`)."""
    return sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)


def integrity(db_path: Path) -> str:
    """`PRAGMA integrity_check` of the file as it is now ("ok" when sound)."""
    with sqlite3.connect(db_path, timeout=10) as db:
        return "; ".join(row[0] for row in db.execute("PRAGMA integrity_check"))


def query(db_path: Path, sql: str, *params: Any) -> list[tuple]:
    with sqlite3.connect(db_path, timeout=10) as db:
        return db.execute(sql, params).fetchall()


def file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def result_from_dict(found: dict[str, Any]) -> CaseResult:
    """A CaseResult from a plain dict another branch's runner returns (hostile modes,
    schemathesis): keys tried, failures, lost, worst, unit, worst_label, details, figures;
    missing keys keep their defaults, unknown keys go to figures."""
    known = {k: found[k] for k in CaseResult.__dataclass_fields__ if k in found}
    result = CaseResult(**known)
    result.figures.update({k: v for k, v in found.items() if k not in known})
    return result
