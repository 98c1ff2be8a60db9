"""The container's gunicorn (gevent workers) on PostgreSQL: a query waiting on the server
must not stop the worker's other requests, so psycopg2 waits through gevent's loop."""

from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import psycopg2
import pytest
from pg_support import REPO_ROOT, Filled

from sim_process import free_port

sys.path.insert(0, str(REPO_ROOT / "scripts"))
from slow_clients import sqlite_env, start_gunicorn, stop_gunicorn, timed_get  # noqa: E402

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture
def one_worker_on_pg(filled: Filled, tmp_path: Path):
    """One worker, so a worker blocked in libpq would block every request."""
    env = {**sqlite_env(filled.api_data_dir), "DATABASE_URL": filled.pg_url, "WEB_CONCURRENCY": "1"}
    port = free_port()
    proc = start_gunicorn(env, port, tmp_path / "gunicorn.log")
    try:
        yield port
    finally:
        stop_gunicorn(proc)


def test_health_answers_while_another_request_waits_on_a_lock(
    one_worker_on_pg: int, filled: Filled
) -> None:
    port = one_worker_on_pg
    assert timed_get(port, "/api/imports")[1] == 200
    locker = psycopg2.connect(filled.pg_url)
    waiting: list[tuple[float, int]] = []
    try:
        with locker.cursor() as cur:
            cur.execute("LOCK TABLE import_run IN ACCESS EXCLUSIVE MODE")
        blocked = threading.Thread(
            target=lambda: waiting.append(timed_get(port, "/api/imports", timeout=60))
        )
        blocked.start()
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not _lock_waiters(filled.pg_url):
            time.sleep(0.1)
        assert _lock_waiters(filled.pg_url), "the API's query never reached the lock"
        seconds, status = timed_get(port, "/api/health", timeout=15)
        assert status == 200 and seconds < 5, (status, seconds)
        assert not waiting, "the import log answered while its table was locked"
    finally:
        locker.rollback()  # releases the lock
        locker.close()
    blocked.join(timeout=30)
    assert waiting and waiting[0][1] == 200


def _lock_waiters(url: str) -> int:
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE application_name = 'kamo-api' AND wait_event_type = 'Lock'"
            )
            return cur.fetchone()[0]
    finally:
        conn.close()


def test_a_server_that_never_answers_is_a_503_within_connect_timeout(tmp_path: Path) -> None:
    """Under the wait callback libpq's connect_timeout is kept by hand: a listener that
    accepts and then says nothing (a hung server) gives 503, not a request that hangs."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)  # the kernel completes handshakes; nobody ever answers
        url = f"postgresql://kamo@127.0.0.1:{silent.getsockname()[1]}/kamo?connect_timeout=2"
        env = {**sqlite_env(tmp_path), "DATABASE_URL": url, "WEB_CONCURRENCY": "1"}
        port = free_port()
        proc = start_gunicorn(env, port, tmp_path / "gunicorn.log")
        try:
            seconds, status = timed_get(port, "/api/health", timeout=30)
        finally:
            stop_gunicorn(proc)
    assert status == 503 and seconds < 15, (status, seconds)
