"""The same API code on PostgreSQL answers every read endpoint exactly as on SQLite.

Both databases are filled by the real collector from the same pinned simulator runs
(pg_support.RUNS); the API clock is pinned too. Bodies are compared byte for byte after
two documented normalisations: /api/status's database size (a file on SQLite, a server
figure on PostgreSQL) and each run's clock_skew_seconds (the collector measures it against
the simulator's real-time Date header, so it moves by a second or so between runs).
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from flask.testing import FlaskClient
from pg_support import API_KEY, Filled

from shared.db import open_reader

pytestmark = [pytest.mark.postgres, pytest.mark.slow, pytest.mark.usefixtures("api_now")]

AREAS = range(1, 21)
SUBSTATION_AREAS = (1, 2, 5, 9, 12, 17, 20)
AUTUMN = "start=2026-10-31&end=2026-11-02"  # local dates: the 25-hour day inside
SPRING = "start=2026-03-07&end=2026-03-09"  # the 23-hour day inside
RESOLUTIONS = ("raw", "15m", "30m", "1h", "3h", "6h", "12h", "1d", "auto")


def _groups() -> dict[str, list[str]]:
    """Endpoint URLs by family; a test per family reports every URL that differs."""
    groups: dict[str, list[str]] = {
        "status-and-imports": [
            "/api/health",
            "/api/imports",
            "/api/imports?limit=2",
            "/api/imports?limit=3&before_id=6",
            "/api/imports?status=success",
            "/api/imports?status=partial",
            "/api/imports?status=failed",
            "/api/imports?request_id=no-such-request",
            "/api/status",
            "/api/status?days=1",
            "/api/status?days=31",
            "/metrics",
        ],
        "cooperatives-and-coincident-peaks": [
            "/api/cooperatives",
            "/api/load/coincident-peaks",
            "/api/load/coincident-peaks?from=2026-01&to=2026-12",
            "/api/load/coincident-peaks?from=2026-03&to=2026-03",
            "/api/load/coincident-peaks?from=2026-12&to=2026-01",  # the same 400
        ],
        "exports-of-all-areas": [],
        "load-current-and-history": [],
        "load-peaks": [],
        "load-stats": [],
        "substations-list-and-current": [],
        "exports-of-one-area": [],
        "bad-input": [
            "/api/load/history/1?hours=0",
            "/api/substations/history/1?substation=no-such-substation",
        ],
    }
    for a in AREAS:
        groups["load-current-and-history"] += [
            f"/api/load/current/{a}",
            f"/api/load/history/{a}",
            f"/api/load/history/{a}?hours=8784",
            f"/api/load/history/{a}?{AUTUMN}",
            f"/api/load/history/{a}?{SPRING}",
        ]
        groups["load-peaks"] += [
            f"/api/load/peaks/{a}",
            f"/api/load/peaks/{a}?period=month",
            f"/api/load/peaks/{a}?period=year",
        ]
        groups["load-stats"] += [
            f"/api/load/stats/{a}",
            f"/api/load/stats/{a}?hours=8784",
            f"/api/load/stats/{a}?{AUTUMN}",
        ]
        groups["substations-list-and-current"] += [
            f"/api/substations/list/{a}",
            f"/api/substations/current/{a}",
        ]
    for a in SUBSTATION_AREAS:
        groups[f"substation-history-area-{a}"] = [
            f"/api/substations/history/{a}?resolution={resolution}&{window}"
            for window in ("", AUTUMN, SPRING)
            for resolution in RESOLUTIONS
        ]
    for kind, areas in (("load", ("all", "1", "20")), ("substations", ("all", "5"))):
        for area in areas:
            group = "exports-of-all-areas" if area == "all" else "exports-of-one-area"
            for fmt in ("csv", "json", "ndjson"):
                for window in ("", SPRING):
                    groups[group].append(f"/api/export/{kind}/{area}?format={fmt}&{window}")
    return groups


GROUPS = _groups()


def _normalise(value: Any) -> Any:
    """Blank each run's clock_skew_seconds once it is checked to be a plausible figure."""
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if key == "clock_skew_seconds":
                assert item is None or abs(item) < 120, f"clock skew {item}: pinning failed"
                item = "checked"
            out[key] = _normalise(item)
        return out
    if isinstance(value, list):
        return [_normalise(item) for item in value]
    return value


def _answer(client: FlaskClient, url: str) -> tuple:
    response = client.get(url, headers={"X-API-Key": API_KEY})
    text = response.get_data(as_text=True)  # also drains a streamed export
    kind = response.headers.get("Content-Type", "")
    body: Any = text
    if kind.startswith("application/json") and not url.startswith("/api/export/"):
        body = _normalise(json.loads(text))
        if url.startswith("/api/status"):
            size = body["database"].pop("file_size_bytes")
            assert size > 0  # measured per backend, so not compared
            assert body["database"].pop("size_basis").endswith("WAL not included")
    return response.status_code, kind, response.headers.get("Content-Disposition"), body


def _difference(a: Any, b: Any, path: str = "") -> str:
    """Where two answers first differ, as a path into the JSON (or a line of text)."""
    if isinstance(a, dict) and isinstance(b, dict):
        for key in list(a) + [k for k in b if k not in a]:
            if a.get(key, "<absent>") != b.get(key, "<absent>"):
                return _difference(a.get(key, "<absent>"), b.get(key, "<absent>"), f"{path}.{key}")
        return f"{path}: key order {list(a)} != {list(b)}"
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        for i, (x, y) in enumerate(zip(a, b, strict=False)):
            if x != y:
                return _difference(x, y, f"{path}[{i}]")
        return f"{path}: {len(a)} items != {len(b)}"
    if isinstance(a, str) and isinstance(b, str) and "\n" in a + b:
        for i, (x, y) in enumerate(zip(a.splitlines(), b.splitlines(), strict=False)):
            if x != y:
                return f"{path} line {i + 1}: {x!r} != {y!r}"
        return f"{path}: {a.count(chr(10))} lines != {b.count(chr(10))}"
    return f"{path}: {a!r} (SQLite) != {b!r} (PostgreSQL)"


def _compare(urls: list[str], sqlite_client: FlaskClient, pg_client: FlaskClient) -> None:
    differences = []
    for url in urls:
        expected = _answer(sqlite_client, url)
        assert expected[0] in (200, 400, 404), (url, expected)  # 404: unknown substation
        got = _answer(pg_client, url)
        if got != expected:
            differences.append(f"{url}\n    {_difference(expected, got)}")
    assert not differences, f"{len(differences)} of {len(urls)} differ:\n" + "\n".join(differences)


@pytest.mark.parametrize("group", list(GROUPS))
def test_same_answers(group: str, sqlite_client: FlaskClient, pg_client: FlaskClient) -> None:
    _compare(GROUPS[group], sqlite_client, pg_client)


def test_same_history_of_one_substation(sqlite_client: FlaskClient, pg_client: FlaskClient) -> None:
    urls = []
    for area in SUBSTATION_AREAS[:4]:
        listing = sqlite_client.get(f"/api/substations/list/{area}").json["substations"]
        names = [s["name"] for s in listing]
        assert names == sorted(names)  # code-point order on SQLite; PostgreSQL must agree
        for name in (names[0], names[-1]):
            for resolution in ("raw", "15m", "1h", "1d"):
                urls.append(
                    f"/api/substations/history/{area}?substation={name}"
                    f"&resolution={resolution}&{SPRING}"
                )
    _compare(urls, sqlite_client, pg_client)


def test_the_fixture_holds_what_the_comparisons_rely_on(sqlite_client: FlaskClient) -> None:
    """Every run status, no clock warning, and readings on both DST days: the spring ones
    read from the hourly rollup, the autumn ones (not rolled up yet) from raw readings."""
    runs = sqlite_client.get("/api/imports").json["runs"]
    assert [r["status"] for r in runs] == ["failed", "partial"] + ["success"] * 6
    assert not any(w.startswith("clock") for r in runs for w in r["warnings"])
    for window, polls in ((SPRING, 2), (AUTUMN, 3)):
        daily = sqlite_client.get(f"/api/substations/history/1?resolution=1d&{window}").json
        assert len(daily["substations"]) > 10
        for series in daily["substations"]:
            assert sum(p["samples"] for p in series["points"]) == polls


def test_both_databases_hold_the_same_rows(filled: Filled) -> None:
    """The collector wrote the same rows to both, so any difference above is the API's."""
    tables = {
        "area": "id",
        "hourly_load": "area_id, ts",
        "substation": "id",
        "substation_reading": "ts, substation_id",
        "substation_hourly": "area_id, ts, substation_id",
        "rollup_state": "name",
        "row_count": '"table"',
        "import_run": "id",
    }
    sqlite_db, pg_db = open_reader(filled.sqlite_url), open_reader(filled.pg_url)
    for db in (sqlite_db, pg_db):
        db.connect()
    try:
        for table, key in tables.items():
            rows = []
            for db in (sqlite_db, pg_db):
                cursor = db.execute_sql(f"SELECT * FROM {table} ORDER BY {key}")
                names = [c[0] for c in cursor.description]
                found = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
                for row in found:
                    for name, value in row.items():
                        if isinstance(value, bool):
                            row[name] = int(value)  # BOOLEAN on PostgreSQL, 0/1 on SQLite
                    row.pop("clock_skew_seconds", None)  # see the module docstring
                rows.append(found)
            assert rows[0], table if table != "substation_hourly" else "no rollup built"
            assert rows[1] == rows[0], table
    finally:
        for db in (sqlite_db, pg_db):
            db.close()
        pg_db.close_all()
