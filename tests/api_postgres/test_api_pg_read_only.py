"""On PostgreSQL the API opens DATABASE_URL like any client, yet cannot write through it;
its readers are pooled, and a missing schema or an unreachable server answers 503."""

from __future__ import annotations

from typing import Any

import peewee
import psycopg2
import pytest
from flask.testing import FlaskClient
from pg_support import API_KEY, Filled, make_app, pg_sessions

from api.dbconn import EXTENSION, get_db
from shared.db import open_reader

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WRITES = (
    "INSERT INTO area (id, name, abbreviation, is_aggregate) VALUES (99, 'x', 'X', false)",
    "UPDATE hourly_load SET load_kw = 0",
    "DELETE FROM import_run",
    "CREATE TABLE intruder (id integer)",
)


def _counts(url: str) -> tuple:
    """What the writes would change, read over a connection of the test's own."""
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            cur.execute(
                "SELECT (SELECT count(*) FROM area), (SELECT sum(load_kw) FROM hourly_load), "
                "(SELECT count(*) FROM import_run), to_regclass('intruder') IS NULL"
            )
            return cur.fetchone()
    finally:
        conn.close()


@pytest.mark.parametrize("sql", WRITES)
def test_the_api_connection_cannot_write(sql: str, filled: Filled) -> None:
    before = _counts(filled.pg_url)
    app = make_app(filled.pg_url, filled.api_data_dir)
    with app.app_context():
        db = get_db()
        with pytest.raises(peewee.DatabaseError, match="read-only transaction"):
            db.execute_sql(sql)
        # The failed statement ran in its own transaction: the connection still serves.
        assert db.execute_sql("SELECT count(*) FROM area").fetchone()[0] == 20
        assert db.execute_sql("SHOW default_transaction_read_only").fetchone()[0] == "on"
    assert _counts(filled.pg_url) == before


def test_an_explicit_transaction_is_read_only_too(filled: Filled) -> None:
    db = open_reader(filled.pg_url)  # what the export stream opens
    db.connect()
    try:
        db.execute_sql("BEGIN")
        with pytest.raises(peewee.DatabaseError, match="read-only transaction"):
            db.execute_sql(WRITES[0])
        db.execute_sql("ROLLBACK")
        with pytest.raises(peewee.DatabaseError, match="read-only transaction"), db.atomic():
            db.execute_sql(WRITES[1])
    finally:
        db.close()
        db.close_all()


def test_the_url_options_are_kept_and_read_only_added(filled: Filled) -> None:
    db = open_reader(f"{filled.pg_url}?application_name=kamo-check&options=-c%20work_mem%3D8MB")
    db.connect()
    try:
        show = {
            name: db.execute_sql(f"SHOW {name}").fetchone()[0]
            for name in ("application_name", "work_mem", "default_transaction_read_only")
        }
    finally:
        db.close()
        db.close_all()
    assert show == {
        "application_name": "kamo-check",
        "work_mem": "8MB",
        "default_transaction_read_only": "on",
    }


def test_requests_reuse_pooled_connections(filled: Filled, pg_admin: Any) -> None:
    url = f"{filled.pg_url}?application_name=kamo-pool-test"
    app = make_app(url, filled.api_data_dir)
    client = app.test_client()
    for _ in range(25):
        assert client.get("/api/cooperatives").status_code == 200
        assert client.get("/api/imports?limit=1").status_code == 200
    # One request at a time: one server session serves all fifty requests, idle between.
    assert pg_sessions(pg_admin, filled.pg_url, "kamo-pool-test") == 1
    # An export streams over a reader of its own, whose session ends with the stream.
    for _ in range(3):
        streamed = client.get("/api/export/load/all?format=csv", headers={"X-API-Key": API_KEY})
        assert streamed.status_code == 200 and streamed.get_data(as_text=True).count("\n") > 1
    assert pg_sessions(pg_admin, filled.pg_url, "kamo-pool-test", settle=1) == 1
    app.extensions[EXTENSION].close_all()
    assert pg_sessions(pg_admin, filled.pg_url, "kamo-pool-test", settle=0) == 0


def test_a_database_without_schema_answers_503(empty_pg: str, tmp_path) -> None:
    client: FlaskClient = make_app(empty_pg, tmp_path).test_client()
    health = client.get("/api/health")
    assert health.status_code == 503
    assert "no schema yet" in health.json["database"]
    response = client.get("/api/cooperatives")
    assert response.status_code == 503 and "no schema yet" in response.json["error"]
    client.application.extensions[EXTENSION].close_all()


def test_an_unreachable_server_answers_503(tmp_path) -> None:
    client = make_app("postgresql://postgres@127.0.0.1:9/none", tmp_path).test_client()
    response = client.get("/api/cooperatives")
    assert response.status_code == 503
    assert response.json["error"].startswith("database cannot be read")
