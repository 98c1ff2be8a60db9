"""Small SQL helpers shared by the query modules, and the few places where backends differ.

Every query takes its placeholder from `db.param` (`?` on SQLite, `%s` on PostgreSQL) and
sticks to SQL both backends evaluate alike: integer columns divided by integer literals
truncate on both, `x / 100.0` is a float on both, COALESCE/CASE/NULLIF instead of IFNULL
or the scalar MAX(a, b), and an ORDER BY wherever order matters. What cannot be written
once (text ordering, database size, a SQLite planner hint) branches here, on `is_sqlite`.
"""

from __future__ import annotations

from typing import NamedTuple
from zoneinfo import ZoneInfo

from peewee import Database, SqliteDatabase

from shared.timeutil import offset_segments

# KAMO's pf as sent; pf 0 with kvar 0 is its "no reactive reading" placeholder -> NULL.
# smallint / 100.0 is numeric on PostgreSQL and COALESCE with the double pf_exact makes it
# double precision: the same float SQLite's REAL division gives (both round once).
PF = "COALESCE(r.pf_exact, r.pf_centi / 100.0)"
PF_OR_NULL = f"CASE WHEN r.kvar = 0 AND {PF} = 0 THEN NULL ELSE {PF} END"


def is_sqlite(db: Database) -> bool:
    return isinstance(db, SqliteDatabase)


def marks(db: Database, count: int) -> str:
    """`count` placeholders for an IN list: `?, ?, ?` or `%s, %s, %s`."""
    return ", ".join([db.param] * count)


def text_order(db: Database, column: str) -> str:
    """`column` for ORDER BY in code-point order on both backends.

    SQLite compares text bytewise (BINARY); PostgreSQL uses the database's collation,
    which in en_US and most others ignores spaces and case at first, so `A 2` and `A1`
    or `ash` and `Birch` would come back in another order. COLLATE "C" is bytewise there.
    """
    return column if is_sqlite(db) else f'{column} COLLATE "C"'


def local_seconds(
    db: Database, column: str, start: int, end: int, zone: ZoneInfo
) -> tuple[str, list[int]]:
    """SQL for `column` (UTC epoch) shifted to wall-clock seconds in `zone` over [start, end).

    A CASE over the zone's offset changes in the range, in plain integer arithmetic, so
    integer division of the result names the local day on SQLite and PostgreSQL alike.
    """
    p = db.param
    segments = offset_segments(start, end, zone)
    if len(segments) == 1:
        return f"({column} + {p})", [segments[0][1]]
    parts, params = [], []
    for (_, offset), (next_start, _) in zip(segments, segments[1:], strict=False):
        parts.append(f"WHEN {column} < {p} THEN {p}")
        params += [next_start, offset]
    params.append(segments[-1][1])
    return f"({column} + CASE {' '.join(parts)} ELSE {p} END)", params


def area_row(db: Database, area_id: int) -> tuple[int, str, str, bool] | None:
    """(id, name, abbreviation, is_aggregate); is_aggregate is 0/1 on SQLite, bool on PG."""
    return db.execute_sql(
        f"SELECT id, name, abbreviation, is_aggregate FROM area WHERE id = {db.param}",
        (area_id,),
    ).fetchone()


def area_name(db: Database, area_id: int) -> str | None:
    row = area_row(db, area_id)
    return row[1] if row else None


class DatabaseSize(NamedTuple):
    """The database's size in bytes and how it was measured (shown beside the figure)."""

    bytes: int | None
    basis: str


def database_size(db: Database) -> DatabaseSize:
    """Bytes the database takes, measured the way each backend can from a read-only session.

    SQLite: page_count x page_size of the main file; the WAL beside it is not included (it
    holds at most `journal_size_limit` after a checkpoint). PostgreSQL: pg_database_size,
    every table, index and TOAST file of the database on the server, without server WAL.
    """
    if is_sqlite(db):
        pages = db.execute_sql("PRAGMA page_count").fetchone()[0]
        size = db.execute_sql("PRAGMA page_size").fetchone()[0]
        return DatabaseSize(pages * size, "sqlite page_count x page_size, WAL not included")
    row = db.execute_sql("SELECT pg_database_size(current_database())").fetchone()
    return DatabaseSize(row[0], "postgresql pg_database_size, server WAL not included")
