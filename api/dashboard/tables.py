"""The table browser (`/tables`, `/tables/csv`): every table, its columns, row counts, pages.

Names come from the database's own catalogue through peewee's introspection (works on
SQLite and PostgreSQL), so a table added by a migration shows up without code here.

- Row counts: the counts the collector keeps for the big tables, exact counts for the
  small ones, a labelled estimate for the hourly rollup, and a capped count for tables this
  code does not know. Never a COUNT(*) over the readings.
- Sorting is whitelisted per table. Small tables sort on any non-null column (then the
  key); big and unknown tables only on their key and on indexed non-null columns, so each
  page is an index range read.
- Paging is keyset only (the order key of the row at the page edge), never OFFSET.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from flask import Response, current_app, render_template, request, stream_with_context
from peewee import Database

from api import params
from api.collector_requests import poll_interval_minutes
from api.dashboard.blueprint import bp
from api.dbconn import get_db
from api.errors import BadParameter
from api.queries import dashboard as dq
from api.queries import status as status_q
from api.writers import stream
from shared.timeutil import iso

SMALL_TABLES = frozenset(
    {"area", "substation", "row_count", "schema_version", "rollup_state", "alert_state"}
)
KEPT_COUNTS = frozenset({"hourly_load", "substation_reading"})
EXACT_COUNTS = frozenset({"area", "substation", "import_run"})  # api.queries.status.small_counts
ESTIMATED = "substation_hourly"
COUNT_CAP = 10_000
PAGE_SIZES = (25, 50, 100, 250, 500)
DEFAULT_PAGE = 50
MAX_PAGE = PAGE_SIZES[-1]
TIME_NAMES = frozenset({"ts", "first_seen", "last_seen", "last_changed", "built_until"})


def is_time_column(name: str) -> bool:
    """Columns holding UTC epoch seconds, shown as local dates."""
    return name in TIME_NAMES or name.endswith(("_at", "_ts", "_seen", "_since", "_until"))


@dataclass
class Column:
    name: str
    data_type: str
    nullable: bool
    in_key: bool = False
    indexed: bool = False
    time: bool = False

    @property
    def numeric(self) -> bool:
        kind = self.data_type.upper()
        return any(t in kind for t in ("INT", "REAL", "DOUB", "FLOA", "NUM", "BOOL"))


@dataclass
class Table:
    name: str
    columns: list[Column]
    key: tuple[str, ...]
    small: bool
    sorts: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> order key

    @property
    def default_sort(self) -> str | None:
        if self.key and self.key[0] in self.sorts:
            return self.key[0]
        return next(iter(self.sorts), None)

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


def catalogue(db: Database) -> dict[str, Table]:
    """{name: Table} of every user table, with its whitelisted sort orders."""
    tables = {}
    for name in db.get_tables():
        if name.startswith(("sqlite_", "pg_")):
            continue
        key = tuple(db.get_primary_keys(name))
        columns = [Column(c.name, c.data_type or "", bool(c.null)) for c in db.get_columns(name)]
        by_name = {c.name: c for c in columns}
        for col in key:
            if col in by_name:
                by_name[col].in_key = True
        table = Table(name, columns, key, name in SMALL_TABLES)
        for c in columns:
            c.time = is_time_column(c.name)
        # Unique order keys: the key itself, then each index with the key appended (an
        # index entry carries the row's key, so that order is the index's own order).
        if key:  # key columns are never NULL
            table.sorts[key[0]] = key
        for index in db.get_indexes(name):
            cols = [c for c in index.columns if c in by_name]
            if not cols or any(by_name[c].nullable for c in cols):
                continue
            by_name[cols[0]].indexed = True
            table.sorts.setdefault(cols[0], (*cols, *(k for k in key if k not in cols)))
        if table.small:
            for c in columns:
                if not c.nullable:
                    table.sorts.setdefault(c.name, (c.name, *(k for k in key if k != c.name)))
        tables[name] = table
    return tables


def row_counts(db: Database, tables: dict[str, Table], interval_minutes: int) -> dict[str, tuple]:
    """{table: (rows, how)}; how is `kept`, `exact`, `estimate` or `at least`."""
    kept = status_q.kept_counts(db)
    exact = status_q.small_counts(db)
    out: dict[str, tuple] = {}
    for name in tables:
        if name in KEPT_COUNTS and name in kept:
            out[name] = (kept[name], "kept")
        elif name in EXACT_COUNTS and name in exact:
            out[name] = (exact[name], "exact")
        else:
            counted = dq.capped_count(db, name, COUNT_CAP + 1)
            if counted <= COUNT_CAP:
                out[name] = (counted, "exact")
            elif name == ESTIMATED and kept.get("substation_reading") is not None:
                # One rollup row per substation and hour: readings / polls per hour.
                estimate = round(kept["substation_reading"] * interval_minutes / 60)
                out[name] = (max(estimate, counted), "estimate")
            else:
                out[name] = (COUNT_CAP, "at least")
    return out


def _check_value(value: Any, column: Column) -> Any:
    kind = column.data_type.upper()
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError
    if "INT" in kind and not isinstance(value, int):
        raise ValueError
    if any(t in kind for t in ("REAL", "DOUB", "FLOA", "NUMERIC")) and isinstance(value, str):
        raise ValueError
    if any(t in kind for t in ("TEXT", "CHAR")) and not isinstance(value, str):
        raise ValueError
    return value


def parse_edge(name: str, raw: str | None, table: Table, order: tuple[str, ...]) -> list | None:
    """The `after`/`before` parameter: a JSON list holding one value per order column."""
    if raw is None:
        return None
    try:
        values = json.loads(raw)
        if not isinstance(values, list) or len(values) != len(order):
            raise ValueError
        return [_check_value(v, table.column(c)) for v, c in zip(values, order, strict=True)]
    except (ValueError, RecursionError):
        raise BadParameter(
            name, f"{name} must be a JSON list of {len(order)} value(s): {', '.join(order)}"
        ) from None


def page(
    db: Database,
    table: Table,
    sort: str | None,
    descending: bool,
    size: int,
    after: list | None,
    before: list | None,
) -> dict[str, Any]:
    """One page of rows plus the edge keys and whether pages lie before and after it."""
    names = [c.name for c in table.columns]
    if sort is None:  # no unique key to page on: the first rows only
        rows = dq.browse(db, table.name, names, [], descending=False, limit=size)
        return {"rows": rows, "order": (), "next": None, "previous": None}
    order = table.sorts[sort]
    rows = dq.browse(
        db,
        table.name,
        names,
        order,
        descending=descending,
        limit=size + 1,
        after=after,
        before=before,
    )
    more = len(rows) > size
    if more:
        rows = rows[1:] if before is not None else rows[:size]
    positions = [names.index(c) for c in order]

    def edge(row: tuple) -> str:
        return json.dumps([row[i] for i in positions], separators=(",", ":"))

    has_next = more if before is None else True
    has_previous = (before is not None and more) or after is not None
    return {
        "rows": rows,
        "order": order,
        "next": edge(rows[-1]) if rows and has_next else None,
        "previous": edge(rows[0]) if rows and has_previous else None,
    }


def _table_request(db):
    """The table browser's parameters, checked: (tables, table, sort, desc, size, after,
    before). table is None on the overview."""
    tables = catalogue(db)
    name = params.text("table", 64)
    if name is None:
        return tables, None, None, False, DEFAULT_PAGE, None, None
    if name not in tables:
        raise BadParameter("table", f"there is no table {name!r}; pick one from the list")
    table = tables[name]
    sort = params.text("sort", 64) or table.default_sort
    if sort is not None and sort not in table.sorts:
        allowed = ", ".join(table.sorts) or "none"
        raise BadParameter("sort", f"{name} can be sorted by {allowed} only")
    descending = params.choice("dir", "asc" if table.small else "desc", ("asc", "desc")) == "desc"
    size = params.integer("size", DEFAULT_PAGE, 1, MAX_PAGE)
    order = table.sorts.get(sort, ()) if sort else ()
    after = parse_edge("after", params.text("after", 2000), table, order)
    before = parse_edge("before", params.text("before", 2000), table, order)
    if after is not None and before is not None:
        raise BadParameter("before", "give after or before, not both")
    return tables, table, sort, descending, size, after, before


@bp.get("/tables")
def tables():
    db = get_db()
    tables, table, sort, descending, size, after, before = _table_request(db)
    counts = row_counts(db, tables, poll_interval_minutes())
    shown = page(db, table, sort, descending, size, after, before) if table else None
    return render_template(
        "tables.html",
        tables=tables,
        counts=counts,
        table=table,
        sort=sort,
        descending=descending,
        size=size,
        sizes=PAGE_SIZES,
        page=shown,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )


@bp.get("/tables/csv")
def tables_csv():
    """The rows of one table page as CSV (same parameters as the page)."""
    db = get_db()
    _tables, table, sort, descending, size, after, before = _table_request(db)
    if table is None:
        raise BadParameter("table", "table is required for CSV")
    shown = page(db, table, sort, descending, size, after, before)
    zone = current_app.config["ZONE"]
    times = [c.time for c in table.columns]

    def convert(row: tuple) -> list:
        return [
            iso(v, zone) if t and isinstance(v, int | float) and v > 0 else v
            for v, t in zip(row, times, strict=True)
        ]

    body = stream("csv", [c.name for c in table.columns], shown["rows"], convert)
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
    return response
