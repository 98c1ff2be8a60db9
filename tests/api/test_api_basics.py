"""App factory behaviour: no database yet, other schema versions, JSON errors, headers."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from api_support import Store, make_app

from shared.schema import SCHEMA_VERSION

DATA_ENDPOINTS = [
    "/api/status",
    "/api/cooperatives",
    "/api/load/current/1",
    "/api/load/history/1",
    "/api/substations/current/1",
    "/api/imports",
]


def test_no_database_file_yet(tmp_path: Path) -> None:
    client = make_app(tmp_path).test_client()
    health = client.get("/api/health")
    assert health.status_code == 503
    body = health.get_json()
    assert body["status"] == "unavailable"
    assert "does not exist yet" in body["database"]
    assert body["collector"]["state"] == "never"
    for url in DATA_ENDPOINTS:
        response = client.get(url)
        assert response.status_code == 503, url
        assert "start the collector" in response.get_json()["error"]
    assert not (tmp_path / "kamo.db").exists()  # the API never creates the file
    metrics = client.get("/metrics")
    assert metrics.status_code == 200
    assert b"kamo_database_up 0.0" in metrics.data


def _database_with_version(path: Path, version: int | None) -> None:
    conn = sqlite3.connect(path)
    if version is not None:
        conn.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, applied_at REAL)")
        conn.execute("INSERT INTO schema_version VALUES (?, 0)", (version,))
    else:
        conn.execute("CREATE TABLE unrelated (x)")
    conn.commit()
    conn.close()


@pytest.mark.parametrize(
    ("version", "phrase"),
    [
        (None, "no schema yet"),
        (SCHEMA_VERSION + 1, "upgrade the API"),
        (SCHEMA_VERSION - 1, "upgrade in progress"),
    ],
)
def test_schema_version_mismatch_is_503(tmp_path: Path, version: int | None, phrase: str) -> None:
    _database_with_version(tmp_path / "kamo.db", version)
    client = make_app(tmp_path).test_client()
    for url in ("/api/health", "/api/cooperatives", "/api/load/current/20"):
        response = client.get(url)
        assert response.status_code == 503
        body = response.get_json()
        assert phrase in (body.get("error") or body.get("database"))


def test_unknown_path_and_method_are_json(client) -> None:
    missing = client.get("/api/nothing/here")
    assert missing.status_code == 404
    assert missing.is_json and "error" in missing.get_json()
    wrong = client.post("/api/cooperatives")
    assert wrong.status_code == 405
    assert wrong.is_json and "GET" in wrong.headers["Allow"]


def test_security_headers_on_every_response(client, tmp_path: Path) -> None:
    responses = [
        client.get("/api/health"),
        client.get("/api/nothing"),
        client.get("/api/load/current/99"),
        client.get("/metrics"),
        make_app(tmp_path).test_client().get("/api/status"),
    ]
    for response in responses:
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert "default-src 'self'" in response.headers["Content-Security-Policy"]
        assert response.headers["Referrer-Policy"] == "no-referrer"


def test_health_ok_with_database(client) -> None:
    body = client.get("/api/health").get_json()
    assert body["status"] == "ok" and body["database"] == "ok"
    assert body["version"]
    assert body["collector"]["state"] in ("running", "stale", "never")


def test_internal_error_is_json(sim_dir: Store) -> None:
    app = make_app(sim_dir)

    @app.get("/api/_boom")
    def _boom():
        raise RuntimeError("boom")

    response = app.test_client().get("/api/_boom")
    assert response.status_code == 500
    assert response.get_json() == {"error": "internal error; see the API log"}
