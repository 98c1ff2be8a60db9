"""backup.sh and restore.sh on a finished database: round trips, refusals, rotation."""

from __future__ import annotations

import contextlib
import datetime as dt
import gzip
import os
import pty
import select
import shutil
import sqlite3
import subprocess
import time
from pathlib import Path

import pytest

from shared.heartbeat import write_heartbeat

from .helpers import SCRIPTS, app_env, file_state, fingerprint, output, run_script


def make_backup(db: Path, cwd: Path, **extra: str) -> Path:
    backups = db.parent / "backups"
    before = set(backups.glob("*.db.gz")) if backups.exists() else set()
    result = run_script("backup.sh", env=app_env(db.parent, db, **extra), cwd=cwd)
    assert result.returncode == 0, output(result)
    (new,) = set(backups.glob("*.db.gz")) - before
    return new


def test_backup_writes_a_checked_gzip_named_by_utc_time(copy_of_sample, tmp_path):
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    backup = make_backup(copy_of_sample, tmp_path)
    after = dt.datetime.now(dt.UTC)
    # Nothing else is left behind: no temp folders, no -wal/-shm beside the database.
    assert sorted(p.name for p in copy_of_sample.parent.iterdir()) == ["backups", "kamo_load.db"]
    assert backup.parent == copy_of_sample.parent / "backups"
    stamp = dt.datetime.strptime(backup.name, "kamo_load-%Y%m%dT%H%M%SZ.db.gz")
    assert before <= stamp.replace(tzinfo=dt.UTC) <= after
    plain = tmp_path / "plain.db"
    plain.write_bytes(gzip.decompress(backup.read_bytes()))
    conn = sqlite3.connect(plain)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("delete",)  # self-contained
    conn.close()
    assert fingerprint(plain) == fingerprint(copy_of_sample)
    assert sorted(p.name for p in backup.parent.iterdir()) == [backup.name]


def test_backup_goes_to_backup_dir_and_reads_dotenv(copy_of_sample, tmp_path):
    """Settings from .env in the working directory count, like for the processes."""
    elsewhere = tmp_path / "offsite"
    (tmp_path / ".env").write_text(
        f"BACKUP_DIR={elsewhere}\nDATABASE_URL=sqlite:///{copy_of_sample}\n"
    )
    env = app_env(copy_of_sample.parent)
    del env["DATA_DIR"]
    result = run_script("backup.sh", env=env, cwd=tmp_path)
    assert result.returncode == 0, output(result)
    assert len(list(elsewhere.glob("kamo_load-*.db.gz"))) == 1
    assert f"database {copy_of_sample} (DATABASE_URL)" in result.stdout


def test_backup_explains_what_it_cannot_do(tmp_path):
    missing = run_script("backup.sh", str(tmp_path / "empty"), env=app_env(tmp_path), cwd=tmp_path)
    assert missing.returncode == 1
    assert "no database file at" in missing.stderr and "kamo_load.db" in missing.stderr
    pg = app_env(tmp_path, DATABASE_URL="postgresql://kamo:secret@db.example/kamo")
    result = run_script("backup.sh", env=pg, cwd=tmp_path)
    assert result.returncode == 1 and "pg_dump" in result.stderr
    assert "secret" not in result.stderr  # the password is not printed
    assert run_script("backup.sh", "a", "b", env=pg, cwd=tmp_path).returncode == 2
    bad = app_env(tmp_path, BACKUP_KEEP_DAILY="many")
    result = run_script("backup.sh", env=bad, cwd=tmp_path)
    assert result.returncode == 2 and "BACKUP_KEEP_DAILY" in result.stderr


def test_rotation_keeps_daily_and_weekly(copy_of_sample, tmp_path):
    backups = copy_of_sample.parent / "backups"
    backups.mkdir()
    # Counted back from yesterday's noon (UTC), so that the first two are on one day
    # whatever the time of day: two backups on the second-newest day.
    noon = dt.datetime.now(dt.UTC).replace(hour=12, minute=0, second=0) - dt.timedelta(days=1)
    ages = [0, 0.2, 1, 2, 3, 8, 15, 22, 29, 59]  # days
    names = [f"kamo_load-{noon - dt.timedelta(days=a):%Y%m%dT%H%M%SZ}.db.gz" for a in ages]
    others = [
        "kamo_load-pre-restore-20200101T000000Z.db.gz",
        "notes.txt",
        "demo-20200101T000000Z.db.gz",
    ]
    for name in names + others:
        (backups / name).write_bytes(b"old")
    result = run_script(
        "backup.sh",
        env=app_env(
            copy_of_sample.parent, copy_of_sample, BACKUP_KEEP_DAILY="3", BACKUP_KEEP_WEEKLY="3"
        ),
        cwd=tmp_path,
    )
    assert result.returncode == 0, output(result)
    left = {p.name for p in backups.iterdir()}
    (new,) = {n for n in left if n not in names + others}
    # By the documented rule: newest backup of each of the 3 newest days with one, and of
    # each of the 3 newest ISO weeks with one.
    every = sorted(names + [new], key=lambda n: n.split("-")[1], reverse=True)
    when = {n: dt.datetime.strptime(n.split("-")[1][:16], "%Y%m%dT%H%M%SZ") for n in every}
    days, weeks, expected = [], [], set()
    for name in every:
        day, week = when[name].date(), when[name].isocalendar()[:2]
        if day not in days:
            days.append(day)
            if len(days) <= 3:
                expected.add(name)
        if week not in weeks:
            weeks.append(week)
            if len(weeks) <= 3:
                expected.add(name)
    assert left == expected | set(others)
    assert names[1] not in left  # the older of the two on one day
    assert "deleted" in result.stdout


def test_restore_round_trip_gz_and_plain(copy_of_sample, tmp_path):
    backup = make_backup(copy_of_sample, tmp_path)
    source = fingerprint(copy_of_sample)
    plain = tmp_path / "copy.db"
    plain.write_bytes(gzip.decompress(backup.read_bytes()))
    for n, (args, kind) in enumerate(
        [((str(backup), "--yes"), "gzip-compressed"), (("--yes", str(plain)), "SQLite database")]
    ):
        fresh = tmp_path / f"fresh{n}"
        db = fresh / "kamo_load.db"
        result = run_script("restore.sh", *args, env=app_env(fresh, db), cwd=tmp_path)
        assert result.returncode == 0, output(result)
        assert kind in result.stdout and "integrity ok" in result.stdout
        assert fingerprint(db) == source
        assert not (fresh / "backups").exists()  # nothing to save: there was no database


def test_restore_replaces_a_database_and_keeps_a_safety_copy(copy_of_sample, tmp_path):
    backup = make_backup(copy_of_sample, tmp_path)
    wanted = fingerprint(copy_of_sample)
    conn = sqlite3.connect(copy_of_sample)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("DELETE FROM import_run")
    conn.commit()
    conn.close()
    changed = fingerprint(copy_of_sample)
    assert changed != wanted
    env = app_env(copy_of_sample.parent, copy_of_sample)
    result = run_script("restore.sh", str(backup), "--yes", env=env, cwd=tmp_path)
    assert result.returncode == 0, output(result)
    assert fingerprint(copy_of_sample) == wanted
    conn = sqlite3.connect(copy_of_sample)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()
    (safety,) = (copy_of_sample.parent / "backups").glob("kamo_load-pre-restore-*.db.gz")
    assert f"saved the current database as {safety}" in result.stdout
    plain = tmp_path / "safety.db"
    plain.write_bytes(gzip.decompress(safety.read_bytes()))
    assert fingerprint(plain) == changed


def corrupt_pages(path: Path) -> None:
    data = bytearray(path.read_bytes())
    for offset in range(4096 + 100, len(data), 8192):
        data[offset : offset + 300] = b"\xa5" * 300
    path.write_bytes(bytes(data))


def damage_read_as_full_disk(path: Path) -> None:
    """Damage `path` so that VACUUM INTO fails with SQLITE_FULL ("database or disk is full")
    rather than SQLITE_CORRUPT, as some damaged records make it. Which bytes do that depends
    on the data, so the first of a series of overwrites that does it is kept. The schema's
    own pages stay intact: damage there reads as a malformed schema instead."""
    original = path.read_bytes()
    with contextlib.closing(sqlite3.connect(path)) as conn:
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        last_schema_page = conn.execute(
            "SELECT max(pageno) FROM dbstat WHERE name = 'sqlite_schema'"
        ).fetchone()[0]
    first = page * last_schema_page + page  # one page past the schema, then every other
    for start in range(0, 8192, 64):
        data = bytearray(original)
        for offset in range(first + start, len(data), 8192):
            data[offset : offset + 1000] = b"\xa5" * 1000
        path.write_bytes(bytes(data))
        conn = sqlite3.connect(path)
        try:
            conn.execute("VACUUM INTO ?", (str(path.with_suffix(".probe")),))
        except sqlite3.OperationalError:
            return
        except sqlite3.DatabaseError:
            pass
        finally:
            conn.close()
            path.with_suffix(".probe").unlink(missing_ok=True)
    pytest.fail("no overwrite of the sample made VACUUM INTO report a full disk")


def bad_backups(sample_db: Path, tmp_path: Path) -> dict[str, Path]:
    made = {}
    damaged = tmp_path / "damaged.db"
    shutil.copyfile(sample_db, damaged)
    corrupt_pages(damaged)
    made["damaged pages"] = damaged
    gz = tmp_path / "damaged.db.gz"
    gz.write_bytes(gzip.compress(damaged.read_bytes()))
    made["damaged pages, gzipped"] = gz
    truncated = tmp_path / "truncated.db.gz"
    whole = gzip.compress(sample_db.read_bytes())
    truncated.write_bytes(whole[: len(whole) // 2])
    made["truncated gzip"] = truncated
    text = tmp_path / "notes.txt"
    text.write_text("not a database\n" * 50)
    made["not a database"] = text
    newer = tmp_path / "newer.db"
    shutil.copyfile(sample_db, newer)
    conn = sqlite3.connect(newer)
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (999, 0)")
    conn.commit()
    conn.close()
    made["newer schema"] = newer
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    made["another program's database"] = foreign
    return made


REASONS = {
    "damaged pages": "",
    "damaged pages, gzipped": "",
    "truncated gzip": "damaged gzip",
    "not a database": "neither a gzip file nor an SQLite database",
    "newer schema": "schema version 999 is newer",
    "another program's database": "not a KAMO Load Logger database",
}


@pytest.mark.parametrize("case", list(REASONS))
def test_restore_refuses_a_bad_backup_and_changes_nothing(
    copy_of_sample, sample_db, tmp_path, case
):
    bad = bad_backups(sample_db, tmp_path)[case]
    data = copy_of_sample.parent
    before = file_state(copy_of_sample, Path(f"{copy_of_sample}-wal"))
    listing = sorted(p.name for p in data.rglob("*"))
    result = run_script(
        "restore.sh", "--yes", str(bad), env=app_env(data, copy_of_sample), cwd=tmp_path
    )
    assert result.returncode == 1, output(result)
    assert "restore: refused:" in result.stderr and "nothing was changed" in result.stderr
    assert REASONS[case] in result.stderr
    if case.startswith("damaged pages"):
        assert "integrity check failed" in result.stderr or "not a readable" in result.stderr
    assert file_state(copy_of_sample, Path(f"{copy_of_sample}-wal")) == before
    assert sorted(p.name for p in data.rglob("*")) == listing


def test_restore_refuses_without_a_terminal_or_yes(copy_of_sample, sample_db, tmp_path):
    data = copy_of_sample.parent
    before = file_state(copy_of_sample)
    result = run_script(
        "restore.sh", str(sample_db), env=app_env(data, copy_of_sample), cwd=tmp_path
    )
    assert result.returncode == 1, output(result)
    assert "no terminal" in result.stderr and "--yes" in result.stderr
    assert file_state(copy_of_sample) == before and not (data / "backups").exists()
    for args in ([], ["a", "b"], ["--yes"], ["--bogus", "x"]):
        assert run_script("restore.sh", *args, env=app_env(data), cwd=tmp_path).returncode == 2


def test_restore_refuses_while_the_heartbeat_is_fresh(copy_of_sample, sample_db, tmp_path):
    """No lock held (the collector may be on another PID namespace), but a fresh heartbeat."""
    data = copy_of_sample.parent
    write_heartbeat(data / "collector.heartbeat", {"pid": 4242, "state": "idle"})
    before = file_state(copy_of_sample)
    result = run_script(
        "restore.sh", str(sample_db), "--yes", env=app_env(data, copy_of_sample), cwd=tmp_path
    )
    assert result.returncode == 1, output(result)
    assert "heartbeat" in result.stderr and "docker compose stop collector" in result.stderr
    assert file_state(copy_of_sample) == before
    # A stopped collector writes state "stopped": then the restore goes ahead.
    write_heartbeat(data / "collector.heartbeat", {"pid": 4242, "state": "stopped"})
    result = run_script(
        "restore.sh", str(sample_db), "--yes", env=app_env(data, copy_of_sample), cwd=tmp_path
    )
    assert result.returncode == 0, output(result)


def run_on_terminal(
    args: list[str], env: dict[str, str], cwd: Path, answer: bytes
) -> tuple[int, str]:
    """Run restore.sh with a pseudo-terminal as stdin/stdout, answer its question."""
    master, slave = pty.openpty()
    proc = subprocess.Popen(
        ["bash", str(SCRIPTS / "restore.sh"), *args],
        env=env,
        cwd=cwd,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        close_fds=True,
    )
    os.close(slave)
    seen = b""
    answered = False
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        ready, _, _ = select.select([master], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
        if not answered and b"Type 'yes'" in seen:
            os.write(master, answer)
            answered = True
        if proc.poll() is not None and not ready:
            break
    os.close(master)
    return proc.wait(10), seen.decode(errors="replace")


@pytest.mark.parametrize("answer", [b"yes\n", b"n\n"])
def test_restore_asks_on_a_terminal(copy_of_sample, tmp_path, answer):
    backup = make_backup(copy_of_sample, tmp_path)
    wanted = fingerprint(copy_of_sample)
    conn = sqlite3.connect(copy_of_sample)
    conn.execute("DELETE FROM import_run")
    conn.commit()
    conn.close()
    before = file_state(copy_of_sample)
    env = app_env(copy_of_sample.parent, copy_of_sample)
    code, text = run_on_terminal([str(backup)], env, tmp_path, answer)
    assert "Replace the database" in text
    if answer == b"yes\n":
        assert code == 0, text
        assert fingerprint(copy_of_sample) == wanted
    else:
        assert code == 1 and "cancelled" in text and "nothing was changed" in text
        assert file_state(copy_of_sample) == before


@pytest.mark.parametrize(
    "damage", [corrupt_pages, damage_read_as_full_disk], ids=["pages", "read-as-full-disk"]
)
def test_restore_over_a_damaged_database_keeps_its_files(
    copy_of_sample, sample_db, tmp_path, damage
):
    """The usual reason to restore: the database is damaged. Its files are saved as they are,
    also when SQLite reports the damage as a full disk."""
    damage(copy_of_sample)
    damaged = copy_of_sample.read_bytes()
    env = app_env(copy_of_sample.parent, copy_of_sample)
    result = run_script("restore.sh", str(sample_db), "--yes", env=env, cwd=tmp_path)
    assert result.returncode == 0, output(result)
    assert fingerprint(copy_of_sample) == fingerprint(sample_db)
    (saved,) = (copy_of_sample.parent / "backups").glob("kamo_load-pre-restore-*")
    assert saved.is_dir() and f"saved the current files as they were in {saved}" in result.stdout
    assert (saved / "kamo_load.db").read_bytes() == damaged


def test_restore_over_a_file_that_is_not_a_database(copy_of_sample, sample_db, tmp_path):
    copy_of_sample.write_bytes(b"\x00garbage" * 500)
    env = app_env(copy_of_sample.parent, copy_of_sample)
    result = run_script("restore.sh", str(sample_db), "--yes", env=env, cwd=tmp_path)
    assert result.returncode == 0, output(result)
    assert fingerprint(copy_of_sample) == fingerprint(sample_db)
    (saved,) = (copy_of_sample.parent / "backups").glob("kamo_load-pre-restore-*")
    assert (saved / "kamo_load.db").read_bytes() == b"\x00garbage" * 500


def test_backup_of_a_damaged_database_fails_and_keeps_the_old_backups(copy_of_sample, tmp_path):
    old = make_backup(copy_of_sample, tmp_path)
    corrupt_pages(copy_of_sample)
    env = app_env(
        copy_of_sample.parent, copy_of_sample, BACKUP_KEEP_DAILY="0", BACKUP_KEEP_WEEKLY="0"
    )
    result = run_script("backup.sh", env=env, cwd=tmp_path)
    assert result.returncode == 1, output(result)
    assert "probably damaged" in result.stderr
    assert [p.name for p in old.parent.iterdir()] == [old.name]


def test_backup_names_damage_that_sqlite_reports_as_a_full_disk(copy_of_sample, tmp_path):
    """SQLite reports some damage as SQLITE_FULL; that must not send the user looking for disk
    space. The database is checked, and the damage named."""
    damage_read_as_full_disk(copy_of_sample)
    env = app_env(copy_of_sample.parent, copy_of_sample)
    result = run_script("backup.sh", env=env, cwd=tmp_path)
    assert result.returncode == 1, output(result)
    assert "probably damaged" in result.stderr and "quick_check" in result.stderr
    assert not list((copy_of_sample.parent / "backups").glob("*.db.gz"))
