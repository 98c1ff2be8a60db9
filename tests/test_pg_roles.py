"""Least privilege on PostgreSQL (scripts/pg_roles.py): the collector runs as the owner role,
a plain login role; the API role reads every table and may insert into `import_request`
only. The API itself under that role: tests/api_postgres/test_api_pg_roles.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg2
import pytest

from pg_cluster import grant_api, least_privilege_database, query
from pg_throwaway import postgres_or_skip
from support import collector_env, run_collector

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WRITES = (
    "INSERT INTO import_run (trigger, slot_ts, started_at, status) VALUES ('manual', 0, 0, 'x')",
    "UPDATE area SET name = 'x'",
    "DELETE FROM import_run",
    "INSERT INTO collector_state (instance, host, pid, role, since, heartbeat, updated_at) "
    "VALUES ('x', 'x', 1, 'active', 0, '{}', 0)",
    "UPDATE import_request SET status = 'done'",
    "DELETE FROM import_request",
    "CREATE TABLE intruder (id int)",
    "TRUNCATE import_request",
)


@pytest.fixture
def roles(simulator, tmp_path: Path) -> Iterator[tuple[str, str]]:
    admin = postgres_or_skip()
    try:
        with least_privilege_database(admin) as (collector_url, api_url):
            env = collector_env(simulator.base_url, tmp_path, DATABASE_URL=collector_url)
            done = run_collector(env, "once")
            assert done.returncode == 0, done.stdout + done.stderr
            grant_api(admin, api_url)
            yield collector_url, api_url
    finally:
        admin.close()


def _try(url: str, sql: str) -> Any:
    conn = psycopg2.connect(url)
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(sql)
        return None
    except psycopg2.Error as exc:
        return exc
    finally:
        conn.close()


def test_the_collector_migrates_and_polls_as_the_owner_role(roles) -> None:
    collector_url, _api = roles
    assert query(collector_url, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user") == [
        (False,)
    ]
    assert query(collector_url, "SELECT status FROM import_run") == [("success",)]


@pytest.mark.parametrize("sql", WRITES)
def test_the_api_role_cannot_write_other_tables(roles, sql: str) -> None:
    _collector, api_url = roles
    failed = _try(api_url, sql)
    assert isinstance(failed, psycopg2.errors.InsufficientPrivilege), (sql, failed)


def test_the_api_role_reads_everything_and_queues_requests(roles) -> None:
    _collector, api_url = roles
    tables = [
        t for (t,) in query(api_url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    ]
    assert {"import_run", "import_request", "collector_state", "substation_reading"} <= set(tables)
    for table in tables:
        assert _try(api_url, f'SELECT * FROM "{table}" LIMIT 1') is None, table
    queued = (
        "INSERT INTO import_request (request_id, kind, requested_at) VALUES ('r1', 'import', 1)"
    )
    assert _try(api_url, queued) is None
    assert query(api_url, "SELECT status FROM import_request") == [("pending",)]
