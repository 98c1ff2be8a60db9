"""Storage budget on data shaped like KAMO's, on both backends: bytes per reading and
write-ahead log per poll (SQLite).

Both are assertions because neither depends on machine speed (DESIGN.md, data rules). The
budgets per backend live in shared.backend (PostgreSQL cannot store a row in under ~60
bytes: its tuple header and line pointer alone take 28).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from shared.backend import READING_BYTES_BUDGET, WalMeter, kind, refuse_inserts

from pg_throwaway import postgres_or_skip, throwaway_database
from storage_workload import SLOT, bulk_week, make_substations, poll, readings_bytes

WEEK = 7 * 24 * 12
WAL_BUDGET = 100 * 4096  # 100 SQLite pages (about 400 KB) per poll, on average over an hour


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def week_db(request, tmp_path_factory) -> Iterator:
    from shared.db import bind, open_writer
    from shared.schema import migrate

    with ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('week') / 'kamo.db'}"
        else:
            admin = postgres_or_skip()
            stack.callback(admin.close)
            url = stack.enter_context(throwaway_database(admin, prefix="kamo_storage"))
        db = bind(open_writer(url))
        db.connect()
        stack.callback(db.close)
        migrate(db)
        subs = make_substations()
        rnd = random.Random(42)
        first = 1_795_000_000 - 1_795_000_000 % 3600
        bulk_week(db, subs, first, WEEK, rnd)
        if kind(db) == "sqlite":
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        # An hour of steady-state polls through the real ingest, measured one by one.
        meter = WalMeter(db)
        written = []
        for i in range(1, 13):  # the last poll opens a new hour and builds its rollup
            poll(db, first + (WEEK + i) * SLOT, subs, rnd)
            written.append(meter.since_last())
        yield db, subs, written


def test_about_300_substations(week_db):
    db, subs, _ = week_db
    assert 290 <= sum(len(v) for v in subs.values()) <= 310
    assert db.execute_sql("SELECT count(*) FROM substation").fetchone()[0] == sum(
        len(v) for v in subs.values()
    )


def test_readings_fit_the_bytes_budget(week_db):
    db, _, _ = week_db
    rows = db.execute_sql("SELECT count(*) FROM substation_reading").fetchone()[0]
    assert rows == WEEK * 302 + 12 * 302
    per_reading = readings_bytes(db) / rows
    print(f"{kind(db)}: bytes per reading: {per_reading:.2f} over {rows} readings")
    assert per_reading <= READING_BYTES_BUDGET[kind(db)]


# SQLite only: PostgreSQL's WAL location is server-wide, so on a shared server (CI, the
# test machine) other databases' writes land in the same figure.
@pytest.mark.parametrize("week_db", ["sqlite"], indirect=True)
def test_a_poll_writes_at_most_400_kb_of_wal_on_average(week_db):
    db, _, written = week_db
    average = sum(written) / len(written)
    print(f"{kind(db)}: WAL bytes per poll: {written} (mean {average:,.0f})")
    assert all(w > 0 for w in written)  # the meter really measures writes
    assert average <= WAL_BUDGET


def test_a_refused_reading_write_raises_peewees_error(writer_db):
    """The readings upsert runs on the driver's cursor; its errors still arrive as peewee's
    DatabaseError, which is how a cycle tells a refused write (disk full) from a bug."""
    import peewee

    from collector.ingest import Counters, store_readings
    from collector.parse import SubstationRow

    refuse_inserts(writer_db, "substation_reading", "database or disk is full")
    row = SubstationRow("Ash Grove", 4120.0, 88.0, 1.0, False, False)
    with pytest.raises(peewee.DatabaseError, match="disk is full"), writer_db.atomic():
        store_readings(1764547200, {1: [row]}, 1764547202, Counters())
