"""What differs between SQLite and PostgreSQL outside the models, in one place: bulk
inserts, the on-disk size of a table, the write-ahead log a piece of work produced, and
what tests that run on both backends must know. Used by storage checks, benchmarks and
tests; the processes themselves go through Peewee."""

from __future__ import annotations

from collections.abc import Sequence

from peewee import Database, SqliteDatabase

# A reading in PostgreSQL cannot take less than its 24-byte tuple header, 4-byte line
# pointer and 32 bytes of values, plus about 28 bytes of primary-key index entry: about
# 89 bytes in all (schema version 10). SQLite packs the same row into about 25.
READING_BYTES_BUDGET = {"sqlite": 30, "postgresql": 92}

KINDS = ("sqlite", "postgresql")

# On PostgreSQL a collector's start may be a takeover from a dead holder: its first cycle
# also answers the requests waiting, one run rather than two in a slot. On SQLite they
# wait for a manual cycle just after it (collector.roles).
FIRST_CYCLE_ANSWERS_WAITING = {"sqlite": False, "postgresql": True}


def kind(db: Database) -> str:
    return "sqlite" if isinstance(db, SqliteDatabase) else "postgresql"


def url_kind(url: str) -> str:
    return "sqlite" if url.lower().startswith("sqlite:") else "postgresql"


def insert_rows(db: Database, table: str, columns: Sequence[str], rows: Sequence[tuple]) -> None:
    """Many rows in one statement's worth of round trips (executemany is one per row on
    psycopg2)."""
    names = ", ".join(f'"{c}"' for c in columns)
    if kind(db) == "sqlite":
        marks = ", ".join("?" * len(columns))
        db.cursor().executemany(f'INSERT INTO "{table}" ({names}) VALUES ({marks})', rows)
        return
    from psycopg2.extras import execute_values

    execute_values(db.cursor(), f'INSERT INTO "{table}" ({names}) VALUES %s', rows, page_size=1000)


def table_bytes(db: Database, table: str) -> int:
    """Bytes on disk of `table` with all its indexes."""
    if kind(db) == "sqlite":
        return db.execute_sql(
            "SELECT sum(pgsize) FROM dbstat WHERE name = ? "
            "OR name IN (SELECT name FROM sqlite_master WHERE tbl_name = ?)",
            (table, table),
        ).fetchone()[0]
    return db.execute_sql("SELECT pg_total_relation_size(%s)", (f'"{table}"',)).fetchone()[0]


class WalMeter:
    """Bytes of write-ahead log written between calls of `since_last()`.

    SQLite: the WAL's frames (pages) when asked, then a PASSIVE checkpoint copies them so
    the next write starts the log again; bytes are pages x page size. PostgreSQL: the
    distance the server's WAL location moved (full-page images after a checkpoint included).
    """

    def __init__(self, db: Database) -> None:
        self.db = db
        self.page = db.execute_sql("PRAGMA page_size").fetchone()[0] if kind(db) == "sqlite" else 0
        self.last = self._position()

    def _position(self) -> int:
        if kind(self.db) == "sqlite":
            _busy, frames, _done = self.db.execute_sql("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            return frames * self.page
        return int(self.db.execute_sql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").fetchone()[0])

    def since_last(self) -> int:
        now = self._position()
        written = now if kind(self.db) == "sqlite" else now - self.last
        self.last = now
        return written


def refuse_inserts(db: Database, table: str, message: str) -> None:
    """Make every INSERT into `table` fail with `message`: a real failure inside the data
    transaction, for tests of what a failed write leaves behind."""
    if kind(db) == "sqlite":
        db.execute_sql(
            f'CREATE TRIGGER refuse_{table} BEFORE INSERT ON "{table}" '
            f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
        return
    db.execute_sql(
        f"CREATE FUNCTION refuse_{table}() RETURNS trigger LANGUAGE plpgsql "
        f"AS $$ BEGIN RAISE EXCEPTION '{message}'; END $$"
    )
    db.execute_sql(
        f'CREATE TRIGGER refuse_{table} BEFORE INSERT ON "{table}" '
        f"FOR EACH ROW EXECUTE FUNCTION refuse_{table}()"
    )


def portable_sql(db_kind: str, sql: str) -> str:
    """`sql` written with `?` placeholders (sqlite3's), as the backend's driver takes it."""
    return sql if db_kind == "sqlite" else sql.replace("%", "%%").replace("?", "%s")
