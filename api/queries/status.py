"""Import runs, database statistics and gaps: what /api/status, /api/imports and /metrics read."""

from __future__ import annotations

from peewee import Database

RUN_COLUMNS = (
    "id, trigger, request_id, slot_ts, started_at, finished_at, status, areas_total, areas_ok, "
    "load_new, load_revised, load_unchanged, readings_stored, substations_new, area_errors, "
    "warnings, message, clock_skew_seconds"
)
RUN_FIELDS = tuple(c.strip() for c in RUN_COLUMNS.split(","))


def runs(
    db: Database,
    limit: int,
    before_id: int | None = None,
    request_id: str | None = None,
    status: str | None = None,
) -> list[dict]:
    """Import runs newest first; keyset pagination on id."""
    where, params = [], []
    if before_id is not None:
        where.append("id < ?")
        params.append(before_id)
    if request_id is not None:
        where.append("request_id = ?")
        params.append(request_id)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    found = db.execute_sql(
        f"SELECT {RUN_COLUMNS} FROM import_run {clause} ORDER BY id DESC LIMIT ?",
        (*params, limit),
    ).fetchall()
    return [dict(zip(RUN_FIELDS, row, strict=True)) for row in found]


def last_run(db: Database, status: str | None = None) -> dict | None:
    found = runs(db, 1, status=status)
    return found[0] if found else None


def last_success(db: Database) -> dict | None:
    """Newest run that stored data (success or partial counts as a successful poll)."""
    row = db.execute_sql(
        f"SELECT {RUN_COLUMNS} FROM import_run WHERE status IN ('success', 'partial') "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return dict(zip(RUN_FIELDS, row, strict=True)) if row else None


def runs_since(db: Database, since: float) -> dict[str, int]:
    """{status: count} of runs started at or after `since` (index on started_at)."""
    # `+status` keeps the planner on the started_at index instead of scanning every run.
    found = db.execute_sql(
        "SELECT status, count(*) FROM import_run WHERE started_at >= ? GROUP BY +status",
        (since,),
    ).fetchall()
    return dict(found)


def runs_by_status(db: Database) -> dict[str, int]:
    return dict(
        db.execute_sql("SELECT status, count(*) FROM import_run GROUP BY status").fetchall()
    )


def failed_runs(db: Database, since: float, limit: int) -> list[dict]:
    found = db.execute_sql(
        f"SELECT {RUN_COLUMNS} FROM import_run WHERE started_at >= ? AND status = 'failed' "
        "ORDER BY started_at DESC LIMIT ?",
        (since, limit),
    ).fetchall()
    return [dict(zip(RUN_FIELDS, row, strict=True)) for row in found]


def kept_counts(db: Database) -> dict[str, int]:
    """Row counts the collector keeps for the big tables."""
    return dict(db.execute_sql('SELECT "table", rows FROM row_count').fetchall())


def small_counts(db: Database) -> dict[str, int]:
    """Exact counts of the small tables (hundreds to ~100k rows; cheap)."""
    row = db.execute_sql(
        "SELECT (SELECT count(*) FROM area), (SELECT count(*) FROM substation), "
        "(SELECT count(*) FROM import_run)"
    ).fetchone()
    return {"area": row[0], "substation": row[1], "import_run": row[2]}


def load_span(db: Database) -> tuple[int | None, int | None]:
    """Oldest and newest hour in hourly_load, through the (area_id, ts) key per area."""
    return db.execute_sql(
        "SELECT min((SELECT min(ts) FROM hourly_load WHERE area_id = a.id)), "
        "max((SELECT max(ts) FROM hourly_load WHERE area_id = a.id)) FROM area a"
    ).fetchone()


def readings_span(db: Database) -> tuple[int | None, int | None]:
    """Oldest and newest slot; the time-first key makes both one index step."""
    oldest = db.execute_sql("SELECT min(ts) FROM substation_reading").fetchone()[0]
    newest = db.execute_sql("SELECT max(ts) FROM substation_reading").fetchone()[0]
    return oldest, newest


def hours_per_area(db: Database, start: int, end: int) -> list[tuple[int, str, int, int | None]]:
    """(area_id, abbreviation, hours stored in [start, end), oldest hour ever stored)."""
    return db.execute_sql(
        "SELECT a.id, a.abbreviation, "
        "(SELECT count(*) FROM hourly_load WHERE area_id = a.id AND ts >= ? AND ts < ?), "
        "(SELECT min(ts) FROM hourly_load WHERE area_id = a.id) FROM area a ORDER BY a.id",
        (start, end),
    ).fetchall()


def hours_present(db: Database, area_id: int, start: int, end: int) -> list[int]:
    return [
        row[0]
        for row in db.execute_sql(
            "SELECT ts FROM hourly_load WHERE area_id = ? AND ts >= ? AND ts < ? ORDER BY ts",
            (area_id, start, end),
        ).fetchall()
    ]
