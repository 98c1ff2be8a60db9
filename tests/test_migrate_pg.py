"""`python -m collector migrate --to`: refusals, the verification table, resuming after a
kill -9 while the source keeps changing, and sequences past the copied ids.

Real SQLite files from the benchmark generator and a real PostgreSQL (skips without one,
fails under REQUIRE_POSTGRES=1).
"""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
from pathlib import Path

import psycopg2
import pytest
from migrate_support import checksum_rows, generate, migrate, migrate_command, migrate_env

from support import REPO_ROOT, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

TABLE_KEYS = {
    "area": "id",
    "hourly_load": "area_id, ts",
    "substation": "id",
    "substation_reading": "ts, substation_id",
    "substation_hourly": "area_id, ts, substation_id",
    "import_run": "id",
    "row_count": '"table"',
    "schema_version": "version",
}


@pytest.fixture(scope="module")
def two_days(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return generate(tmp_path_factory.mktemp("gen") / "two_days.db", days=2, substations=136)


@pytest.fixture
def source(two_days: Path, tmp_path: Path) -> Path:
    """A private copy: some tests change it as the collector would."""
    path = tmp_path / "kamo.db"
    shutil.copy(two_days, path)
    return path


def _rows(url_or_path: str | Path, table: str, columns: list[str]) -> list[tuple]:
    """Rows by name (PostgreSQL keeps the readings' columns in another order)."""
    names = ", ".join(f'"{c}"' for c in columns)
    sql = f"SELECT {names} FROM {table} ORDER BY {TABLE_KEYS[table]}"
    if isinstance(url_or_path, Path):
        conn = sqlite3.connect(url_or_path)
        try:
            return conn.execute(sql).fetchall()
        finally:
            conn.close()
    with psycopg2.connect(url_or_path) as conn, conn.cursor() as cur:
        cur.execute(sql)
        rows = cur.fetchall()
    conn.close()
    # BOOLEAN on PostgreSQL, 0/1 on SQLite.
    return [tuple(int(v) if isinstance(v, bool) else v for v in row) for row in rows]


def _columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    try:
        return [r[1] for r in conn.execute(f"PRAGMA table_info({table})")]
    finally:
        conn.close()


def _assert_same(path: Path, url: str) -> None:
    for table in TABLE_KEYS:
        columns = _columns(path, table)
        assert _rows(url, table, columns) == _rows(path, table, columns), table


def _tables(url: str) -> set[str]:
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
        found = {r[0] for r in cur.fetchall()}
    conn.close()
    return found


def test_copies_verifies_and_prints_checksums(source: Path, pg_database: str) -> None:
    done = migrate(source, pg_database)
    assert done.returncode == 0, done.stdout + done.stderr
    table = checksum_rows(done.stdout)
    assert set(TABLE_KEYS) <= set(table)
    for name, cells in table.items():
        assert cells[1] == cells[2] and cells[3] == cells[4] and cells[5] == "ok", name
    assert table["substation_reading"][1] == f"{2 * 288 * 136:,}"
    assert "rows/s" in done.stderr and "verify" in done.stderr  # the progress bars
    _assert_same(source, pg_database)
    assert "migrate_progress" not in _tables(pg_database)
    # The collector's next ids follow the copied ones.
    with psycopg2.connect(pg_database) as conn, conn.cursor() as cur:
        for table, column in (("import_run", "id"), ("substation", "id")):
            cur.execute(
                f"SELECT nextval(pg_get_serial_sequence('{table}', '{column}')), "
                f"(SELECT max({column}) FROM {table})"
            )
            following, highest = cur.fetchone()
            assert following == highest + 1, table
    conn.close()


def test_refuses_a_target_with_data(source: Path, pg_database: str) -> None:
    assert migrate(source, pg_database).returncode == 0
    before = _rows(pg_database, "import_run", _columns(source, "import_run"))
    again = migrate(source, pg_database)
    assert again.returncode == 2, again.stdout + again.stderr
    assert "the target database is not empty" in again.stderr
    assert "substation_reading 78,336" in again.stderr
    assert _rows(pg_database, "import_run", _columns(source, "import_run")) == before


def test_refuses_any_other_tables_with_rows(source: Path, pg_database: str) -> None:
    with psycopg2.connect(pg_database) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE invoices (id int); INSERT INTO invoices VALUES (1)")
    conn.close()
    done = migrate(source, pg_database)
    assert done.returncode == 2 and "not empty (invoices 1)" in done.stderr
    assert _tables(pg_database) == {"invoices"}


@pytest.mark.parametrize(
    "args, message",
    [
        ((), "migrate needs --to"),
        (("--to", "sqlite:///elsewhere.db"), "--to must be a postgresql:// URL"),
    ],
)
def test_bad_usage_exits_2(source: Path, args: tuple, message: str) -> None:
    env = migrate_env(source)
    done = subprocess.run(
        migrate_command("x")[:4] + list(args),
        env=dict(env, PYTHONPATH=str(REPO_ROOT)),
        cwd=source.parent,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and message in done.stderr, done.stderr


def _copied(url: str, table: str = "%") -> int:
    """Rows the migration has committed so far (in `table`), by its progress table."""
    conn = None
    try:
        with psycopg2.connect(url) as conn, conn.cursor() as cur:
            cur.execute(
                "SELECT coalesce(sum(rows), 0) FROM migrate_progress WHERE table_name LIKE %s",
                (table,),
            )
            return cur.fetchone()[0]
    except psycopg2.Error:
        return 0
    finally:
        if conn is not None:
            conn.close()


def _collector_writes_meanwhile(db: Path) -> None:
    """What a live collector does between the interrupted run and the rerun: a new slot
    of readings, a revised hourly load, a finished run, and retention dropping the oldest
    slot (rows the first run may already have copied)."""
    conn = sqlite3.connect(db)
    with conn:
        newest = conn.execute("SELECT max(ts) FROM substation_reading").fetchone()[0]
        oldest = conn.execute("SELECT min(ts) FROM substation_reading").fetchone()[0]
        conn.execute(
            "INSERT INTO substation_reading SELECT ts + 300, substation_id, kw + 1, kvar, "
            "pf_centi, pf_exact, quality, quality_now FROM substation_reading WHERE ts = ?",
            (newest,),
        )
        conn.execute("DELETE FROM substation_reading WHERE ts = ?", (oldest,))
        conn.execute("UPDATE hourly_load SET load_kw = load_kw + 0.5 WHERE area_id = 1")
        conn.execute("UPDATE import_run SET status = 'partial' WHERE id = 1")
        conn.execute(
            "INSERT INTO import_run (trigger, slot_ts, started_at, finished_at, status, "
            "areas_total, areas_ok, load_new, load_revised, load_unchanged, readings_stored, "
            "substations_new, area_errors, warnings) "
            "VALUES ('manual', ?, ?, ?, 'success', 20, 20, 0, 0, 240, 136, 0, '{}', '[]')",
            (newest + 300, newest + 301.0, newest + 302.5),
        )
    conn.close()


def test_resumes_after_kill_9_and_catches_up(source: Path, pg_database: str) -> None:
    env = migrate_env(source)
    proc = subprocess.Popen(
        migrate_command(pg_database, "--batch", "40"),
        env=dict(env, PYTHONPATH=str(REPO_ROOT)),
        cwd=source.parent,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # Killed in the middle of the readings, after the smaller tables are done.
        assert wait_for(
            lambda: _copied(pg_database, "substation_reading") >= 2000, timeout=120, step=0.05
        )
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    copied = _copied(pg_database, "substation_reading")
    assert 2000 <= copied < 78_336  # stopped part of the way
    _collector_writes_meanwhile(source)
    done = migrate(source, pg_database)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resuming" in done.stdout
    table = checksum_rows(done.stdout)
    assert all(cells[5] == "ok" for cells in table.values()), done.stdout
    for name in ("import_run", "hourly_load", "substation_reading"):
        assert "caught up" in " ".join(table[name]), done.stdout  # changed after copying
    _assert_same(source, pg_database)
    assert "migrate_progress" not in _tables(pg_database)


def test_an_injected_stop_resumes_to_a_verified_finish(source: Path, pg_database: str) -> None:
    stopped = migrate(source, pg_database, "--batch", "1000", "--stop-after-batches", "30")
    assert stopped.returncode == 3, stopped.stdout + stopped.stderr
    assert "run the same command again to resume" in stopped.stderr
    assert 0 < _copied(pg_database) < 80_000
    done = migrate(source, pg_database, "--batch", "1000")
    assert done.returncode == 0 and "resuming" in done.stdout, done.stdout + done.stderr
    _assert_same(source, pg_database)
