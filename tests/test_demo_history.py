"""`scripts/seed_demo.py`: the demo's 30 days of simulated history (what `make demo` runs first).

The script runs as a subprocess into real SQLite files, as run_stack.sh runs it; the live
collector then polls the real simulator (same seed) on top of the seeded history.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from support import REPO_ROOT, collector_env, run_collector

SEEDER = REPO_ROOT / "scripts" / "seed_demo.py"
DAY = 86400
HOUR = 3600
SUBSTATIONS = 301  # the simulator's: 164 real names (areas 1-9) and 137 invented ones
AREAS = 20


def seed(env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(SEEDER), *args],
        env=dict(env, PYTHONPATH=str(REPO_ROOT)),
        cwd=env["DATA_DIR"],  # no developer .env is read
        capture_output=True,
        text=True,
        timeout=300,
    )


def query(path: Path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(path) as db:
        return db.execute(sql, args).fetchall()


def one(path: Path, sql: str, *args):
    return query(path, sql, *args)[0][0]


@pytest.fixture(scope="module")
def seeded(tmp_path_factory, simulator):
    """A demo database seeded once for the module: (env, database path, seeding time)."""
    data_dir = tmp_path_factory.mktemp("demo")
    env = collector_env(simulator.base_url, data_dir)
    began = time.time()
    done = seed(env)
    assert done.returncode == 0, done.stderr
    assert "stored 30 days of simulated history" in done.stdout, done.stdout
    return env, data_dir / "kamo.db", began


def test_history_covers_30_days_through_the_ingest_path(seeded):
    _, db, began = seeded
    newest_hour = one(db, "SELECT max(ts) FROM hourly_load")
    oldest_hour = one(db, "SELECT min(ts) FROM hourly_load")
    assert began - newest_hour <= 2 * HOUR  # up to the last complete hour
    assert newest_hour - oldest_hour >= 30 * DAY - HOUR
    # Every area, every hour, no gaps: 30 days and the hour before the first poll.
    hours = (newest_hour - oldest_hour) // HOUR + 1
    assert one(db, "SELECT count(*) FROM hourly_load") == AREAS * hours
    assert one(db, "SELECT count(DISTINCT area_id) FROM hourly_load") == AREAS
    # Readings: hourly polls, then every 15 minutes over the last 48 hours.
    slots = [row[0] for row in query(db, "SELECT DISTINCT ts FROM substation_reading ORDER BY ts")]
    assert slots[-1] - slots[0] >= 30 * DAY - HOUR
    assert began - slots[-1] < 15 * 60 + 5
    recent = [s for s in slots if s >= slots[-1] - 47 * HOUR]
    assert all(b - a == 900 for a, b in zip(recent, recent[1:], strict=False))
    assert len(slots) * SUBSTATIONS == one(db, "SELECT count(*) FROM substation_reading")
    assert one(db, "SELECT count(*) FROM substation") == SUBSTATIONS
    # The kept row counts match the tables (the collector's own bookkeeping ran).
    counts = dict(query(db, 'SELECT "table", rows FROM row_count'))
    assert counts["substation_reading"] == len(slots) * SUBSTATIONS
    assert counts["hourly_load"] == AREAS * hours


def test_rollups_and_runs_cover_the_history(seeded):
    _, db, _ = seeded
    built = one(db, "SELECT built_until FROM rollup_state WHERE name = 'substation_hourly'")
    newest = one(db, "SELECT max(ts) FROM substation_reading")
    assert built == newest - newest % HOUR  # every complete hour is rolled up
    rolled_hours = one(db, "SELECT count(DISTINCT ts) FROM substation_hourly")
    assert rolled_hours >= 30 * 24 - 1
    assert one(db, "SELECT count(*) FROM substation_hourly") == rolled_hours * SUBSTATIONS
    # One import run per simulated poll, each a success that says it is simulated.
    runs = query(db, "SELECT status, trigger, message, count(*) FROM import_run GROUP BY 1, 2, 3")
    slots = one(db, "SELECT count(DISTINCT ts) FROM substation_reading")
    assert runs == [("success", "scheduled", "simulated demo history", slots)]


def test_the_database_is_marked_simulated(seeded):
    _, db, _ = seeded
    marker = one(db, "SELECT built_until FROM rollup_state WHERE name = 'simulated_history'")
    assert marker == one(db, "SELECT max(ts) FROM substation_reading")


def test_a_second_run_changes_nothing(seeded):
    env, db, _ = seeded
    before = query(db, "SELECT count(*), max(id) FROM import_run")
    readings = one(db, "SELECT count(*) FROM substation_reading")
    again = seed(env)
    assert again.returncode == 0, again.stderr
    assert "already holds simulated history" in again.stdout
    assert query(db, "SELECT count(*), max(id) FROM import_run") == before
    assert one(db, "SELECT count(*) FROM substation_reading") == readings


def test_the_live_collector_continues_without_revisions(seeded):
    """The history is the simulator's own model: a real poll finds the same settled hours."""
    env, db, _ = seeded
    done = run_collector(env, "once")
    assert done.returncode == 0, done.stderr
    run = query(
        db,
        "SELECT status, trigger, load_revised, load_unchanged FROM import_run "
        "ORDER BY id DESC LIMIT 1",
    )[0]
    assert run[:3] == ("success", "manual", 0)
    assert run[3] >= AREAS * 10  # the Actual window's settled hours were all stored already


def test_never_into_a_database_fed_by_the_real_kamo(tmp_path):
    env = collector_env("https://kamofamilyload.kamopower.com/api", tmp_path)
    done = seed(env)
    assert done.returncode == 1
    assert "demo database only" in done.stderr
    assert not (tmp_path / "kamo.db").exists()


def test_a_database_with_data_and_no_marker_is_left_alone(tmp_path, simulator):
    env = collector_env(simulator.base_url, tmp_path)
    assert run_collector(env, "once").returncode == 0
    db = tmp_path / "kamo.db"
    runs = one(db, "SELECT count(*) FROM import_run")
    done = seed(env)
    assert done.returncode == 0, done.stderr
    assert "not seeding" in done.stdout
    assert one(db, "SELECT count(*) FROM import_run") == runs
    assert query(db, "SELECT * FROM rollup_state WHERE name = 'simulated_history'") == []
