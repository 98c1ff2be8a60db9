"""migrate.sh import: a dump loaded into a scratch SQLite file, checked like a backup, then
put into the SQLite file (as a restore does) or copied into PostgreSQL."""

from __future__ import annotations

import sqlite3
import sys
from collections.abc import Iterable
from pathlib import Path

from collector.backup_files import (
    DATA_TABLES,
    DbInfo,
    check_database,
    qident,
    user_tables,
    work_dir,
)
from shared.db import bind, open_writer
from shared.schema import SCHEMA_VERSION, migrate

from .checks import SoleWriter, read_info, refuse_if_collector_runs
from .errors import BadDatabase, Refused
from .locate import locate, redact
from .migrate_export import DUMP_MAGIC, insert_into
from .output import row_counts, say
from .restore import replace_live_database
from .sqlite_files import scratch_near

PG_BATCH = 2000


def load_dump(stream: Iterable[str], target: Path) -> None:
    """Run the SQL from `stream` into a new SQLite file, statement by statement."""
    conn = sqlite3.connect(str(target), isolation_level=None)
    try:
        buffer = ""
        first = True
        for line in stream:
            if first:
                first = False
                if not line.startswith(DUMP_MAGIC):
                    raise Refused(
                        "standard input does not start like a dump from migrate.sh export "
                        f"({DUMP_MAGIC!r})"
                    )
            buffer += line
            # Statements end a line with ';' (checking only there keeps long INSERTs linear).
            if line.rstrip().endswith(";") and sqlite3.complete_statement(buffer):
                conn.execute(buffer)
                buffer = ""
        if first:
            raise Refused("standard input is empty: scripts/migrate.sh import < dump.sql")
        if buffer.strip():
            raise Refused("the dump ends in the middle of a statement (cut short?)")
        if conn.in_transaction:
            raise Refused("the dump has no final COMMIT (cut short?)")
    except sqlite3.DatabaseError as exc:
        raise BadDatabase(f"the dump does not load: {exc}") from None
    finally:
        conn.close()


def _pg_row(row: tuple, booleans: list[bool]) -> tuple:
    """SQLite keeps booleans as 0/1; PostgreSQL wants real booleans in those columns."""
    return tuple(
        bool(v) if is_bool and v is not None else v
        for v, is_bool in zip(row, booleans, strict=True)
    )


def import_postgres(candidate: Path, url: str, info: DbInfo, force: bool) -> dict[str, int]:
    """Copy every table of `candidate` into PostgreSQL in one transaction; rows per table."""
    if info.schema_version != SCHEMA_VERSION:
        raise Refused(
            f"the dump has schema version {info.schema_version}; PostgreSQL takes version "
            f"{SCHEMA_VERSION} only: import it into SQLite, run the collector once, export again"
        )
    pg = bind(open_writer(url))
    pg.connect(reuse_if_open=True)
    existing = set(pg.get_tables())
    rows_there = {
        t: pg.execute_sql(f"SELECT count(*) FROM {qident(t)}").fetchone()[0]
        for t in DATA_TABLES
        if t in existing
    }
    if any(rows_there.values()) and not force:
        raise Refused(_not_empty(rows_there))
    src = sqlite3.connect(str(candidate))
    counts = {}
    try:
        with pg.atomic():
            migrate(pg)
            for table in user_tables(src):
                pg.execute_sql(f"DELETE FROM {qident(table)}")
                types = dict(
                    pg.execute_sql(
                        "SELECT column_name, data_type FROM information_schema.columns "
                        "WHERE table_schema = current_schema() AND table_name = %s",
                        (table,),
                    ).fetchall()
                )
                cur = src.execute(f"SELECT * FROM {qident(table)}")
                columns = [d[0] for d in cur.description]
                booleans = [types.get(col) == "boolean" for col in columns]
                sql = f"{insert_into(table, columns)} VALUES ({', '.join(['%s'] * len(columns))})"
                n = 0
                while batch := cur.fetchmany(PG_BATCH):
                    pg.cursor().executemany(sql, [_pg_row(r, booleans) for r in batch])
                    n += len(batch)
                counts[table] = n
                # Serial columns: the next id follows the imported rows.
                serial = pg.execute_sql(
                    "SELECT column_name FROM information_schema.columns WHERE table_schema = "
                    "current_schema() AND table_name = %s AND column_default LIKE 'nextval%%'",
                    (table,),
                ).fetchall()
                for (col,) in serial:
                    pg.execute_sql(
                        f"SELECT setval(pg_get_serial_sequence(%s, %s), "
                        f"coalesce(max({qident(col)}), 0) + 1, false) FROM {qident(table)}",
                        (table, col),
                    )
    finally:
        src.close()
        pg.close()
    return counts


def _not_empty(counts: dict[str, int]) -> str:
    rows = row_counts({t: n for t, n in counts.items() if n})
    return (
        f"the target database is not empty ({rows}): add --force to replace its contents "
        "(SQLite: a safety backup is made first)"
    )


def _sqlite_target_has_data(db: Path, force: bool) -> bool:
    """Whether the SQLite target holds data (an unreadable file counts); refused without
    --force. A database the collector only created (tables, no rows) counts as empty."""
    if not db.is_file():
        return False
    try:
        current = read_info(db)
    except sqlite3.DatabaseError as exc:
        if not force:
            raise Refused(f"{db} exists but cannot be read ({exc}): --force replaces it") from None
        return True
    if current.has_data() and not force:
        raise Refused(_not_empty({t: current.counts.get(t, 0) for t in DATA_TABLES}))
    return current.has_data()


def import_command(force: bool) -> int:
    """migrate.sh import [--force] < dump.sql."""
    c = "import"
    loc = locate(None)
    if sys.stdin.isatty():
        raise Refused("the dump is read from standard input: scripts/migrate.sh import < dump.sql")
    job = SoleWriter(
        c, "migrate.sh import", "-T collector /app/scripts/migrate.sh import < dump.sql"
    )
    refuse_if_collector_runs(loc, job)
    with work_dir(scratch_near(loc.db_path), ".import-") as tmp:
        candidate = tmp / "import.db"
        load_dump(sys.stdin, candidate)
        info = check_database(candidate)
        say(c, f"dump loads, integrity ok, {info.summary()}")
        if loc.db_path is None:
            say(c, f"target {redact(loc.database_url)}")
            counts = import_postgres(candidate, loc.database_url, info, force)
            say(c, f"imported into PostgreSQL: {row_counts(counts)}")
            return 0
        db = loc.db_path
        has_data = _sqlite_target_has_data(db, force)
        replaced = ": not empty, replaced after a copy is saved" if has_data else ""
        say(c, f"target {db} ({loc.source}){replaced}")
        replace_live_database(loc, job, candidate, db, "pre-import-" if has_data else None)
    say(c, f"imported into {db}: {read_info(db).summary()}")
    return 0
