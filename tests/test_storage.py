"""Storage budget on data shaped like KAMO's: bytes per reading and WAL pages per poll.

Both are assertions because neither depends on machine speed (DESIGN.md, data rules).
"""

from __future__ import annotations

import random

import pytest

from storage_workload import SLOT, bulk_week, make_substations, poll, readings_bytes, wal_frames

WEEK = 7 * 24 * 12


@pytest.fixture(scope="module")
def week_db(tmp_path_factory):
    from shared.db import bind, open_writer
    from shared.schema import migrate

    path = tmp_path_factory.mktemp("week") / "kamo.db"
    db = bind(open_writer(f"sqlite:///{path}"))
    db.connect()
    migrate(db)
    subs = make_substations()
    rnd = random.Random(42)
    first = 1_795_000_000 - 1_795_000_000 % 3600
    bulk_week(db, subs, first, WEEK, rnd)
    # An hour of steady-state polls through the real ingest, frame-counted one by one.
    db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    frames = []
    for i in range(1, 13):  # the last poll opens a new hour and builds its rollup
        poll(db, first + (WEEK + i) * SLOT, subs, rnd)
        frames.append(wal_frames(db))
    yield db, subs, frames
    db.close()


def test_about_300_substations(week_db):
    db, subs, _ = week_db
    assert 290 <= sum(len(v) for v in subs.values()) <= 310
    assert db.execute_sql("SELECT count(*) FROM substation").fetchone()[0] == sum(
        len(v) for v in subs.values()
    )


def test_readings_take_at_most_30_bytes_each(week_db):
    db, _, _ = week_db
    rows = db.execute_sql("SELECT count(*) FROM substation_reading").fetchone()[0]
    assert rows == WEEK * 302 + 12 * 302
    per_reading = readings_bytes(db) / rows
    print(f"bytes per reading: {per_reading:.2f} over {rows} readings")
    assert per_reading <= 30


def test_a_poll_writes_at_most_100_wal_pages_on_average(week_db):
    _, _, frames = week_db
    average = sum(frames) / len(frames)
    print(f"WAL frames per poll: {frames} (mean {average:.1f})")
    assert all(f > 0 for f in frames)  # the count really measures writes
    assert average <= 100


def test_a_refused_reading_write_raises_peewees_error(writer_db):
    """The readings upsert runs on the driver's cursor; its errors still arrive as peewee's
    DatabaseError, which is how a cycle tells a refused write (disk full) from a bug."""
    import peewee

    from collector.ingest import Counters, store_readings
    from collector.parse import SubstationRow

    writer_db.execute_sql(
        "CREATE TRIGGER refuse BEFORE INSERT ON substation_reading "
        "BEGIN SELECT RAISE(FAIL, 'database or disk is full'); END"
    )
    row = SubstationRow("Ash Grove", 4120.0, 88.0, 1.0, False, False)
    with pytest.raises(peewee.DatabaseError, match="disk is full"), writer_db.atomic():
        store_readings(1764547200, {1: [row]}, 1764547202, Counters())
