"""The reliability checks themselves catch what they look for (on hand-made databases)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from .case_crash import _check_after, _committed
from .case_long_run import FIRST_SLOT, SLOT, _check_gaps
from .common import CaseResult

SCHEMA = """
create table import_run (id integer primary key, status text, slot_ts integer,
    started_at real, readings_stored integer, load_new integer);
create table substation (id integer primary key);
create table substation_reading (substation_id integer, ts integer);
create table hourly_load (area_id integer, ts integer, first_seen integer);
"""


def make_db(path: Path, slots: int) -> Path:
    """`slots` successful runs, each with 2 readings and one new hour for 20 areas."""
    with sqlite3.connect(path) as db:
        db.executescript(SCHEMA)
        db.executemany("insert into substation values (?)", [(1,), (2,)])
        hour = FIRST_SLOT - FIRST_SLOT % 3600
        for area in range(1, 21):  # KAMO's 12-hour window before the first slot
            db.executemany(
                "insert into hourly_load values (?, ?, 0)",
                [(area, hour - 3600 * k) for k in range(1, 12)],
            )
        for i in range(slots):
            slot = FIRST_SLOT + i * SLOT
            started = slot + 2
            db.execute(
                "insert into import_run values (?, 'success', ?, ?, 2, ?)",
                (i + 1, slot, started, 20 if slot % 3600 == 0 or i == 0 else 0),
            )
            db.executemany("insert into substation_reading values (?, ?)", [(1, slot), (2, slot)])
            if slot % 3600 == 0 or i == 0:
                db.executemany(
                    "insert into hourly_load values (?, ?, ?)",
                    [(a, slot - slot % 3600, started) for a in range(1, 21)],
                )
    return path


def test_gap_check_passes_whole_data_and_finds_a_missing_slot(tmp_path):
    db = make_db(tmp_path / "k.db", 24)
    clean = CaseResult()
    _check_gaps(db, 24, clean)
    assert (clean.failures, clean.lost) == (0, 0), clean.details
    with sqlite3.connect(db) as conn:
        conn.execute(
            "delete from substation_reading where ts=? and substation_id=2",
            (FIRST_SLOT + 5 * SLOT,),
        )
        conn.execute(
            "delete from hourly_load where area_id=7 and ts=?",
            (FIRST_SLOT - FIRST_SLOT % 3600 - 3600 * 3,),
        )
    broken = CaseResult()
    _check_gaps(db, 24, broken)
    assert broken.lost == 2 and broken.failures == 2


def test_crash_check_finds_lost_rows_and_half_stored_runs(tmp_path):
    db = make_db(tmp_path / "k.db", 3)
    before = _committed(db)
    clean = CaseResult()
    _check_after(db, before, "kill", clean)
    assert clean.failures == 0, clean.details
    with sqlite3.connect(db) as conn:
        conn.execute(
            "delete from substation_reading where ts=? and substation_id=1", (FIRST_SLOT + SLOT,)
        )
        conn.execute("insert into import_run values (9, 'running', 1, 1.0, 0, 0)")
    broken = CaseResult()
    _check_after(db, before, "kill", broken)
    assert broken.lost == 1
    text = "\n".join(broken.details)
    assert "committed readings rows gone" in text and "still 'running'" in text
    assert "run 2 (success) stored (1, 0), counted (2, 0)" in text
