"""What is copied: each SQLite table's columns and key, and the SQL that reads it in key
order on both sides, a batch at a time (keyset pagination: `WHERE key > last`).

Rows come back from both databases in the same Python shape, so they compare with `==`
and hash alike: PostgreSQL booleans are read as integers (SQLite keeps 0/1), and text keys
are ordered bytewise on PostgreSQL (COLLATE "C"), as SQLite's BINARY collation does.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from typing import Any

# Tables of the migration itself, never copied.
PROGRESS_TABLE = "migrate_progress"


def qident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    key: tuple[str, ...]  # primary key columns, in key order
    pg_types: dict[str, str]  # column -> PostgreSQL data_type

    @property
    def key_positions(self) -> tuple[int, ...]:
        return tuple(self.columns.index(k) for k in self.key)

    def key_of(self, row: tuple) -> tuple:
        return tuple(row[i] for i in self.key_positions)

    # --- SQLite (the source) ---------------------------------------------------------------

    def sqlite_batch(self, after: tuple | None, limit: int) -> tuple[str, list[Any]]:
        cols = ", ".join(qident(c) for c in self.columns)
        order = ", ".join(qident(k) for k in self.key)
        where, params = "", []
        if after is not None:
            where = f"WHERE {_row(self.key)} > ({', '.join('?' * len(self.key))}) "
            params = list(after)
        sql = f"SELECT {cols} FROM {qident(self.name)} {where}ORDER BY {order} LIMIT ?"
        return sql, [*params, limit]

    # --- PostgreSQL (the target) -----------------------------------------------------------

    def _pg_key(self) -> list[str]:
        return [
            f'{qident(k)} COLLATE "C"' if self.pg_types[k] == "text" else qident(k)
            for k in self.key
        ]

    def pg_range(self, after: tuple | None, upto: tuple | None) -> tuple[str, list[Any]]:
        """Rows with `after < key <= upto` (either bound open when None), in key order."""
        cols = ", ".join(
            f"{qident(c)}::int" if self.pg_types[c] == "boolean" else qident(c)
            for c in self.columns
        )
        where, params = self._pg_where(after, upto)
        order = ", ".join(self._pg_key())
        return f"SELECT {cols} FROM {qident(self.name)}{where} ORDER BY {order}", params

    def pg_delete(self, after: tuple | None, upto: tuple | None) -> tuple[str, list[Any]]:
        where, params = self._pg_where(after, upto)
        return f"DELETE FROM {qident(self.name)}{where}", params

    def _pg_where(self, after: tuple | None, upto: tuple | None) -> tuple[str, list[Any]]:
        key = f"({', '.join(self._pg_key())})"
        marks = f"({', '.join(['%s'] * len(self.key))})"
        parts, params = [], []
        if after is not None:
            parts.append(f"{key} > {marks}")
            params += list(after)
        if upto is not None:
            parts.append(f"{key} <= {marks}")
            params += list(upto)
        return (" WHERE " + " AND ".join(parts) if parts else ""), params


def _row(columns: tuple[str, ...]) -> str:
    return f"({', '.join(qident(c) for c in columns)})"


def source_tables(conn: sqlite3.Connection) -> list[tuple[str, tuple[str, ...], tuple[str, ...]]]:
    """(table, columns, primary key) of every table in the SQLite database."""
    names = [
        name
        for (name,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' "
            "AND name NOT LIKE 'sqlite_%' ORDER BY name"
        )
    ]
    found = []
    for name in names:
        info = conn.execute(f"PRAGMA table_info({qident(name)})").fetchall()
        columns = tuple(r[1] for r in info)
        key = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
        found.append((name, columns, key))
    return found


def pg_column_types(cursor: Any) -> dict[str, dict[str, str]]:
    """table -> column -> data_type, for the target's current schema."""
    cursor.execute(
        "SELECT table_name, column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = current_schema()"
    )
    types: dict[str, dict[str, str]] = {}
    for table, column, kind in cursor.fetchall():
        types.setdefault(table, {})[column] = kind
    return types
