"""SQL of the dashboard pages that the API's query modules do not have yet.

Placeholders are written `{p}` and filled with `db.param`, so the same text runs on SQLite
and PostgreSQL. In the table browser, table and column names come only from the database's
own catalogue (peewee's introspection, checked by the caller), never from the request, and
are always quoted.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from peewee import Database

from api.queries.status import RUN_COLUMNS, RUN_FIELDS


def quote(name: str) -> str:
    """An SQL identifier in double quotes (standard SQL: SQLite and PostgreSQL)."""
    return '"' + name.replace('"', '""') + '"'


def substation(db: Database, substation_id: int) -> tuple[int, int, str, int, int] | None:
    """(id, area_id, name, first_seen, last_seen) of one substation."""
    return db.execute_sql(
        f"SELECT id, area_id, name, first_seen, last_seen FROM substation WHERE id = {db.param}",
        (substation_id,),
    ).fetchone()


def runs_page(
    db: Database,
    limit: int,
    *,
    before_id: int | None = None,
    after_id: int | None = None,
    status: str | None = None,
    trigger: str | None = None,
) -> list[dict]:
    """Import runs newest first, keyset-paged on id: older than `before_id`, or the page
    just newer than `after_id` (read upwards, returned newest first)."""
    p = db.param
    where, params = [], []
    for clause, value in (
        (f"id < {p}", before_id),
        (f"id > {p}", after_id),
        (f"status = {p}", status),
        (f'"trigger" = {p}', trigger),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    order = "ASC" if after_id is not None and before_id is None else "DESC"
    sql = (
        f"SELECT {RUN_COLUMNS} FROM import_run "
        f"{'WHERE ' + ' AND '.join(where) if where else ''} ORDER BY id {order} LIMIT {p}"
    )
    found = db.execute_sql(sql, (*params, limit)).fetchall()
    if order == "ASC":
        found.reverse()
    return [dict(zip(RUN_FIELDS, row, strict=True)) for row in found]


def run_exists(
    db: Database,
    *,
    newer_than: int | None = None,
    older_than: int | None = None,
    status: str | None = None,
    trigger: str | None = None,
) -> bool:
    """Whether any run matching the filters lies beyond a page edge (for paging links)."""
    p = db.param
    where, params = [], []
    for clause, value in (
        (f"id > {p}", newer_than),
        (f"id < {p}", older_than),
        (f"status = {p}", status),
        (f'"trigger" = {p}', trigger),
    ):
        if value is not None:
            where.append(clause)
            params.append(value)
    sql = f"SELECT 1 FROM import_run WHERE {' AND '.join(where) or '1 = 1'} LIMIT 1"
    return db.execute_sql(sql, params).fetchone() is not None


def capped_count(db: Database, table: str, cap: int) -> int:
    """Rows in `table`, counting at most `cap` (so a big table costs at most `cap` steps)."""
    sql = f"SELECT count(*) FROM (SELECT 1 FROM {quote(table)} LIMIT {db.param}) AS capped"
    return db.execute_sql(sql, (cap,)).fetchone()[0]


def browse(
    db: Database,
    table: str,
    columns: Sequence[str],
    order: Sequence[str],
    *,
    descending: bool,
    limit: int,
    after: Sequence[Any] | None = None,
    before: Sequence[Any] | None = None,
) -> list[tuple]:
    """One page of `table` in `order` (columns that end in a unique key, none nullable).

    Keyset paging: `after` is the order key of the last row shown (the next page), `before`
    that of the first row shown (the previous page, read backwards and returned in page
    order). Row-value comparisons run as index range searches on SQLite and PostgreSQL.
    """
    p = db.param
    key = ", ".join(quote(c) for c in order)
    forward = before is None
    # Reading backwards flips both the comparison and the direction of the order.
    reverse = descending if forward else not descending
    where, params = "", []
    edge = after if forward else before
    if edge is not None:
        sign = "<" if reverse else ">"
        where = f"WHERE ({key}) {sign} ({', '.join([p] * len(order))})"
        params = list(edge)
    direction = " DESC" if reverse else ""
    ordering = f"ORDER BY {', '.join(quote(c) + direction for c in order)}" if order else ""
    sql = (
        f"SELECT {', '.join(quote(c) for c in columns)} FROM {quote(table)} {where} "
        f"{ordering} LIMIT {p}"
    )
    rows = db.execute_sql(sql, (*params, limit)).fetchall()
    if not forward:
        rows.reverse()
    return rows
