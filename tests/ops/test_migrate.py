"""migrate.sh export/import: a portable SQL dump, loaded into SQLite or PostgreSQL."""

from __future__ import annotations

import os
import pty
import secrets
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest

from .helpers import app_env, file_state, fingerprint, output, run_script, schema_statements


def export(db: Path, cwd: Path, **extra: str) -> Path:
    dump = cwd / f"dump-{secrets.token_hex(3)}.sql"
    with dump.open("w") as out:
        result = run_script(
            "migrate.sh", "export", env=app_env(db.parent, db, **extra), cwd=cwd, stdout=out
        )
    assert result.returncode == 0, output(result)
    return dump


def load(dump: Path, db: Path, cwd: Path, *args: str, **extra: str) -> subprocess.CompletedProcess:
    with dump.open() as dump_in:
        return run_script(
            "migrate.sh",
            "import",
            *args,
            env=app_env(db.parent, db, **extra),
            cwd=cwd,
            stdin=dump_in,
        )


def test_export_import_round_trip_is_identical(sample_db, tmp_path):
    dump = export(sample_db, tmp_path)
    text = dump.read_text()
    assert text.startswith("-- KAMO Load Logger SQL dump")
    assert "-- schema_version: " in text and text.rstrip().endswith("COMMIT;")
    target = tmp_path / "new" / "kamo_load.db"
    result = load(dump, target, tmp_path)
    assert result.returncode == 0, output(result)
    assert "imported into" in result.stdout
    assert fingerprint(target) == fingerprint(sample_db)
    assert schema_statements(target) == schema_statements(sample_db)
    # Loaded through SQLite's backup API into a WAL database, like the collector keeps it.
    conn = sqlite3.connect(target)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


@pytest.mark.skipif(shutil.which("sqlite3") is None, reason="no sqlite3 command-line shell")
def test_the_dump_loads_with_the_sqlite3_shell(sample_db, tmp_path):
    dump = export(sample_db, tmp_path)
    target = tmp_path / "shell.db"
    with dump.open() as dump_in:
        subprocess.run(["sqlite3", str(target)], stdin=dump_in, check=True, timeout=60)
    assert fingerprint(target) == fingerprint(sample_db)
    assert schema_statements(target) == schema_statements(sample_db)


def test_import_refuses_a_database_with_data_unless_forced(sample_db, copy_of_sample, tmp_path):
    other = tmp_path / "other.db"
    shutil.copyfile(sample_db, other)
    conn = sqlite3.connect(other)
    conn.execute("DELETE FROM import_run")
    conn.commit()
    conn.close()
    dump = export(other, tmp_path)
    before = file_state(copy_of_sample)
    result = load(dump, copy_of_sample, tmp_path)
    assert result.returncode == 1, output(result)
    assert "not empty" in result.stderr and "--force" in result.stderr
    assert "nothing was changed" in result.stderr
    assert file_state(copy_of_sample) == before
    assert not (copy_of_sample.parent / "backups").exists()

    wanted, previous = fingerprint(other), fingerprint(copy_of_sample)
    result = load(dump, copy_of_sample, tmp_path, "--force")
    assert result.returncode == 0, output(result)
    assert fingerprint(copy_of_sample) == wanted
    (safety,) = (copy_of_sample.parent / "backups").glob("kamo_load-pre-import-*.db.gz")
    assert str(safety) in result.stdout
    restored = tmp_path / "back" / "kamo_load.db"
    result = run_script(
        "restore.sh", str(safety), "--yes", env=app_env(restored.parent, restored), cwd=tmp_path
    )
    assert result.returncode == 0, output(result)
    assert fingerprint(restored) == previous


def test_forced_import_over_a_file_that_is_not_a_database(sample_db, tmp_path):
    """Something else in the database's place: refused, then with --force saved as it was
    and replaced (SQLite cannot write into it, so it is removed first)."""
    target = tmp_path / "data" / "kamo_load.db"
    target.parent.mkdir()
    target.write_text("notes, not a database\n")
    dump = export(sample_db, tmp_path)
    result = load(dump, target, tmp_path)
    assert result.returncode == 1 and "--force replaces it" in result.stderr, output(result)
    assert target.read_text() == "notes, not a database\n"
    result = load(dump, target, tmp_path, "--force")
    assert result.returncode == 0, output(result)
    assert "not an SQLite file, and saved above" in result.stdout
    assert fingerprint(target) == fingerprint(sample_db)
    (saved,) = (target.parent / "backups").glob("kamo_load-pre-import-*")
    assert (saved / "kamo_load.db").read_text() == "notes, not a database\n"


def test_import_of_an_empty_schema_needs_no_force(sample_db, tmp_path):
    """A database the collector only created (schema, no data yet) counts as empty."""
    empty = tmp_path / "data" / "kamo_load.db"
    empty.parent.mkdir()
    shutil.copyfile(sample_db, empty)
    conn = sqlite3.connect(empty)
    for table in ("area", "hourly_load", "substation", "substation_reading", "import_run"):
        conn.execute(f"DELETE FROM {table}")
    conn.commit()
    conn.close()
    result = load(export(sample_db, tmp_path), empty, tmp_path)
    assert result.returncode == 0, output(result)
    assert fingerprint(empty) == fingerprint(sample_db)


@pytest.mark.parametrize("case", ["not a dump", "cut short", "empty", "terminal"])
def test_import_refuses_bad_input_and_changes_nothing(sample_db, tmp_path, case):
    target = tmp_path / "data" / "kamo_load.db"
    source = tmp_path / "input.sql"
    if case == "not a dump":
        source.write_text("DROP TABLE area;\n")
    elif case == "cut short":
        text = export(sample_db, tmp_path).read_text()
        source.write_text(text[: len(text) * 2 // 3])
    elif case == "empty":
        source.write_text("")
    if case == "terminal":
        master, slave = pty.openpty()
        result = run_script(
            "migrate.sh", "import", env=app_env(target.parent, target), cwd=tmp_path, stdin=slave
        )
        os.close(master)
        os.close(slave)
    else:
        result = load(source, target, tmp_path)
    assert result.returncode == 1, output(result)
    assert "import: refused:" in result.stderr and "nothing was changed" in result.stderr
    assert not target.parent.exists()  # not even the data folder was created


def test_usage(tmp_path):
    env = app_env(tmp_path)
    for args in ([], ["bogus"], ["export", "x"], ["import", "--force", "x"], ["import", "-f"]):
        result = run_script("migrate.sh", *args, env=env, cwd=tmp_path)
        assert result.returncode == 2, args
        assert "usage:" in result.stderr


@pytest.mark.postgres
def test_round_trip_through_postgresql(sample_db, tmp_path, pg_database):
    dump = export(sample_db, tmp_path)
    pg_env = {"DATABASE_URL": pg_database}
    data = tmp_path / "data"
    data.mkdir()
    with dump.open() as dump_in:
        result = run_script(
            "migrate.sh", "import", env=app_env(data, **pg_env), cwd=tmp_path, stdin=dump_in
        )
    assert result.returncode == 0, output(result)
    assert "imported into PostgreSQL" in result.stdout
    with dump.open() as dump_in:
        again = run_script(
            "migrate.sh", "import", env=app_env(data, **pg_env), cwd=tmp_path, stdin=dump_in
        )
    assert again.returncode == 1 and "not empty" in again.stderr
    back = tmp_path / "from-pg.sql"
    with back.open("w") as out:
        result = run_script(
            "migrate.sh", "export", env=app_env(data, **pg_env), cwd=tmp_path, stdout=out
        )
    assert result.returncode == 0, output(result)
    target = tmp_path / "back" / "kamo_load.db"
    result = load(back, target, tmp_path)
    assert result.returncode == 0, output(result)
    assert fingerprint(target) == fingerprint(sample_db)
    assert schema_statements(target) == schema_statements(sample_db)
