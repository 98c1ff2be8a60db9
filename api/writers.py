"""Streaming writers for exports: CSV, a JSON array, or NDJSON, in constant memory.

Rows arrive from a database cursor in batches and leave as text chunks; nothing holds
the whole result. CSV text cells that a spreadsheet would run as a formula are
neutralised with a leading quote; numbers are written as numbers, signs included.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

FORMATS = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "ndjson": "application/x-ndjson",
}
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BATCH = 2000


def safe_cell(value: Any) -> Any:
    """A CSV cell: text starting like a formula gets a leading `'`; numbers are kept."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    if isinstance(value, bool):
        return int(value)
    return value


def batched(cursor: Any, size: int = BATCH) -> Iterator[tuple]:
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            return
        yield from rows


def stream(
    fmt: str,
    header: Sequence[str],
    rows: Iterable[tuple],
    convert: Callable[[tuple], Sequence[Any]],
) -> Iterator[str]:
    """Chunks of text for `rows` in `fmt`; `convert` maps a database row to output values."""
    if fmt == "csv":
        yield from _csv(header, rows, convert)
    elif fmt == "json":
        yield "["
        first = True
        for chunk in _objects(header, rows, convert):
            yield chunk if first else "," + chunk
            first = False
        yield "]\n"
    else:
        for chunk in _objects(header, rows, convert):
            yield chunk + "\n"


def _csv(header, rows, convert) -> Iterator[str]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    for count, row in enumerate(rows, 1):
        writer.writerow([safe_cell(v) for v in convert(row)])
        if count % 500 == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def _objects(header, rows, convert) -> Iterator[str]:
    for row in rows:
        yield json.dumps(dict(zip(header, convert(row), strict=True)), separators=(",", ":"))
