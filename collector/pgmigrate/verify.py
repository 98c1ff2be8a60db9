"""Verification and catch-up: both databases read in key order, batch by batch, in one
SQLite read transaction. Where a range of keys differs (the collector wrote after an
interrupted run copied it, or retention deleted old rows since), the target's range is
replaced by the source's. Every row is compared exactly; the checksums printed summarise
that, computed the same way on both sides from the rows as Python reads them: the sum of
the rows' hash() values, modulo 2**64 (order-independent, and fast enough for a year of
readings). Python salts the hash of text per process, so compare the two columns of one
run, not checksums of different runs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .copying import copy_rows
from .tables import Table

FETCH = 10_000  # target rows past the source's last key, read this many at a time


MASK = (1 << 64) - 1


@dataclass
class Side:
    rows: int = 0
    total: int = 0

    def add(self, rows: list[tuple]) -> None:
        self.rows += len(rows)
        self.total = (self.total + sum(map(hash, rows))) & MASK

    @property
    def checksum(self) -> str:
        return f"{self.total:016x}"


@dataclass
class Verified:
    table: str
    source: Side
    target: Side
    repaired: int  # target rows that differed from the source and were replaced

    @property
    def ok(self) -> bool:
        return self.source.rows == self.target.rows and self.source.checksum == self.target.checksum


def _target_rows(cursor: Any, table: Table, after: tuple | None, upto: tuple | None) -> list:
    sql, params = table.pg_range(after, upto)
    cursor.execute(sql, params)
    return cursor.fetchall()


def verify_table(
    source: Any, target: Any, table: Table, batch: int, advance: Callable[[int], None]
) -> Verified:
    src, tgt, repaired = Side(), Side(), 0
    cursor = target.cursor()
    after: tuple | None = None
    while True:
        sql, params = table.sqlite_batch(after, batch)
        found = source.execute(sql, params).fetchall()
        last_batch = len(found) < batch
        # The last batch's range is open-ended: target rows past the source's end count too.
        upto = None if last_batch else table.key_of(found[-1])
        there = _target_rows(cursor, table, after, upto)
        if there != found:
            repaired += len(set(found).symmetric_difference(there))
            delete, params = table.pg_delete(after, upto)
            cursor.execute(delete, params)
            if found:
                copy_rows(cursor, table, found)
            target.commit()
            there = _target_rows(cursor, table, after, upto)
        src.add(found)
        tgt.add(there)
        advance(len(found))
        if last_batch:
            break
        after = upto
    target.commit()
    return Verified(table.name, src, tgt, repaired)


def report(results: list[Verified]) -> list[str]:
    """The table printed at the end: rows and checksums on both sides."""
    head = ("table", "SQLite rows", "PostgreSQL rows", "SQLite checksum", "PostgreSQL checksum", "")
    lines = [
        (
            r.table,
            f"{r.source.rows:,}",
            f"{r.target.rows:,}",
            r.source.checksum,
            r.target.checksum,
            ("ok" if r.ok else "DIFFERENT")
            + (f" ({r.repaired:,} caught up)" if r.repaired else ""),
        )
        for r in results
    ]
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    out = []
    for n, row in enumerate([head, tuple("-" * w for w in widths), *lines]):
        cells = [c.rjust(w) if 0 < i < 3 and n != 1 else c.ljust(w) for i, (c, w) in
                 enumerate(zip(row, widths, strict=True))]  # fmt: skip
        out.append("  ".join(cells).rstrip())
    return out
