"""`python -m collector healthcheck`: is this collector alive and collecting?

SQLite: the heartbeat file in DATA_DIR and the DATA_DIR lock. PostgreSQL: this collector's
row in `collector_state` (found by the instance id its DATA_DIR keeps; no shared data
directory needed) and whether its lock session is still alive on the server, the
counterpart of the freed file lock after a kill -9.
"""

from __future__ import annotations

import socket
from typing import Any

from collector.lease import INSTANCE_FILE, PgLease
from collector.lock import lock_is_held
from shared.channel import uses_tables
from shared.config import Settings
from shared.heartbeat import STALE_AFTER, collector_state, problems
from shared.pg_channel import read_instance
from shared.timeutil import iso, now_ts


def healthcheck(settings: Settings) -> int:
    """Healthy while the heartbeat is fresh, the writer lock is held (a killed daemon leaves
    a fresh-looking heartbeat behind for up to 90 s, but the kernel frees its lock), and the
    heartbeat's content shows collection going on: no cycle past its deadline, and a cycle
    finished within the last two slots (the heartbeat thread beats on while a cycle hangs).
    A standby is healthy while its heartbeat is fresh and its session alive."""
    if uses_tables(settings.database_url):
        return _table_healthcheck(settings)
    state, beat = collector_state(settings.heartbeat_path)
    if beat is None:
        print(f"never: no heartbeat at {settings.heartbeat_path}")
        return 1
    if state == "running" and not lock_is_held(settings.lock_path):
        state = "stopped"
    return _report(settings, state, beat)


def _table_healthcheck(settings: Settings) -> int:
    path = settings.data_dir / INSTANCE_FILE
    try:
        instance = path.read_text().strip() or None
    except OSError:
        instance = None
    host = socket.gethostname()
    lease = PgLease(settings.database_url, instance or "")
    try:
        with lease._cursor() as cur:
            beat = read_instance(cur, instance, host)
    except Exception as exc:
        print(f"unknown: cannot read the collector state from the database: {exc}".strip())
        return 1
    finally:
        lease._drop()
    if beat is None:
        who = f"instance {instance}" if instance else f"host {host}"
        print(f"never: no collector row for {who} in collector_state")
        return 1
    updated = beat.get("updated_at")
    fresh = isinstance(updated, int | float) and now_ts() - updated <= STALE_AFTER
    if not fresh or beat.get("state") == "stopped":
        state = "stale"
    elif not beat.get("session_alive"):
        state = "stopped"
    else:
        state = "running"
    return _report(settings, state, beat)


def _report(settings: Settings, state: str, beat: dict[str, Any]) -> int:
    active = beat.get("role", "active") == "active"
    found = problems(beat, zone=settings.tz) if state == "running" and active else []
    if found:
        state = "stuck"
    updated = beat.get("updated_at")
    when = iso(updated, settings.tz) if isinstance(updated, int | float) else "unknown"
    role = f", {beat['role']}" if beat.get("role") else ""
    print(
        f"{state}: heartbeat {when}, pid {beat.get('pid')}{role}, doing {beat.get('state')}, "
        f"last status {beat.get('last_status')}"
    )
    for problem in found:
        print(f"  {problem}")
    return 0 if state == "running" else 1
