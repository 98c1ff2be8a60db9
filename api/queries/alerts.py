"""Alert conditions the collector keeps in `alert_state` (failing polls, stale data, disk)."""

from __future__ import annotations

from peewee import Database


def alert_states(db: Database, active_only: bool = True) -> list[dict]:
    where = "WHERE active = " + db.param if active_only else ""
    rows = db.execute_sql(
        "SELECT key, active, notified, since, updated_at, detail FROM alert_state "
        f"{where} ORDER BY key",
        (True,) if active_only else (),
    ).fetchall()
    fields = ("key", "active", "notified", "since", "updated_at", "detail")
    return [dict(zip(fields, row, strict=True)) for row in rows]
