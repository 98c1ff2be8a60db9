"""Cursors for exports: rows in time order, fetched in batches by the caller.

SQLite steps through a result as it is fetched. psycopg2's ordinary cursor would load the
whole result into the API worker at execute (a year of readings is tens of millions of
rows), so on PostgreSQL the rows come through a server-side cursor instead.
"""

from __future__ import annotations

import itertools
from typing import Any

from peewee import Database

from api.queries.common import PF_OR_NULL, is_sqlite

LOAD_HEADER = ("timestamp", "area_id", "abbreviation", "load_kw")
READING_HEADER = (
    "timestamp",
    "area_id",
    "abbreviation",
    "substation_id",
    "substation",
    "kw",
    "kvar",
    "pf",
    "quality",
    "quality_now",
)

_cursor_numbers = itertools.count(1)


class ServerCursor:
    """`fetchmany` over a PostgreSQL DECLARE ... CURSOR, in a transaction of its own.

    peewee keeps PostgreSQL connections in autocommit mode, where psycopg2 refuses named
    cursors, so the cursor is declared in SQL inside an explicit BEGIN (read-only, like
    every API session). It is closed and the transaction ended once the rows run out;
    a stream abandoned halfway is rolled back when the connection is closed or returned
    to the pool.
    """

    def __init__(self, db: Database, sql: str, params: tuple) -> None:
        self.db = db
        self.name = f"kamo_export_{next(_cursor_numbers)}"
        self.done = False
        db.execute_sql("BEGIN READ ONLY")
        try:
            db.execute_sql(f"DECLARE {self.name} NO SCROLL CURSOR FOR {sql}", params)
        except Exception:
            db.execute_sql("ROLLBACK")  # leave the connection usable, not in a failed block
            raise

    def fetchmany(self, size: int) -> list[tuple]:
        if self.done:
            return []
        rows = self.db.execute_sql(f"FETCH FORWARD {int(size)} FROM {self.name}").fetchall()
        if not rows:
            self.close()
        return rows

    def close(self) -> None:
        if not self.done:
            self.done = True
            self.db.execute_sql(f"CLOSE {self.name}")
            self.db.execute_sql("COMMIT")


def _rows(db: Database, sql: str, params: tuple) -> Any:
    return db.execute_sql(sql, params) if is_sqlite(db) else ServerCursor(db, sql, params)


def load_rows(db: Database, area_id: int | None, start: int, end: int) -> Any:
    p = db.param
    where = f"AND h.area_id = {p}" if area_id is not None else ""
    extra = [area_id] if area_id is not None else []
    return _rows(
        db,
        f"""SELECT h.ts, h.area_id, a.abbreviation, h.load_kw
            FROM hourly_load h JOIN area a ON a.id = h.area_id
            WHERE h.ts >= {p} AND h.ts < {p} {where} ORDER BY h.area_id, h.ts""",
        (start, end, *extra),
    )


def reading_rows(db: Database, area_id: int | None, start: int, end: int) -> Any:
    """Readings in key order (time, then substation), so no sort is needed for any size."""
    p = db.param
    where = f"AND s.area_id = {p}" if area_id is not None else ""
    extra = [area_id] if area_id is not None else []
    return _rows(
        db,
        f"""SELECT r.ts, s.area_id, a.abbreviation, s.id, s.name, r.kw, r.kvar,
                   {PF_OR_NULL}, r.quality, r.quality_now
            FROM substation_reading r
            JOIN substation s ON s.id = r.substation_id
            JOIN area a ON a.id = s.area_id
            WHERE r.ts >= {p} AND r.ts < {p} {where} ORDER BY r.ts, r.substation_id""",
        (start, end, *extra),
    )
