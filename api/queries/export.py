"""Cursors for exports: rows in time order, fetched in batches by the caller."""

from __future__ import annotations

from typing import Any

from peewee import Database

from api.queries.common import PF_OR_NULL

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


def load_rows(db: Database, area_id: int | None, start: int, end: int) -> Any:
    where = "AND h.area_id = ?" if area_id is not None else ""
    extra = [area_id] if area_id is not None else []
    return db.execute_sql(
        f"""SELECT h.ts, h.area_id, a.abbreviation, h.load_kw
            FROM hourly_load h JOIN area a ON a.id = h.area_id
            WHERE h.ts >= ? AND h.ts < ? {where} ORDER BY h.area_id, h.ts""",
        (start, end, *extra),
    )


def reading_rows(db: Database, area_id: int | None, start: int, end: int) -> Any:
    """Readings in key order (time, then substation), so no sort is needed for any size."""
    where = "AND s.area_id = ?" if area_id is not None else ""
    extra = [area_id] if area_id is not None else []
    return db.execute_sql(
        f"""SELECT r.ts, s.area_id, a.abbreviation, s.id, s.name, r.kw, r.kvar,
                   {PF_OR_NULL}, r.quality, r.quality_now
            FROM substation_reading r
            JOIN substation s ON s.id = r.substation_id
            JOIN area a ON a.id = s.area_id
            WHERE r.ts >= ? AND r.ts < ? {where} ORDER BY r.ts, r.substation_id""",
        (start, end, *extra),
    )
