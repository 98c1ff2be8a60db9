"""What is checked before anything changes: a database's integrity and schema version,
whether the collector is running, and the user's confirmation."""

from __future__ import annotations

import contextlib
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from collector.backup_files import DbInfo, closing_owned, connect_existing, describe
from collector.lock import lock_is_held
from shared.heartbeat import STALE_AFTER, collector_state

from .errors import Refused
from .locate import Location


def read_info(db: Path) -> DbInfo:
    """describe() an existing (possibly live) database without changing it."""
    conn = connect_existing(db)
    with closing_owned(conn, db):
        return describe(conn)


# --- the collector must be stopped for restore/import -----------------------------------------


def collector_running(loc: Location, check_lock: bool = True) -> str | None:
    """Why we think the collector is running, or None. check_lock=False while we hold the
    lock ourselves (a second flock from this process would see our own)."""
    lock = loc.settings.lock_path
    if check_lock and lock_is_held(lock):
        pid = ""
        with contextlib.suppress(OSError):
            pid = lock.read_text().strip()
        return f"it holds the writer lock {lock}" + (f" (pid {pid})" if pid else "")
    state, beat = collector_state(loc.settings.heartbeat_path)
    if state == "running" and beat is not None:
        age = time.time() - beat.get("updated_at", 0)
        return (
            f"its heartbeat {loc.settings.heartbeat_path} is {age:.0f} s old "
            f"(a heartbeat counts as stopped after {STALE_AFTER:.0f} s)"
        )
    return None


@dataclass(frozen=True)
class SoleWriter:
    """A command that replaces the database, so the collector must be stopped meanwhile."""

    name: str  # prefixes the output: "restore"
    script: str  # named in a refusal: "restore.sh"
    retry: str  # the same in a one-off collector container, while the collector is stopped


def refuse_if_collector_runs(loc: Location, job: SoleWriter, check_lock: bool = True) -> None:
    why = collector_running(loc, check_lock)
    if why is None:
        return
    raise Refused(
        f"the collector is running: {why}.\n"
        f"Stop it first, so that nothing writes while the database is replaced. With Docker:\n"
        f"  docker compose stop collector\n"
        f"  docker compose run --rm {job.retry}\n"
        f"  docker compose start collector\n"
        f"Without Docker: stop `python -m collector` (Ctrl-C in `make run`), then run {job.script} "
        f"again."
    )


def confirm(question: str, assume_yes: bool) -> None:
    if assume_yes:
        return
    if not sys.stdin.isatty():
        raise Refused("no terminal to ask for confirmation: add --yes to go ahead without asking")
    try:
        answer = input(f"{question} Type 'yes' to go on: ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise Refused("cancelled at the prompt")
