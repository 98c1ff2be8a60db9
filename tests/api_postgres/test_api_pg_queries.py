"""Query details the simulated data cannot show: names that sort differently under a
language collation, and exports read through a server-side cursor in several batches."""

from __future__ import annotations

from pathlib import Path

import psycopg2
import pytest
from pg_support import Filled, make_app

from api.queries import export
from api.queries.common import database_size
from shared.db import bind, database, open_reader, open_writer
from shared.models import Area, Substation, SubstationReading
from shared.schema import migrate

pytestmark = [pytest.mark.postgres]

T0 = 1793541600  # 2026-11-01T14:00:00Z
# Bytewise these sort upper case first, digits before letters, "A B" before "AB";
# en-US (ICU and glibc alike) folds case and weighs spaces and punctuation last.
NAMES = ("ash", "Birch", "GreenLeaf", "Greenfield", "Bear Creek", "BearCreek", "Nixa 2", "Nixa 161")


def _fill_tricky(url: str) -> None:
    """Write as the collector does (the models, bound for the moment to this database)."""
    previous = database.obj
    db = bind(open_writer(url))
    db.connect(reuse_if_open=True)
    try:
        migrate(db)
        with db.atomic():
            Area.create(id=1, name="Ozark", abbreviation="OZEC", is_aggregate=False)
            for sid, name in enumerate(NAMES, 1):
                Substation.create(id=sid, area_id=1, name=name, first_seen=T0, last_seen=T0)
                SubstationReading.create(
                    ts=T0,
                    substation_id=sid,
                    kw=100.0 * sid,
                    kvar=-10.0,
                    pf_centi=-99,
                    pf_exact=None,
                    quality=sid % 2 == 0,
                    quality_now=True,
                )
    finally:
        db.close()
        if previous is not None:
            bind(previous)


def test_substation_names_come_in_the_same_order(empty_pg: str, tmp_path: Path) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'kamo.db'}"
    for url in (sqlite_url, empty_pg):
        _fill_tricky(url)
    answers = []
    for url in (sqlite_url, empty_pg):
        client = make_app(url, tmp_path).test_client()
        listing = client.get("/api/substations/list/1").json
        current = client.get("/api/substations/current/1").json
        answers.append((listing, current))
    assert [s["name"] for s in answers[0][0]["substations"]] == sorted(NAMES)
    assert [s["name"] for s in answers[0][1]["substations"]] == sorted(NAMES)
    assert answers[1] == answers[0]


def test_the_test_database_collates_like_a_language(empty_pg: str) -> None:
    """Guards the test above: on a C-collated database it would prove nothing."""
    conn = psycopg2.connect(empty_pg)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT EXISTS (SELECT 1 FROM pg_collation WHERE collprovider = 'i'), "
                "'GreenLeaf' < 'Greenfield'"
            )
            has_icu, bytewise = cur.fetchone()
    finally:
        conn.close()
    if not has_icu:
        pytest.skip("this PostgreSQL has no ICU: the throwaway database sorts bytewise")
    assert not bytewise


def test_export_rows_stream_in_batches(filled: Filled) -> None:
    """The server-side cursor hands out every row, in order, over many small batches."""
    sqlite_db, pg_db = open_reader(filled.sqlite_url), open_reader(filled.pg_url)
    for db in (sqlite_db, pg_db):
        db.connect()
    try:
        expected = export.reading_rows(sqlite_db, None, 0, 2**31 - 1).fetchall()
        cursor = export.reading_rows(pg_db, None, 0, 2**31 - 1)
        assert isinstance(cursor, export.ServerCursor)
        got, batches = [], 0
        while rows := cursor.fetchmany(97):
            got += rows
            batches += 1
        assert batches > 10 and cursor.fetchmany(97) == []
        # Booleans: 0/1 on SQLite, true/false on PostgreSQL; the API turns both into bools.
        assert [(*r[:-2], bool(r[-2]), bool(r[-1])) for r in got] == [
            (*r[:-2], bool(r[-2]), bool(r[-1])) for r in expected
        ]
        # The cursor's transaction is over: the connection is idle and serves as before.
        assert pg_db.connection().get_transaction_status() == 0  # TRANSACTION_STATUS_IDLE
    finally:
        for db in (sqlite_db, pg_db):
            db.close()
        pg_db.close_all()


def test_an_abandoned_export_leaves_a_usable_connection(filled: Filled) -> None:
    db = open_reader(filled.pg_url)
    db.connect()
    cursor = export.load_rows(db, None, 0, 2**31 - 1)
    assert len(cursor.fetchmany(10)) == 10
    db.close()  # the client went away mid-stream: back to the pool, rolled back there
    db.connect()
    try:
        assert db.connection().get_transaction_status() == 0
        assert db.execute_sql("SELECT count(*) FROM area").fetchone()[0] == 20
        again = export.load_rows(db, 1, 0, 2**31 - 1)  # a new cursor, a fresh transaction
        assert len(again.fetchmany(5000)) > 0
    finally:
        db.close()
        db.close_all()


def test_database_size_on_both_backends(filled: Filled) -> None:
    for url, basis in ((filled.sqlite_url, "sqlite"), (filled.pg_url, "postgresql")):
        db = open_reader(url)
        db.connect()
        try:
            size = database_size(db)
        finally:
            db.close()
        assert size.bytes > 100_000 and size.basis.startswith(basis)
