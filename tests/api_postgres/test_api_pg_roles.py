"""The API under the least-privilege API role (scripts/pg_roles.py): every read works, the
manual trigger queues into `import_request` (the one table it may write), and its own
connection cannot write anything else, even in a READ WRITE transaction."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import peewee
import pytest
from flask.testing import FlaskClient
from pg_support import API_KEY, make_app

from shared.db import open_reader
from shared.triggers import MAX_PENDING

from pg_cluster import grant_api, least_privilege_database, query
from pg_throwaway import postgres_or_skip
from sim_process import control, start_simulator
from support import collector_env, run_collector

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

READS = (
    "/api/health",
    "/api/status",
    "/api/cooperatives",
    "/api/load/current/20",
    "/api/load/history/7",
    "/api/load/peaks/7",
    "/api/load/stats/7",
    "/api/load/coincident-peaks",
    "/api/substations/current/7",
    "/api/substations/list/7",
    "/api/substations/history/7",
    "/api/imports",
    "/metrics",
    "/",
    "/imports",
)
PROTECTED = ("/api/export/load/7", "/api/export/substations/7")
OTHER_WRITES = (
    "INSERT INTO area (id, name, abbreviation, is_aggregate) VALUES (99, 'x', 'X', false)",
    "UPDATE import_run SET status = 'failed'",
    "DELETE FROM import_request",
    "UPDATE import_request SET status = 'done'",
    "INSERT INTO collector_state (instance, host, pid, role, since, heartbeat, updated_at) "
    "VALUES ('x', 'x', 1, 'active', 0, '{}', 0)",
)


@pytest.fixture(scope="module")
def api_role(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, Path]]:
    admin = postgres_or_skip()
    work = tmp_path_factory.mktemp("roles")
    try:
        with (
            least_privilege_database(admin) as (collector_url, api_url),
            start_simulator("--quiet") as sim,
        ):
            control(sim.base_url, revise=0)
            env = collector_env(sim.base_url, work, DATABASE_URL=collector_url)
            done = run_collector(env, "once")
            assert done.returncode == 0, done.stdout + done.stderr
            grant_api(admin, api_url)
            api_dir = work / "api"  # the API's own, empty: nothing shared with the collector
            api_dir.mkdir()
            yield collector_url, api_url, api_dir
    finally:
        admin.close()


@pytest.fixture(scope="module")
def client(api_role: tuple[str, str, Path]) -> FlaskClient:
    _collector, api_url, api_dir = api_role
    return make_app(api_url, api_dir).test_client()


@pytest.mark.parametrize("path", READS)
def test_every_read_works_under_the_api_role(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


@pytest.mark.parametrize("path", PROTECTED)
def test_exports_work_under_the_api_role(client: FlaskClient, path: str) -> None:
    response = client.get(path, headers={"X-API-Key": API_KEY})
    assert response.status_code == 200, (path, response.get_data(as_text=True)[:300])


def test_the_trigger_queues_and_the_bound_holds(client: FlaskClient, api_role: Any) -> None:
    collector_url, _api, _dir = api_role
    made = []
    for _ in range(MAX_PENDING):
        response = client.post("/api/import/trigger", headers={"X-API-Key": API_KEY})
        assert response.status_code == 202, response.get_data(as_text=True)
        made.append(response.get_json()["request_id"])
    body = response.get_json()
    assert body["status"] == "queued" and body["imports_url"].endswith(made[-1])
    refused = client.post("/api/import/trigger", headers={"X-API-Key": API_KEY})
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    stored = query(collector_url, "SELECT request_id, kind, status FROM import_request")
    assert sorted(stored) == sorted((rid, "import", "pending") for rid in made)
    assert client.get("/api/status").status_code == 200  # reads go on after the write


@pytest.mark.parametrize("sql", OTHER_WRITES)
def test_the_api_connection_cannot_write_other_tables(api_role: Any, sql: str) -> None:
    _collector, api_url, _dir = api_role
    db = open_reader(api_url)
    db.connect()
    try:
        with pytest.raises(peewee.ProgrammingError, match="permission denied"), db.atomic():
            db.execute_sql("SET TRANSACTION READ WRITE")  # what the trigger does
            db.execute_sql(sql)
    finally:
        db.close()
