"""The table channel and the advisory-lock lease against a real PostgreSQL server.

Requests: queue, bound, claim, done, restore after a dead collector. Heartbeats: the view
the API builds from `collector_state`. The lease: one holder at a time, a standby gets it
when the holder's session ends, a holder whose session is cut stops at its next check and
its cycle write rolls back.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from collector.lease import LeaseLost, PgLease, instance_id
from shared.channel import FileChannel, Request, open_channel
from shared.db import bind, open_writer
from shared.models import ImportRequest
from shared.pg_channel import TableChannel
from shared.schema import SCHEMA_VERSION, migrate
from shared.timeutil import now_ts
from shared.triggers import MAX_PENDING, TooManyPending

from support import wait_for

pytestmark = pytest.mark.postgres


@pytest.fixture
def pg_db(pg_database: str) -> Iterator[str]:
    db = bind(open_writer(pg_database))
    db.connect(reuse_if_open=True)
    migrate(db)
    yield pg_database
    db.close()


def test_the_url_chooses_the_channel(tmp_path: Path) -> None:
    assert isinstance(open_channel(f"sqlite:///{tmp_path}/x.db", tmp_path), FileChannel)
    assert isinstance(open_channel("postgresql://u@127.0.0.1/x", tmp_path), TableChannel)


def test_requests_queue_claim_and_finish(pg_db: str) -> None:
    channel = TableChannel()
    first = channel.submit()
    second = channel.submit(kind="backup", request_id="nightly-1")
    assert first.kind == "import" and second.request_id == "nightly-1"
    assert channel.count_pending() == 2
    assert [r.request_id for r in channel.pending()] == [first.request_id]  # imports only
    assert [r.kind for r in channel.pending(kinds=("backup",))] == ["backup"]

    taken = channel.claim(channel.pending(), "collector-a")
    assert [r.request_id for r in taken] == [first.request_id]
    assert channel.claim([first], "collector-b") == []  # taken once only
    assert channel.pending() == [] and channel.count_pending() == 2  # claimed still counts

    channel.release(taken)
    row = ImportRequest.get_by_id(first.request_id)
    assert row.status == "done" and row.claimed_by == "collector-a" and row.done_at
    assert channel.count_pending() == 1


def test_a_dead_collectors_claims_come_back(pg_db: str) -> None:
    channel = TableChannel()
    made = [channel.submit() for _ in range(3)]
    channel.claim(made, "dead-one")
    assert channel.pending() == []
    assert sorted(channel.restore()) == sorted(r.request_id for r in made)
    assert {r.request_id for r in channel.pending()} == {r.request_id for r in made}
    # `only` restores just those (a dropped outage run's requests)
    taken = channel.claim(made, "live-one")
    assert channel.restore(taken[:1]) == [made[0].request_id]
    assert channel.restore([]) == []


def test_the_bound_holds(pg_db: str) -> None:
    channel = TableChannel()
    for _ in range(MAX_PENDING):
        channel.submit(limit=MAX_PENDING)
    with pytest.raises(TooManyPending):
        channel.submit(limit=MAX_PENDING)
    assert channel.count_pending() == MAX_PENDING
    with pytest.raises(ValueError):
        channel.submit(request_id="bad id!")


def test_the_collector_view_names_active_and_standby(pg_db: str) -> None:
    channel = TableChannel()
    assert channel.collectors().state == "never"
    now = now_ts()
    conn = psycopg2.connect(pg_db)
    conn.autocommit = True
    from shared.pg_channel import write_heartbeat_row

    other = psycopg2.connect(pg_db)  # a second live session: the standby's lock session
    base = {"pid": 1, "state": "idle", "interval_minutes": 1, "started_at": now}
    with conn.cursor() as cur:
        write_heartbeat_row(
            cur,
            {**base, "instance": "a", "host": "m1", "role": "active", "role_since": now - 5},
            conn.get_backend_pid(),
        )
        write_heartbeat_row(
            cur,
            {**base, "instance": "b", "host": "m2", "role": "standby", "role_since": now - 9},
            other.get_backend_pid(),
        )
    view = channel.collectors()
    assert view.state == "running" and view.beat["host"] == "m1"
    assert view.active["instance"] == "a" and view.active["since"] == now - 5
    assert [s["host"] for s in view.standby] == ["m2"]
    assert view.standby[0]["heartbeat_age_seconds"] < 5
    # an old active row: stale (the standby has not taken over yet)
    later = channel.collectors(now + 200)
    assert later.state == "stale" and later.standby == []
    # the active one's session ends (kill -9): stale at once, not after 90 s
    conn.close()
    assert wait_for(lambda: channel.collectors().state == "stale", 5)
    assert [s["host"] for s in channel.collectors().standby] == ["m2"]
    other.close()


def test_one_holder_and_takeover_when_its_session_ends(pg_db: str) -> None:
    a, b = PgLease(pg_db, "a"), PgLease(pg_db, "b")
    try:
        assert a.try_acquire() and a.held
        assert not b.try_acquire() and not b.held
        assert a.verify()
        a._drop()  # the process died: its session ends with its socket
        assert wait_for(b.try_acquire, 5)
        assert not a.verify() and not a.try_acquire()
    finally:
        a.release()
        b.release()


def test_a_holder_cut_off_stops_and_its_write_rolls_back(pg_db: str, pg_database: str) -> None:
    lease = PgLease(pg_db, "cut")
    other = PgLease(pg_db, "other")
    db = bind(open_writer(pg_database))
    db.connect(reuse_if_open=True)
    try:
        assert lease.try_acquire()
        lease.guard(db)  # holds: no error
        admin = psycopg2.connect(pg_db)
        admin.autocommit = True
        with admin.cursor() as cur:  # the server ends the lock session (as after lost network)
            cur.execute("SELECT pg_terminate_backend(%s)", (lease.backend_pid,))
        admin.close()
        assert wait_for(other.try_acquire, 5)
        with pytest.raises(LeaseLost), db.atomic():
            lease.guard(db)
            ImportRequest.create(request_id="never-kept", requested_at=now_ts())
        assert ImportRequest.get_or_none(ImportRequest.request_id == "never-kept") is None
        assert not lease.verify()
    finally:
        lease.release()
        other.release()


def test_two_collectors_migrate_one_after_the_other(pg_database: str) -> None:
    errors: list[BaseException] = []

    def run() -> None:
        try:
            db = open_writer(pg_database)
            db.connect()
            bind(db)
            migrate(db)
            db.close()
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    conn = psycopg2.connect(pg_database)
    with conn.cursor() as cur:
        cur.execute("SELECT count(*), max(version) FROM schema_version")
        assert cur.fetchone() == (SCHEMA_VERSION, SCHEMA_VERSION)
    conn.close()


def test_the_instance_id_is_kept_in_data_dir(tmp_path: Path) -> None:
    first = instance_id(tmp_path)
    assert instance_id(tmp_path) == first and (tmp_path / "collector.id").exists()


def test_file_channel_carries_the_kind(tmp_path: Path) -> None:
    channel = FileChannel(tmp_path)
    channel.submit(kind="test_email")
    made = channel.submit()
    assert [r.request_id for r in channel.pending()] == [made.request_id]
    taken = channel.claim(channel.pending(), "x")
    assert taken and isinstance(taken[0], Request) and taken[0].path.name.startswith(".claimed")
    assert channel.restore(taken) == [made.request_id]
