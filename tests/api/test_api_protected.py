"""API-key endpoints: the manual-import trigger and streamed exports."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from pathlib import Path

import pytest
from api_support import API_KEY, SQLITE_ONLY, Store, make_app

from api.writers import safe_cell

KEY = {"X-API-Key": API_KEY}
PROTECTED = [
    ("post", "/api/import/trigger"),
    ("get", "/api/export/load/1"),
    ("get", "/api/export/substations/all"),
]


@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_missing_or_wrong_key_is_401(client, method: str, url: str) -> None:
    for headers in ({}, {"X-API-Key": "wrong"}, {"X-API-Key": API_KEY + "x"}, {"X-API-Key": ""}):
        response = getattr(client, method)(url, headers=headers)
        assert response.status_code == 401
        assert response.is_json and response.get_json()["error"]


@pytest.mark.parametrize("key", [None, ""])
@pytest.mark.parametrize(("method", "url"), PROTECTED)
def test_unconfigured_key_is_503(sim_dir: Store, key, method: str, url: str) -> None:
    client = make_app(sim_dir, API_KEY=key).test_client()
    response = getattr(client, method)(url, headers={"X-API-Key": "anything"})
    assert response.status_code == 503
    assert response.get_json()["error"].startswith("API key not configured")


@SQLITE_ONLY  # the trigger-file protocol; PostgreSQL queues in import_request (test_api_pg_roles)
def test_trigger_writes_the_request_file(tmp_path: Path, sim_dir: Store) -> None:
    client = make_app(sim_dir, DATA_DIR=str(tmp_path)).test_client()
    response = client.post("/api/import/trigger", headers=KEY)
    assert response.status_code == 202
    request_id = response.get_json()["request_id"]
    written = json.loads((tmp_path / "triggers" / f"{request_id}.json").read_text())
    assert written["request_id"] == request_id
    assert response.get_json()["imports_url"] == f"/api/imports?request_id={request_id}"


def test_export_load_csv(client, sim_sql) -> None:
    # The simulated data is pinned to 2026-11-26, so the window is too (not `days`).
    window = "start=2026-11-25T12:00:00Z&end=2026-11-27T00:00:00Z"
    response = client.get(f"/api/export/load/20?{window}", headers=KEY)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    disposition = response.headers["Content-Disposition"]
    assert (
        disposition.startswith('attachment; filename="kamo-load-KAMO-') and '.csv"' in disposition
    )
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["timestamp", "area_id", "abbreviation", "load_kw"]
    stored = sim_sql.execute("SELECT load_kw FROM hourly_load WHERE area_id = 20 ORDER BY ts")
    assert [float(r[3]) for r in rows[1:]] == [r[0] for r in stored]


@pytest.mark.parametrize("fmt", ["json", "ndjson"])
def test_export_substations_formats(client, sim_sql, fmt: str) -> None:
    response = client.get(f"/api/export/substations/all?format={fmt}&days=1", headers=KEY)
    text = response.get_data(as_text=True)
    rows = json.loads(text) if fmt == "json" else [json.loads(line) for line in text.splitlines()]
    count = sim_sql.execute("SELECT count(*) FROM substation_reading").fetchone()[0]
    assert len(rows) == count
    assert {"timestamp", "substation", "kw", "kvar", "pf"} <= set(rows[0])
    assert (
        "ALL" in response.headers["Content-Disposition"]
        or "all" in response.headers["Content-Disposition"]
    )


def test_export_is_streamed(client) -> None:
    response = client.get("/api/export/substations/all?days=1", headers=KEY, buffered=False)
    assert response.is_streamed
    response.close()


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ('=HYPERLINK("x")', '\'=HYPERLINK("x")'),
        ("+1", "'+1"),
        ("-cmd", "'-cmd"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("Nixa 161 M1", "Nixa 161 M1"),
        (-200.0, -200.0),
        (-1, -1),
        (True, 1),
    ],
)
def test_csv_cells_neutralised_numbers_kept(value, cell) -> None:
    assert safe_cell(value) == cell


@SQLITE_ONLY  # the trigger-file protocol; PostgreSQL queues in import_request (test_api_pg_roles)
def test_trigger_answers_when_it_will_run(tmp_path: Path, sim_dir: Store) -> None:
    """expected_at follows the collector's rule, read from its heartbeat: a minute after
    the last manual start, or the next slot when that comes first."""
    from shared.heartbeat import write_heartbeat
    from shared.timeutil import now_ts

    now = now_ts()
    beat = {
        "state": "idle",
        "interval_minutes": 5,
        "started_at": now - 100,
        "last_finished_at": now - 10,
        "manual_gap_seconds": 60,
        "slot_guard_seconds": 15,
    }
    client = make_app(sim_dir, DATA_DIR=str(tmp_path)).test_client()
    heartbeat = tmp_path / "collector.heartbeat"
    write_heartbeat(heartbeat, dict(beat, last_manual_started_at=now - 20, next_slot=now + 200))
    body = client.post("/api/import/trigger", headers=KEY).get_json()
    assert body["answered_by"] == "manual" and body["collector"] == "running"
    expected = datetime.fromisoformat(body["expected_at"]).timestamp()
    assert now + 35 <= expected <= now + 45  # 60 s after the last manual start
    write_heartbeat(heartbeat, dict(beat, last_manual_started_at=now - 20, next_slot=now + 50))
    body = client.post("/api/import/trigger", headers=KEY).get_json()
    assert body["answered_by"] == "scheduled"
    assert abs(datetime.fromisoformat(body["expected_at"]).timestamp() - (now + 50)) < 1.5


@SQLITE_ONLY  # the trigger-file protocol; PostgreSQL queues in import_request (test_api_pg_roles)
def test_pending_requests_are_bounded(tmp_path: Path, sim_dir: Store) -> None:
    from shared.triggers import MAX_PENDING

    client = make_app(sim_dir, DATA_DIR=str(tmp_path)).test_client()
    answers = [client.post("/api/import/trigger", headers=KEY) for _ in range(MAX_PENDING + 5)]
    assert [a.status_code for a in answers] == [202] * MAX_PENDING + [429] * 5
    refused = answers[-1]
    assert int(refused.headers["Retry-After"]) >= 1
    assert "already waiting" in refused.get_json()["error"]
    assert len(list((tmp_path / "triggers").glob("*.json"))) == MAX_PENDING


@SQLITE_ONLY  # the trigger-file protocol; PostgreSQL queues in import_request (test_api_pg_roles)
def test_trigger_on_a_full_disk_is_503_with_a_reason(tmp_path: Path, sim_dir: Store) -> None:
    from small_fs import fill, small_filesystem

    with small_filesystem(tmp_path / "small", size_mb=1) as small:
        (small / "triggers").mkdir()
        filler = fill(small)
        client = make_app(sim_dir, DATA_DIR=str(small)).test_client()
        response = client.post("/api/import/trigger", headers=KEY)
        assert response.status_code == 503, response.get_data(as_text=True)
        assert "No space left on device" in response.get_json()["error"]
        assert list((small / "triggers").iterdir()) == []  # no temp file left behind
        filler.unlink()
        assert client.post("/api/import/trigger", headers=KEY).status_code == 202
