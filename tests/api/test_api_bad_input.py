"""Every invalid input answers 400 with {"error", "parameter"}; nothing answers 500."""

from __future__ import annotations

import pytest

API_KEY_HEADER = {"X-API-Key": "test-key-0123456789"}

BAD = [
    ("/api/load/current/0", "area_id"),
    ("/api/load/current/21", "area_id"),
    ("/api/load/current/abc", "area_id"),
    ("/api/load/current/-1", "area_id"),
    ("/api/load/current/1.5", "area_id"),
    ("/api/load/history/1?hours=0", "hours"),
    ("/api/load/history/1?hours=x", "hours"),
    ("/api/load/history/1?hours=100000", "hours"),
    ("/api/load/history/1?hours=1e3", "hours"),
    ("/api/load/history/1?start=yesterday", "start"),
    ("/api/load/history/1?start=2026-13-01", "start"),
    ("/api/load/history/1?end=2026-02-30T00:00", "end"),
    ("/api/load/history/1?start=2026-11-02&end=2026-11-01", "end"),
    ("/api/load/history/1?start=2026-11-02T05:00&end=2026-11-02T05:00", "end"),
    ("/api/load/history/1?start=2020-01-01&end=2026-01-01", "end"),
    ("/api/load/history/1?hours=5&start=2026-11-01", "hours"),
    ("/api/load/history/1?start=0001-01-01", "start"),
    ("/api/load/history/1?start=9999-12-31T23:59:59-12:00", "start"),
    ("/api/load/peaks/1?period=week", "period"),
    ("/api/load/peaks/1?limit=0", "limit"),
    ("/api/load/peaks/1?period=year&limit=51", "limit"),
    ("/api/load/stats/1?hours=-5", "hours"),
    ("/api/load/coincident-peaks?from=2026-13", "from"),
    ("/api/load/coincident-peaks?from=2026-1", "from"),
    ("/api/load/coincident-peaks?to=June", "to"),
    ("/api/load/coincident-peaks?from=2026-05&to=2026-01", "to"),
    ("/api/load/coincident-peaks?from=2010-01&to=2026-01", "to"),
    ("/api/substations/history/1?resolution=2m", "resolution"),
    ("/api/substations/history/1?hours=8784&resolution=raw", "resolution"),
    ("/api/substations/history/1?substation=Nowhere", "substation"),
    ("/api/substations/list/22", "area_id"),
    ("/api/status?days=0", "days"),
    ("/api/imports?limit=0", "limit"),
    ("/api/imports?before_id=abc", "before_id"),
    ("/api/imports?request_id=../etc", "request_id"),
    ("/api/imports?status=done", "status"),
    ("/api/export/load/1?format=xml", "format"),
    ("/api/export/load/1?days=367", "days"),
    ("/api/export/load/everything", "area_id"),
    ("/api/export/substations/1?start=2026-11-02&end=2026-11-01", "end"),
]


@pytest.mark.parametrize(("url", "parameter"), BAD)
def test_bad_input_is_400_naming_the_parameter(client, url: str, parameter: str) -> None:
    response = client.get(url, headers=API_KEY_HEADER)
    assert response.status_code == 400, response.get_data(as_text=True)
    body = response.get_json()
    assert body["parameter"] == parameter
    assert body["error"]


@pytest.mark.parametrize(
    "url",
    [
        "/api/load/history/1?start=%00",
        "/api/load/history/1?start=" + "9" * 5000,
        "/api/load/current/" + "1" * 400,
        "/api/load/history/1?hours=99999999999999999999999",
        "/api/substations/history/1?substation=%F0%9F%92%A9",
        "/api/load/peaks/1?period=%FF",
    ],
)
def test_hostile_input_never_500(client, url: str) -> None:
    response = client.get(url, headers=API_KEY_HEADER)
    assert 400 <= response.status_code < 500
    assert response.is_json
