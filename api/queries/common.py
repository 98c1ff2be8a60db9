"""Small SQL helpers shared by the query modules."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from peewee import Database

from shared.timeutil import offset_segments

# KAMO's pf as sent; pf 0 with kvar 0 is its "no reactive reading" placeholder -> NULL.
PF = "COALESCE(r.pf_exact, r.pf_centi / 100.0)"
PF_OR_NULL = f"CASE WHEN r.kvar = 0 AND {PF} = 0 THEN NULL ELSE {PF} END"


def local_seconds(column: str, start: int, end: int, zone: ZoneInfo) -> tuple[str, list[int]]:
    """SQL for `column` (UTC epoch) shifted to wall-clock seconds in `zone` over [start, end).

    A CASE over the zone's offset changes in the range; SQLite's strftime(..., 'unixepoch')
    then names the local day, month or year.
    """
    segments = offset_segments(start, end, zone)
    if len(segments) == 1:
        return f"({column} + ?)", [segments[0][1]]
    parts, params = [], []
    for (_, offset), (next_start, _) in zip(segments, segments[1:], strict=False):
        parts.append(f"WHEN {column} < ? THEN ?")
        params += [next_start, offset]
    params.append(segments[-1][1])
    return f"({column} + CASE {' '.join(parts)} ELSE ? END)", params


def area_row(db: Database, area_id: int) -> tuple[int, str, str, bool] | None:
    return db.execute_sql(
        "SELECT id, name, abbreviation, is_aggregate FROM area WHERE id = ?", (area_id,)
    ).fetchone()


def area_name(db: Database, area_id: int) -> str | None:
    row = area_row(db, area_id)
    return row[1] if row else None
