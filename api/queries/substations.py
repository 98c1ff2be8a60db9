"""Substation readings: the latest snapshot, lists, and histories at any resolution.

Histories at 1 h and coarser read the hourly rollup (`substation_hourly`) for the hours
the collector has finalised (`rollup_state.built_until`) and raw readings only after that.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from peewee import Database

from api.queries.common import PF_OR_NULL, local_seconds, text_order

HOUR = 3600
LATEST_LOOKBACK = 2 * 86400  # how far before the last sighting to look for the latest slot


def _area_substations(db: Database) -> str:
    """Subquery: ids of the area's substations (one placeholder, the area id)."""
    return f"SELECT id FROM substation WHERE area_id = {db.param}"


def substations(db: Database, area_id: int) -> list[tuple[int, str, int, int]]:
    """(id, name, first_seen, last_seen), names in code-point order on every backend."""
    return db.execute_sql(
        f"SELECT id, name, first_seen, last_seen FROM substation WHERE area_id = {db.param} "
        f"ORDER BY {text_order(db, 'name')}",
        (area_id,),
    ).fetchall()


def latest_slot(db: Database, area_id: int) -> int | None:
    """The newest slot holding readings of the area (bounded by the substations' last_seen)."""
    p = db.param
    seen = db.execute_sql(
        f"SELECT max(last_seen) FROM substation WHERE area_id = {p}", (area_id,)
    ).fetchone()
    if not seen or seen[0] is None:
        return None
    row = db.execute_sql(
        f"SELECT ts FROM substation_reading WHERE ts <= {p} AND ts >= {p} "
        f"AND substation_id IN ({_area_substations(db)}) ORDER BY ts DESC LIMIT 1",
        (seen[0], seen[0] - LATEST_LOOKBACK, area_id),
    ).fetchone()
    return row[0] if row else None


def readings_at(db: Database, area_id: int, ts: int) -> list[tuple]:
    """(id, name, kw, kvar, pf, quality, quality_now) of each substation in one slot."""
    p = db.param
    return db.execute_sql(
        f"""SELECT s.id, s.name, r.kw, r.kvar, {PF_OR_NULL}, r.quality, r.quality_now
            FROM substation_reading r JOIN substation s ON s.id = r.substation_id
            WHERE r.ts = {p} AND s.area_id = {p} ORDER BY {text_order(db, "s.name")}""",
        (ts, area_id),
    ).fetchall()


def built_until(db: Database) -> int:
    """Hours before this instant are in the rollup; 0 while nothing is built."""
    row = db.execute_sql(
        "SELECT built_until FROM rollup_state WHERE name = 'substation_hourly'"
    ).fetchone()
    return row[0] if row else 0


def _filter(db: Database, substation_id: int | None) -> tuple[str, list[int]]:
    if substation_id is None:
        return "", []
    return f"AND r.substation_id = {db.param}", [substation_id]


def raw(db: Database, area_id: int, start: int, end: int, substation_id: int | None) -> list[tuple]:
    """(substation_id, ts, kw, kvar, pf) ordered by substation and time."""
    extra, params = _filter(db, substation_id)
    p = db.param
    return db.execute_sql(
        f"""SELECT r.substation_id, r.ts, r.kw, r.kvar, {PF_OR_NULL}
            FROM substation_reading r
            WHERE r.ts >= {p} AND r.ts < {p}
              AND r.substation_id IN ({_area_substations(db)}) {extra}
            ORDER BY r.substation_id, r.ts""",
        (start, end, area_id, *params),
    ).fetchall()


def buckets(
    db: Database,
    area_id: int,
    start: int,
    end: int,
    size: int,
    substation_id: int | None,
    zone: ZoneInfo,
) -> list[tuple]:
    """(substation_id, bucket key, samples, kw min/max/avg, kvar min/max/avg, pf avg).

    Buckets up to an hour are UTC-aligned, so they stay distinct through the repeated
    autumn hour; the key is their UTC start. Longer ones follow the local wall clock
    (a local day is 23-25 h); the key is then local wall-clock seconds.
    """
    extra, params = _filter(db, substation_id)
    p = db.param
    in_area = f"r.substation_id IN ({_area_substations(db)})"
    if size < HOUR:
        source = f"""SELECT r.substation_id AS sid, r.ts AS ts, 1 AS n, r.kw AS kw_min,
                r.kw AS kw_max, r.kw AS kw_sum, r.kvar AS kvar_min, r.kvar AS kvar_max,
                r.kvar AS kvar_sum, {PF_OR_NULL} AS pf_sum,
                CASE WHEN {PF_OR_NULL} IS NULL THEN 0 ELSE 1 END AS pf_n
            FROM substation_reading r
            WHERE r.ts >= {p} AND r.ts < {p} AND {in_area} {extra}"""
        source_params = [start, end, area_id, *params]
    else:
        split = min(max(built_until(db), start), end)
        source = f"""SELECT r.substation_id AS sid, r.ts AS ts, r.samples AS n,
                r.kw_min, r.kw_max, r.kw_sum, r.kvar_min, r.kvar_max, r.kvar_sum,
                r.pf_sum, r.pf_samples AS pf_n
            FROM substation_hourly r
            WHERE r.area_id = {p} AND r.ts >= {p} AND r.ts < {p} {extra}
            UNION ALL
            SELECT r.substation_id, (r.ts / {HOUR}) * {HOUR}, count(*), min(r.kw), max(r.kw),
                sum(r.kw), min(r.kvar), max(r.kvar), sum(r.kvar), sum({PF_OR_NULL}),
                count({PF_OR_NULL})
            FROM substation_reading r
            WHERE r.ts >= {p} AND r.ts < {p} AND {in_area} {extra}
            GROUP BY r.substation_id, (r.ts / {HOUR}) * {HOUR}"""
        source_params = [area_id, start, split, *params, split, end, area_id, *params]
    if size <= HOUR:
        key, key_params = f"(ts / {size}) * {size}", []
    else:
        local, key_params = local_seconds(db, "ts", start, end, zone)
        key = f"({local} / {size}) * {size}"
    # ts is an integer column and the offsets integers, so `/` truncates on both backends.
    # PostgreSQL sums bigint counts to numeric (a Decimal in Python): the sample count is
    # cast back to an integer, and a numeric divisor turns into double precision.
    sql = f"""SELECT sid, {key} AS bucket, CAST(sum(n) AS INTEGER), min(kw_min), max(kw_max),
                  sum(kw_sum) / sum(n), min(kvar_min), max(kvar_max), sum(kvar_sum) / sum(n),
                  sum(pf_sum) / nullif(sum(pf_n), 0)
              FROM ({source}) AS src GROUP BY sid, bucket ORDER BY sid, bucket"""
    return db.execute_sql(sql, (*key_params, *source_params)).fetchall()
