"""The copy: batches of SQLite rows into PostgreSQL with COPY, each batch committed with
its place in `migrate_progress`, so an interrupted run resumes after the last batch."""

from __future__ import annotations

import io
import json
import math
from collections.abc import Callable, Sequence
from typing import Any

from .tables import PROGRESS_TABLE, Table, qident


def _text(value: str) -> str:
    return (
        value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    )


def _float(value: Any) -> str:
    value = float(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    return repr(value)


def _bool(value: Any) -> str:
    return "t" if value else "f"


def _plain(value: Any) -> str:
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, float):
        return _float(value)
    if isinstance(value, bytes):
        return "\\\\x" + value.hex()
    return str(value)


def _converters(table: Table) -> list[Callable[[Any], str]]:
    """One function a column, by its PostgreSQL type: SQLite's 0/1 become booleans there."""
    out = []
    for column in table.columns:
        kind = table.pg_types[column]
        if kind == "boolean":
            out.append(_bool)
        elif kind in ("double precision", "real", "numeric"):
            out.append(_float)
        elif kind in ("bigint", "integer", "smallint"):
            out.append(str)
        else:
            out.append(_plain)
    return out


NUMERIC = ("bigint", "integer", "smallint", "boolean", "double precision", "real")


def copy_text(table: Table, rows: Sequence[tuple]) -> str:
    """`rows` in COPY's text format: tab-separated, \\N for NULL, a line each."""
    if all(table.pg_types[c] in NUMERIC for c in table.columns):
        # Numbers only (the big tables): str() is exact for floats (shortest repr, which
        # PostgreSQL reads back to the same double), 0/1 are booleans to COPY, and "None"
        # can only come from NULL. One pass in C, several times faster than per value.
        text = "\n".join(["\t".join(map(str, row)) for row in rows])
        return text.replace("None", "\\N") + "\n"
    convert = _converters(table)
    lines = [
        "\t".join("\\N" if v is None else f(v) for f, v in zip(convert, row, strict=True))
        for row in rows
    ]
    return "\n".join(lines) + "\n"


def copy_rows(cursor: Any, table: Table, rows: Sequence[tuple]) -> None:
    """COPY `rows` into `table`."""
    data = io.StringIO(copy_text(table, rows))
    cols = ", ".join(qident(c) for c in table.columns)
    cursor.copy_expert(f"COPY {qident(table.name)} ({cols}) FROM STDIN", data)


# --- where each table stands -------------------------------------------------------------


def create_progress(cursor: Any, tables: list[Table]) -> None:
    cursor.execute(
        f"CREATE TABLE {PROGRESS_TABLE} (table_name TEXT PRIMARY KEY, last_key TEXT, "
        "rows BIGINT NOT NULL DEFAULT 0, done BOOLEAN NOT NULL DEFAULT FALSE)"
    )
    for table in tables:
        cursor.execute(f"INSERT INTO {PROGRESS_TABLE} (table_name) VALUES (%s)", (table.name,))


def read_progress(cursor: Any) -> dict[str, tuple[tuple | None, int, bool]]:
    """table -> (last key copied or None, rows copied, done)."""
    cursor.execute(f"SELECT table_name, last_key, rows, done FROM {PROGRESS_TABLE}")
    return {
        name: (None if key is None else tuple(json.loads(key)), rows, done)
        for name, key, rows, done in cursor.fetchall()
    }


def _record(cursor: Any, table: Table, key: tuple | None, rows: int, done: bool) -> None:
    cursor.execute(
        f"UPDATE {PROGRESS_TABLE} SET last_key = %s, rows = %s, done = %s WHERE table_name = %s",
        (None if key is None else json.dumps(list(key)), rows, done, table.name),
    )


class Stop(Exception):
    """Raised by the injected stop (tests): the run ends as if interrupted."""


def copy_table(
    source: Any,
    target: Any,
    table: Table,
    state: tuple[tuple | None, int, bool],
    batch: int,
    advance: Callable[[int], None],
    budget: list[int] | None = None,
) -> int:
    """Copy the rest of `table` from where `state` says; returns the rows it copied now.

    `source` is a sqlite3 connection inside its read transaction; `target` a psycopg2
    connection (not autocommit): each batch and its progress row commit together.
    `budget` (tests) holds the batches left before an injected stop.
    """
    last, rows, done = state
    copied = 0
    cursor = target.cursor()
    while not done:
        sql, params = table.sqlite_batch(last, batch)
        found = source.execute(sql, params).fetchall()
        if found:
            copy_rows(cursor, table, found)
            last = table.key_of(found[-1])
            rows += len(found)
            copied += len(found)
        done = len(found) < batch
        _record(cursor, table, last, rows, done)
        target.commit()
        advance(len(found))
        if budget is not None:
            budget[0] -= 1
            if budget[0] <= 0 and not done:
                raise Stop(f"stopped after the planned number of batches, in {table.name}")
    return copied


def advance_sequences(cursor: Any, table: Table) -> None:
    """Serial columns: the next id the collector takes follows the copied rows."""
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = "
        "current_schema() AND table_name = %s AND column_default LIKE 'nextval%%'",
        (table.name,),
    )
    for (column,) in cursor.fetchall():
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, %s), "
            f"coalesce(max({qident(column)}), 0) + 1, false) FROM {qident(table.name)}",
            (qident(table.name), column),
        )
