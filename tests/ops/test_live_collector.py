"""Backup, restore and export against a collector daemon that is writing right now."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from .helpers import (
    Collector,
    Observer,
    Writer,
    app_env,
    fingerprint,
    output,
    row_count_consistent,
    run_script,
)

pytestmark = pytest.mark.slow


def busy(collector: Collector):
    """Start a writer (triggered cycles back to back) and an observer of the database."""
    observer = Observer(collector.db)
    writer = Writer(collector)
    observer.start()
    writer.start()
    return writer, observer


def settle(writer: Writer, observer: Observer) -> None:
    writer.stop.set()
    writer.join(30)
    time.sleep(0.1)  # let the observer see the last commit
    observer.stop.set()
    observer.join(10)
    assert writer.error is None, writer.error
    assert observer.error is None, observer.error


def test_backup_during_writes_restores_the_source_as_it_was(live_collector, tmp_path):
    data = live_collector.data_dir
    backups_dir = data / "backups"
    kept = tmp_path / "kept"
    kept.mkdir()
    # The data directory comes as the argument and DATABASE_URL is unset: the script must
    # then use DATA_DIR/kamo_load.db, the collector's database here.
    env = app_env(tmp_path / "not-the-data-dir")
    made: list[tuple[Path, float, float]] = []
    writer, observer = busy(live_collector)
    try:
        while len(made) < 30:
            before = set(backups_dir.glob("*.db.gz")) if backups_dir.exists() else set()
            start = time.monotonic()
            result = run_script("backup.sh", str(data), env=env, cwd=tmp_path)
            end = time.monotonic()
            assert result.returncode == 0, output(result)
            new = set(backups_dir.glob("*.db.gz")) - before
            assert len(new) == 1, output(result)
            # Rotation keeps one backup a day, so keep each one aside before the next run.
            newest = new.pop()
            copy = kept / f"{len(made)}-{newest.name}"
            shutil.copyfile(newest, copy)
            made.append((copy, start, end))
            overlapped = sum(observer.seen.changes_between(s, e) > 0 for _, s, e in made)
            # Backups of a small database are quicker than a cycle: go on until the
            # collector has committed more than once, some of it during a backup.
            if overlapped >= 2 and len(made) >= 3 and writer.cycles >= 2:
                break
    finally:
        settle(writer, observer)
    assert writer.cycles >= 2, live_collector.log_text()
    assert overlapped >= 1, "no backup ran while the collector committed a change"
    assert (
        "integrity ok" in result.stdout and "kamo_load.db (DATA_DIR/kamo_load.db" in result.stdout
    )
    # Same-day backups were rotated away: one regular backup is left for the day (UTC) of
    # the last one, even if the loop ran over midnight.
    left = sorted(p.name for p in backups_dir.glob("kamo_load-2*.db.gz"))
    assert [n for n in left if n[10:18] == left[-1][10:18]] == [left[-1]]

    states = observer.seen.fingerprints()
    for n, (backup, _, _) in enumerate(made):
        fresh = tmp_path / f"fresh-{n}" / "data"
        db = fresh / "kamo_load.db"
        result = run_script(
            "restore.sh", "--yes", str(backup), env=app_env(fresh, db), cwd=tmp_path
        )
        assert result.returncode == 0, output(result)
        assert "restored" in result.stdout and "does not exist yet" in result.stdout
        restored = fingerprint(db)
        # The backup is the database exactly as it was at one commit during the backup.
        assert restored in states, f"backup {n} matches no state the source went through"
        for table, (kept_count, real) in row_count_consistent(db).items():
            assert kept_count == real, f"{table}: row_count says {kept_count}, rows {real}"


def test_export_during_writes_is_one_consistent_state(live_collector, tmp_path):
    env = app_env(live_collector.data_dir, live_collector.db)
    dump = tmp_path / "dump.sql"
    writer, observer = busy(live_collector)
    try:
        with dump.open("w") as out:
            result = run_script("migrate.sh", "export", env=env, cwd=tmp_path, stdout=out)
    finally:
        settle(writer, observer)
    assert result.returncode == 0, output(result)
    target = tmp_path / "new" / "kamo_load.db"
    with dump.open() as dump_in:
        result = run_script(
            "migrate.sh", "import", env=app_env(target.parent, target), cwd=tmp_path, stdin=dump_in
        )
    assert result.returncode == 0, output(result)
    assert fingerprint(target) in observer.seen.fingerprints()


@pytest.mark.parametrize("script", ["restore.sh", "migrate.sh import"])
def test_restore_and_import_refuse_while_the_collector_runs(
    live_collector, sample_db, tmp_path, script
):
    data = live_collector.data_dir
    env = app_env(data, live_collector.db)
    name, *args = script.split()
    if name == "restore.sh":
        result = run_script(name, str(sample_db), "--yes", env=env, cwd=tmp_path)
    else:
        dump = tmp_path / "dump.sql"
        with dump.open("w") as out:
            exported = run_script(
                "migrate.sh",
                "export",
                env=app_env(sample_db.parent, sample_db),
                cwd=tmp_path,
                stdout=out,
            )
        assert exported.returncode == 0, output(exported)
        with dump.open() as dump_in:
            result = run_script(name, *args, "--force", env=env, cwd=tmp_path, stdin=dump_in)
    assert result.returncode == 1, output(result)
    assert "the collector is running" in result.stderr and "writer lock" in result.stderr
    assert "docker compose stop collector" in result.stderr
    assert "docker compose run --rm" in result.stderr
    assert "docker compose start collector" in result.stderr
    if name == "restore.sh":
        assert f"/app/scripts/restore.sh {sample_db}" in result.stderr
    assert "nothing was changed" in result.stderr
    backups = data / "backups"
    assert not list(backups.glob("*-pre-*")) if backups.exists() else True
    assert not list(data.glob(".restore-*")) and not list(data.glob(".import-*"))
    assert live_collector.proc.poll() is None  # and the collector kept running
