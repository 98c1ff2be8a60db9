"""migrate.sh export: the whole database (SQLite or PostgreSQL) as one portable SQL dump.

The dump is SQLite SQL, so `sqlite3 new.db < dump.sql` loads it as well as migrate.sh import.
"""

from __future__ import annotations

import itertools
import math
import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from peewee import SqliteDatabase
from playhouse.db_url import connect as connect_url

from collector.backup_files import (
    closing_owned,
    connect_existing,
    describe,
    qident,
    user_tables,
    utc_now,
)
from shared.db import bind
from shared.schema import SCHEMA_VERSION, migrate

from .errors import Refused
from .locate import locate, redact
from .output import row_counts

DUMP_MAGIC = "-- KAMO Load Logger SQL dump"
DUMP_FORMAT = 1
INSERT_BATCH = 500


def sql_literal(value: object) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NULL"
        if math.isinf(value):
            return "1e999" if value > 0 else "-1e999"
        return repr(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return "X'" + bytes(value).hex() + "'"
    return "'" + str(value).replace("'", "''") + "'"


def insert_into(table: str, columns: list[str]) -> str:
    return f"INSERT INTO {qident(table)} ({', '.join(qident(c) for c in columns)})"


def write_inserts(out: TextIO, table: str, columns: list[str], rows: Iterable[Any]) -> int:
    head = f"{insert_into(table, columns)} VALUES\n"
    count = 0
    batch: list[str] = []
    for row in rows:
        batch.append("(" + ", ".join(sql_literal(v) for v in row) + ")")
        count += 1
        if len(batch) >= INSERT_BATCH:
            out.write(head + ",\n".join(batch) + ";\n")
            batch = []
    if batch:
        out.write(head + ",\n".join(batch) + ";\n")
    return count


def _sqlite_schema(conn: sqlite3.Connection) -> tuple[list[str], list[str]]:
    """(CREATE TABLE statements, the other statements: indexes, views, triggers)."""
    tables, others = [], []
    rows = conn.execute(
        "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' "
        "ORDER BY CASE type WHEN 'table' THEN 0 WHEN 'index' THEN 1 ELSE 2 END, name"
    )
    for kind, sql in rows:
        (tables if kind == "table" else others).append(sql + ";")
    return tables, others


def _program_sqlite_schema() -> tuple[list[str], list[str], list[str]]:
    """(tables, other statements, table names) of the SQLite schema this program creates;
    used when exporting from PostgreSQL."""
    db = bind(SqliteDatabase(":memory:"))
    migrate(db)
    conn = db.connection()
    tables, others = _sqlite_schema(conn)
    names = user_tables(conn)
    db.close()
    return tables, others, names


def _dump_header(out: TextIO, version: int, source: str, counts: dict[str, int]) -> None:
    out.write(f"{DUMP_MAGIC} (scripts/migrate.sh export)\n")
    out.write(f"-- format: {DUMP_FORMAT}\n-- schema_version: {version}\n")
    out.write(f"-- exported_at: {utc_now():%Y-%m-%dT%H:%M:%SZ}\n-- source: {source}\n")
    out.write("-- rows: " + ", ".join(f"{t} {n}" for t, n in counts.items()) + "\n")
    out.write(
        "-- Load with: scripts/migrate.sh import < dump.sql  (or: sqlite3 new.db < dump.sql)\n"
    )
    out.write("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")


def export_sqlite(db: Path, out: TextIO) -> tuple[int, dict[str, int]]:
    conn = connect_existing(db)
    with closing_owned(conn, db):
        conn.execute("BEGIN")  # one read transaction: the dump is one consistent state
        info = describe(conn)
        if info.schema_version is None:
            raise Refused(f"{db} has no schema_version table: not a KAMO Load Logger database")
        tables, others = _sqlite_schema(conn)
        _dump_header(out, info.schema_version, f"sqlite ({db.name})", info.counts)
        for sql in tables:
            out.write(sql + "\n")
        for table in user_tables(conn):
            cur = conn.execute(f"SELECT * FROM {qident(table)}")
            columns = [d[0] for d in cur.description]
            write_inserts(out, table, columns, cur)
        for sql in others:
            out.write(sql + "\n")
        out.write("COMMIT;\n")
        conn.execute("COMMIT")
    return info.schema_version, info.counts


def _pg_primary_keys(cur: Any, table: str) -> list[str]:
    cur.execute(
        "SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid "
        "AND a.attnum = ANY(i.indkey) WHERE i.indrelid = %s::regclass AND i.indisprimary "
        "ORDER BY array_position(i.indkey, a.attnum)",
        (qident(table),),
    )
    return [r[0] for r in cur.fetchall()]


def export_postgres(url: str, out: TextIO) -> tuple[int, dict[str, int]]:
    tables, others, names = _program_sqlite_schema()
    pg = connect_url(url)
    conn = pg.connection()
    # One REPEATABLE READ transaction: every table is read from the same snapshot.
    conn.autocommit = False
    conn.set_session(isolation_level="REPEATABLE READ", readonly=True)
    cur = conn.cursor()
    cur.execute("SELECT max(version) FROM schema_version")
    version = cur.fetchone()[0]
    if version != SCHEMA_VERSION:
        raise Refused(
            f"the PostgreSQL schema is version {version}; this program exports version "
            f"{SCHEMA_VERSION} only: upgrade it by starting the collector first"
        )
    counts = {}
    for table in names:
        cur.execute(f"SELECT count(*) FROM {qident(table)}")
        counts[table] = cur.fetchone()[0]
    _dump_header(out, version, "postgresql", counts)
    for sql in tables:
        out.write(sql + "\n")
    for table in names:
        order = ", ".join(qident(k) for k in _pg_primary_keys(cur, table)) or "1"
        named = conn.cursor(name=f"dump_{table}")  # server-side cursor: big tables stream
        named.itersize = 5000
        named.execute(f"SELECT * FROM {qident(table)} ORDER BY {order}")
        first = named.fetchmany(1)  # a named cursor has its description after a fetch
        columns = [d[0] for d in named.description]
        write_inserts(out, table, columns, itertools.chain(first, named))
        named.close()
    for sql in others:
        out.write(sql + "\n")
    out.write("COMMIT;\n")
    conn.rollback()
    pg.close()
    return version, counts


def export_command() -> int:
    """migrate.sh export > dump.sql; what it did goes to standard error."""
    c = "export"
    loc = locate(None)
    out = sys.stdout
    if out.isatty():
        raise Refused("the dump goes to standard output: scripts/migrate.sh export > dump.sql")
    if loc.db_path is not None:
        print(f"{c}: database {loc.db_path} ({loc.source})", file=sys.stderr)
        version, counts = export_sqlite(loc.db_path, out)
    else:
        print(f"{c}: database {redact(loc.database_url)}", file=sys.stderr)
        version, counts = export_postgres(loc.database_url, out)
    out.flush()
    print(f"{c}: wrote schema version {version} and {row_counts(counts)}", file=sys.stderr)
    return 0
