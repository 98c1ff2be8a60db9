"""Every invalid input answers 400 with {"error", "parameter"}; nothing answers 500."""

from __future__ import annotations

from pathlib import Path

import pytest
from api_support import Store, make_app

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
    # The document's date pattern: a real calendar date, T before a time, Z or ±HH:MM.
    ("/api/load/history/1?end=0", "end"),
    ("/api/load/history/1?end=2027-02-29", "end"),
    ("/api/load/history/1?start=2026-11-01 10:00", "start"),
    ("/api/load/history/1?start=2026-11-01T10:00z", "start"),
    ("/api/load/history/1?start=20261101", "start"),
    ("/api/load/peaks/1?period=week", "period"),
    ("/api/load/peaks/1?limit=0", "limit"),
    ("/api/load/peaks/1?period=year&limit=367", "limit"),
    ("/api/load/stats/1?hours=-5", "hours"),
    ("/api/load/coincident-peaks?from=2026-13", "from"),
    ("/api/load/coincident-peaks?from=2026-1", "from"),
    ("/api/load/coincident-peaks?to=June", "to"),
    ("/api/load/coincident-peaks?to=0000-00", "to"),
    ("/api/load/coincident-peaks?to=1969-12", "to"),
    ("/api/load/coincident-peaks?from=2026-05&to=2026-01", "to"),
    ("/api/load/coincident-peaks?from=2010-01&to=2026-01", "to"),
    ("/api/substations/history/1?resolution=2m", "resolution"),
    ("/api/substations/history/1?hours=8784&resolution=raw", "resolution"),
    ("/api/substations/list/22", "area_id"),
    ("/api/status?days=0", "days"),
    ("/api/imports?limit=0", "limit"),
    ("/api/imports?before_id=abc", "before_id"),
    ("/api/imports?before_id=4611686018427387905", "before_id"),
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
    ("url", "quoted"),
    [
        ("/api/load/history/1?start=garbage", '"garbage"'),
        ("/api/load/history/1?end=2026-02-30T00:00", '"2026-02-30T00:00"'),
        pytest.param(
            "/api/load/history/1?start=" + "7" * 500, '"' + "7" * 40 + '..."', id="long-start"
        ),
        ("/api/load/history/1?hours=x", '"x"'),
        ("/api/load/history/1?hours=100000", "100000"),
        ("/api/export/load/1?format=xml", '"xml"'),
        ("/api/load/current/abc", '"abc"'),
    ],
)
def test_the_error_quotes_the_refused_value(client, url: str, quoted: str) -> None:
    """The message shows what was sent (cut at 40 characters), not a parenthesis that
    repeats the rule: "start must be ... (not an ISO 8601 date or date-time)" said nothing."""
    error = client.get(url, headers=API_KEY_HEADER).get_json()["error"]
    assert error.endswith(f"not {quoted}"), error
    assert error.count("ISO 8601") <= 1 and "7" * 41 not in error


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


@pytest.mark.parametrize(
    ("url", "parameter"),
    [
        ("/api/substations/history/1?substation=Nowhere", "substation"),
        ("/api/substations/history/1?substation=999999", "substation"),
    ],
)
def test_unknown_substation_is_404_naming_the_parameter(client, url: str, parameter: str) -> None:
    """A well-formed name the area does not have is not found, not bad input."""
    response = client.get(url)
    assert response.status_code == 404
    assert response.get_json()["parameter"] == parameter


def test_unknown_area_is_404(writer_db, db_url: str, tmp_path: Path) -> None:
    """An id in 1-20 that the database does not hold (yet) is not found, not bad input."""
    from shared.models import Area

    Area.create(id=11, name="Area eleven", abbreviation="A11", is_aggregate=False)
    client = make_app(Store(db_url, tmp_path)).test_client()
    assert client.get("/api/load/history/11").status_code == 200
    response = client.get("/api/load/history/12")
    assert response.status_code == 404
    assert response.get_json()["parameter"] == "area_id"


@pytest.mark.parametrize(
    "url",
    [
        # The limits /api/openapi.json states are the limits the server keeps.
        "/api/load/peaks/20?period=year&limit=366",
        "/api/load/peaks/20?period=month&limit=366",
        "/api/imports?before_id=4611686018427387904",
        "/api/load/coincident-peaks?from=9000-12",
        "/api/load/history/20?start=2028-02-29&end=2028-03-01T00:00:00.5%2B14:00",
        "/api/load/history/20?end=1970-01-01T00:00Z",
        "/api/load/history/20?start=9998-12-31",
    ],
)
def test_documented_limits_are_accepted(client, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)
