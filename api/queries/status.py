"""Import runs, database statistics and gaps: what /api/status, /api/imports and /metrics read."""

from __future__ import annotations

import json

from peewee import Database

from api.queries.common import is_sqlite

RUN_COLUMNS = (
    "id, trigger, request_id, request_ids, slot_ts, started_at, finished_at, status, "
    "areas_total, areas_ok, load_new, load_revised, load_unchanged, readings_stored, "
    "substations_new, forecasts_stored, area_errors, warnings, message, clock_skew_seconds"
)
RUN_FIELDS = tuple(c.strip() for c in RUN_COLUMNS.split(","))


def run_row(row: tuple) -> dict:
    """An import_run row as a dict; `request_ids` as a list (older runs: their request_id)."""
    run = dict(zip(RUN_FIELDS, row, strict=True))
    try:
        ids = json.loads(run["request_ids"] or "null")
    except ValueError:
        ids = None
    if not isinstance(ids, list):
        ids = [run["request_id"]] if run["request_id"] else []
    run["request_ids"] = [str(i) for i in ids]
    return run


def request_match(db: Database, request_id: str) -> tuple[str, list[str]]:
    """SQL (and its parameters) for "this run answers request_id": the first request, or any
    in the JSON list. Ids hold A-Z a-z 0-9 _ - only; `_` is LIKE's wildcard, so escaped."""
    p = db.param
    pattern = '%"' + request_id.replace("_", "\\_") + '"%'
    return f"(request_id = {p} OR request_ids LIKE {p} ESCAPE '\\')", [request_id, pattern]


def runs(
    db: Database,
    limit: int,
    before_id: int | None = None,
    request_id: str | None = None,
    status: str | None = None,
) -> list[dict]:
    """Import runs newest first; keyset pagination on id."""
    p = db.param
    where, params = [], []
    if before_id is not None:
        where.append(f"id < {p}")
        params.append(before_id)
    if request_id is not None:
        clause, values = request_match(db, request_id)
        where.append(clause)
        params.extend(values)
    if status is not None:
        where.append(f"status = {p}")
        params.append(status)
    clause = f"WHERE {' AND '.join(where)}" if where else ""
    found = db.execute_sql(
        f"SELECT {RUN_COLUMNS} FROM import_run {clause} ORDER BY id DESC LIMIT {p}",
        (*params, limit),
    ).fetchall()
    return [run_row(row) for row in found]


def last_run(db: Database, status: str | None = None) -> dict | None:
    found = runs(db, 1, status=status)
    return found[0] if found else None


def last_success(db: Database) -> dict | None:
    """Newest run that stored data (success or partial counts as a successful poll)."""
    row = db.execute_sql(
        f"SELECT {RUN_COLUMNS} FROM import_run WHERE status IN ('success', 'partial') "
        "ORDER BY id DESC LIMIT 1"
    ).fetchone()
    return run_row(row) if row else None


def runs_since(db: Database, since: float) -> dict[str, int]:
    """{status: count} of runs started at or after `since` (index on started_at)."""
    # `+status` keeps SQLite's planner on the started_at index instead of scanning every
    # run. PostgreSQL has no unary + for text; its planner goes by statistics anyway.
    group = "+status" if is_sqlite(db) else "status"
    found = db.execute_sql(
        f"SELECT status, count(*) FROM import_run WHERE started_at >= {db.param} "
        f"GROUP BY {group} ORDER BY status",
        (since,),
    ).fetchall()
    return dict(found)


def runs_by_status(db: Database) -> dict[str, int]:
    return dict(
        db.execute_sql(
            "SELECT status, count(*) FROM import_run GROUP BY status ORDER BY status"
        ).fetchall()
    )


def failed_runs(db: Database, since: float, limit: int) -> list[dict]:
    p = db.param
    found = db.execute_sql(
        f"SELECT {RUN_COLUMNS} FROM import_run WHERE started_at >= {p} AND status = 'failed' "
        f"ORDER BY started_at DESC, id DESC LIMIT {p}",
        (since, limit),
    ).fetchall()
    return [run_row(row) for row in found]


def kept_counts(db: Database) -> dict[str, int]:
    """Row counts the collector keeps for the big tables."""
    return dict(db.execute_sql('SELECT "table", rows FROM row_count ORDER BY "table"').fetchall())


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
    p = db.param
    return db.execute_sql(
        "SELECT a.id, a.abbreviation, "
        f"(SELECT count(*) FROM hourly_load WHERE area_id = a.id AND ts >= {p} AND ts < {p}), "
        "(SELECT min(ts) FROM hourly_load WHERE area_id = a.id) FROM area a ORDER BY a.id",
        (start, end),
    ).fetchall()


def hours_present(db: Database, area_id: int, start: int, end: int) -> list[int]:
    p = db.param
    return [
        row[0]
        for row in db.execute_sql(
            f"SELECT ts FROM hourly_load WHERE area_id = {p} AND ts >= {p} AND ts < {p} "
            "ORDER BY ts",
            (area_id, start, end),
        ).fetchall()
    ]


SIMULATED_MARK = "simulated_history"  # scripts/seed_demo.py writes it into the demo database


def simulated_until(db: Database) -> int | None:
    """End of the simulated history when this is the demo database, else None."""
    row = db.execute_sql(
        f"SELECT built_until FROM rollup_state WHERE name = {db.param}", (SIMULATED_MARK,)
    ).fetchone()
    return row[0] if row else None
