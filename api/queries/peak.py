"""Peak watch and the real-time estimate, read side: history, open watches, month peaks."""

from __future__ import annotations

from typing import Any

from peewee import Database

from shared.timeutil import local_month, month_start

HOUR = 3600
COLUMNS = (
    "id", "area_id", "kind", "opened_at", "expected_ts", "expected_kw", "peak_kw", "peak_ts",
    "margin_pct", "source", "closed_at", "outcome", "actual_kw",
)  # fmt: skip


def has_tables(db: Database) -> bool:
    return db.table_exists("peak_watch")


def history(
    db: Database, area_id: int | None, kind: str | None, start: int, end: int, limit: int
) -> list[dict[str, Any]]:
    """Watches and events opened in [start, end), newest first."""
    p = db.param
    where, args = [f"opened_at >= {p}", f"opened_at < {p}"], [start, end]
    if area_id is not None:
        where.append(f"area_id = {p}")
        args.append(area_id)
    if kind is not None:
        where.append(f"kind = {p}")
        args.append(kind)
    rows = db.execute_sql(
        f"SELECT {', '.join(COLUMNS)} FROM peak_watch WHERE {' AND '.join(where)} "
        f"ORDER BY opened_at DESC, id DESC LIMIT {int(limit)}",
        args,
    ).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def open_watches(db: Database) -> list[dict[str, Any]]:
    rows = db.execute_sql(
        f"SELECT {', '.join(COLUMNS)} FROM peak_watch WHERE kind = 'watch' "
        "AND closed_at IS NULL ORDER BY area_id"
    ).fetchall()
    return [dict(zip(COLUMNS, row, strict=True)) for row in rows]


def last_event(db: Database, area_id: int) -> dict[str, Any] | None:
    row = db.execute_sql(
        f"SELECT {', '.join(COLUMNS)} FROM peak_watch WHERE area_id = {db.param} "
        "ORDER BY opened_at DESC, id DESC LIMIT 1",
        (area_id,),
    ).fetchone()
    return dict(zip(COLUMNS, row, strict=True)) if row else None


def newest_estimate_hour(db: Database, area_id: int) -> int | None:
    """The newest hour of the estimate's calibration (changes when the collector builds)."""
    return db.execute_sql(
        f"SELECT MAX(ts) FROM load_estimate WHERE area_id = {db.param}", (area_id,)
    ).fetchone()[0]


def month_peak(db: Database, area_id: int, now: float, zone) -> tuple[int, float] | None:
    """(ts, kW) of the highest complete hour of the local month so far (earliest on a tie),
    the peak the collector's watch compares with."""
    hour = int(now) - int(now) % HOUR
    start = month_start(*local_month(hour, zone), zone)
    p = db.param
    return db.execute_sql(
        f"SELECT ts, load_kw FROM hourly_load WHERE area_id = {p} AND ts >= {p} AND ts < {p} "
        "ORDER BY load_kw DESC, ts LIMIT 1",
        (area_id, start, hour),
    ).fetchone()
