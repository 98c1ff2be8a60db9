"""`python -m collector migrate --to postgresql://...`: a live SQLite database copied into
an empty PostgreSQL database, verified, resumable.

The source is read in one read transaction (WAL lets the collector keep writing, and the
copy sees one commit's state). Rows go over in key order, in batches; each batch commits
with its place in a `migrate_progress` table, so a rerun after an interruption goes on
from there, with a new snapshot. Verification then reads both sides again, replaces any
range of keys that differs (what the collector changed between the runs) and prints rows
and checksums per table. The progress table is dropped once everything matches.
"""

from __future__ import annotations

import sqlite3
import sys
import time
from typing import Any, TextIO
from urllib.parse import quote

from shared.db import bind, is_sqlite_url, open_writer, sqlite_path
from shared.schema import SCHEMA_VERSION, migrate

from .copying import Stop, advance_sequences, copy_table, create_progress, read_progress
from .progress import Bar
from .tables import PROGRESS_TABLE, Table, pg_column_types, qident, source_tables
from .verify import report, verify_table

# Tables the schema migration fills by itself; their rows alone do not make a target "used".
SCHEMA_TABLES = ("schema_version", "row_count")


class Refused(Exception):
    """The migration cannot start; `status` is the exit status (2: the target is not empty
    or the command is wrong, 1: anything else)."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def is_postgres_url(url: str) -> bool:
    return url.partition("://")[0].lower() in ("postgres", "postgresql")


def redact(url: str) -> str:
    head, sep, rest = url.partition("://")
    if "@" in rest and ":" in rest.split("@", 1)[0]:
        user = rest.split("@", 1)[0].split(":", 1)[0]
        rest = f"{user}:***@{rest.split('@', 1)[1]}"
    return head + sep + rest


def open_source(url: str) -> sqlite3.Connection:
    """The SQLite file read-only, inside a read transaction that holds one snapshot."""
    if not is_sqlite_url(url):
        raise Refused(f"DATABASE_URL is not SQLite ({redact(url)}): nothing to migrate", 2)
    path = sqlite_path(url).resolve()
    if not path.is_file():
        raise Refused(f"no SQLite database at {path} (DATABASE_URL)")
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None)
    conn.execute("PRAGMA busy_timeout = 5000")
    conn.execute("BEGIN")
    try:
        version = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.OperationalError:
        raise Refused(
            f"{path} has no schema_version table: not a KAMO Load Logger database"
        ) from None
    if version != SCHEMA_VERSION:
        fix = (
            "start the collector once (it upgrades the schema), then migrate"
            if (version or 0) < SCHEMA_VERSION
            else "update this program first"
        )
        raise Refused(
            f"{path} has schema version {version}, this program copies version "
            f"{SCHEMA_VERSION}: {fix}"
        )
    return conn


def _counts(cursor: Any, tables: list[str]) -> dict[str, int]:
    counts = {}
    for name in tables:
        cursor.execute(f"SELECT count(*) FROM {qident(name)}")
        counts[name] = cursor.fetchone()[0]
    return counts


def prepare_target(url: str) -> bool:
    """Create the schema in an empty target (one transaction, with the progress table);
    returns True when an earlier, interrupted run is to be resumed."""
    pg = bind(open_writer(url))
    pg.connect(reuse_if_open=True)
    try:
        existing = set(pg.get_tables())
        if PROGRESS_TABLE in existing:
            return True
        counts = _counts(pg.cursor(), sorted(existing))
        counted = 0
        if "row_count" in existing:
            counted = pg.execute_sql("SELECT count(*) FROM row_count WHERE rows <> 0").fetchone()[0]
        used = {t: n for t, n in counts.items() if n and t not in SCHEMA_TABLES}
        if used or counted:
            rows = ", ".join(f"{t} {n:,}" for t, n in (used or counts).items() if n)
            raise Refused(
                f"the target database is not empty ({rows}): migrate copies into an empty "
                "PostgreSQL database only. Create a new one (createdb), or drop this one's "
                "tables if its data is not needed.",
                2,
            )
        with pg.atomic():
            migrate(pg)
            cursor = pg.cursor()
            for table in pg.get_tables():  # the source's rows replace what migrate() wrote
                cursor.execute(f"DELETE FROM {qident(table)}")
            create_progress(cursor, [])
        return False
    finally:
        pg.close()


def _tables(source: sqlite3.Connection, types: dict[str, dict[str, str]]) -> list[Table]:
    tables = []
    for name, columns, key in source_tables(source):
        missing = [c for c in columns if c not in types.get(name, {})]
        if missing:
            raise Refused(f"the target has no column(s) {', '.join(missing)} in table {name}")
        if not key:
            raise Refused(f"table {name} has no primary key, so it cannot be copied in batches")
        tables.append(Table(name, columns, key, types[name]))
    return tables


def migrate_to(
    source_url: str,
    target_url: str,
    batch: int = 5000,
    stop_after: int | None = None,
    out: TextIO = sys.stdout,
) -> int:
    """The whole command; returns the exit status. Refused is raised before any change."""
    if not is_postgres_url(target_url):
        raise Refused(f"--to must be a postgresql:// URL, not {redact(target_url)!r}", 2)
    import psycopg2

    began = time.monotonic()
    source = open_source(source_url)
    resumed = prepare_target(target_url)
    target = psycopg2.connect(target_url, application_name="kamo-migrate")
    try:
        cursor = target.cursor()
        tables = _tables(source, pg_column_types(cursor))
        state = read_progress(cursor)
        for table in tables:
            if table.name not in state:
                cursor.execute(
                    f"INSERT INTO {PROGRESS_TABLE} (table_name) VALUES (%s)", (table.name,)
                )
                state[table.name] = (None, 0, False)
        target.commit()
        totals = {t.name: source.execute(f"SELECT count(*) FROM {qident(t.name)}").fetchone()[0]
                  for t in tables}  # fmt: skip
        total = sum(totals.values())
        where = f"{redact(source_url)} -> {redact(target_url)}"
        print(f"migrate: {'resuming' if resumed else 'copying'} {where}, {total:,} rows", file=out)
        bar = Bar("copy  ", total, done=sum(min(s[1], totals[n]) for n, s in state.items()
                                            if n in totals))  # fmt: skip
        budget = None if stop_after is None else [stop_after]
        copy_began = time.monotonic()
        for table in tables:
            copy_table(source, target, table, state[table.name], batch, bar.advance, budget)
        copy_rate = bar.close()
        copy_seconds = time.monotonic() - copy_began
        for table in tables:
            advance_sequences(cursor, table)
        target.commit()
        # Planner statistics before verification reads the target a key range at a time:
        # without them PostgreSQL guesses a third of the table per range and scans all of it
        # for every batch. They also serve the API's first queries.
        target.autocommit = True
        cursor.execute("ANALYZE")
        target.autocommit = False
        bar = Bar("verify", total)
        results = [verify_table(source, target, t, batch, bar.advance) for t in tables]
        bar.close()
        for line in report(results):
            print(line, file=out)
        if not all(r.ok for r in results):
            print("migrate: verification FAILED: the tables marked DIFFERENT", file=out)
            return 1
        cursor.execute(f"DROP TABLE {PROGRESS_TABLE}")
        target.commit()
        readings = totals.get("substation_reading", 0)
        seconds = time.monotonic() - began
        print(
            f"migrate: done, verified: {total:,} rows ({readings:,} readings) in {seconds:.1f} s, "
            f"{readings / seconds:,.0f} readings/s overall; copy {copy_seconds:.1f} s "
            f"at {copy_rate:,.0f} rows/s",
            file=out,
        )
        return 0
    except Stop as exc:
        print(f"migrate: {exc}; run the same command again to resume", file=sys.stderr)
        return 3
    finally:
        target.close()
        source.close()
