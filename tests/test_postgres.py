"""The same collector on PostgreSQL (the scale-out setup): one real `once` run.

Skips on a laptop without PostgreSQL; under CI (REQUIRE_POSTGRES=1) it must run.
"""

from __future__ import annotations

import pytest

from shared.schema import SCHEMA_VERSION

from pg_throwaway import postgres_or_skip, throwaway_database
from sim_process import control
from support import collector_env, run_collector


@pytest.fixture
def pg_url():
    psycopg2 = pytest.importorskip("psycopg2")
    admin = postgres_or_skip()
    try:
        with throwaway_database(admin) as url:
            yield url, psycopg2
    finally:
        admin.close()


def test_once_on_postgresql(simulator, tmp_path, pg_url):
    url, psycopg2 = pg_url
    control(simulator.base_url, now="2026-11-26T16:07:00Z", fault=None, fault_areas=None, revise=0)
    env = collector_env(simulator.base_url, tmp_path, DATABASE_URL=url)
    first = run_collector(env, "once")
    assert first.returncode == 0, first.stdout + first.stderr
    second = run_collector(env, "once")
    assert second.returncode == 0 and "load +0 new 0 revised 240 same" in second.stdout
    with psycopg2.connect(url) as conn, conn.cursor() as cur:
        cur.execute("select count(*) from area")
        assert cur.fetchone()[0] == 20
        cur.execute("select count(*), count(distinct area_id) from hourly_load")
        assert cur.fetchone() == (240, 20)
        cur.execute("select count(*) from substation")
        subs = cur.fetchone()[0]
        # One slot, or two when the runs straddled a slot boundary.
        cur.execute("select count(*), count(distinct ts) from substation_reading")
        readings, slots = cur.fetchone()
        assert readings == subs * slots and subs > 250 and slots in (1, 2)
        cur.execute("select status from import_run order by id")
        assert [r[0] for r in cur.fetchall()] == ["success", "success"]
        cur.execute("select max(version) from schema_version")
        assert cur.fetchone()[0] == SCHEMA_VERSION
        # Epoch seconds must outlive 2038 on PostgreSQL too.
        cur.execute(
            "select table_name, column_name, data_type from information_schema.columns "
            "where column_name in ('ts', 'slot_ts', 'first_seen', 'last_seen', 'built_until')"
        )
        assert {row[2] for row in cur.fetchall()} == {"bigint"}
