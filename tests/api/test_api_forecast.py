"""GET /api/forecast/{area_id} on a small known dataset (tests/forecast_data.py), with the
clock moved so that its hours are the coming ones; numbers checked by hand."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from api_support import make_app
from forecast_data import AREA, T0, H, fill_known

from shared.db import bind, open_writer
from shared.schema import migrate


@pytest.fixture(scope="module")
def client(new_store):
    store = new_store("forecast")
    db = bind(open_writer(store.url))
    db.connect()
    migrate(db)
    fill_known(db)
    db.close()
    return make_app(store).test_client()


def at(offset: int):
    """Both the API's clock and its zone lookups at T0 + offset."""
    return time_machine.travel(datetime.fromtimestamp(T0 + offset, UTC), tick=False)


def test_latest_forecast_and_accuracy(client):
    with at(3 * H + 600):  # 10 minutes into target hour 3
        body = client.get(f"/api/forecast/{AREA}?hours=2").get_json()
    assert body["area_id"] == AREA and body["hours"] == 2 and body["accuracy_days"] is None
    start = datetime.fromtimestamp(T0 + 3 * H, ZoneInfo("America/Chicago"))
    assert body["start"] == start.isoformat(timespec="seconds")
    series = {s["series"]: s for s in body["series"]}
    assert list(series) == ["F", "G"]
    f, g = series["F"], series["G"]
    assert [p["value_kw"] for p in f["points"]] == [400.0, 5000.0]  # hours 3 and 4
    assert [p["value_kw"] for p in g["points"]] == [450.0]
    assert f["issued"] == f["points"][1]["issued"]  # the newest issue among the points
    # By hand: lead 1 is off by 100, 300 and 50 kW (MAE 150); 10 % and 15 % where the
    # actual is not 0 (MAPE 12.5); lead 2 off by 100 (10 %); lead 4 off by 200 (10 %).
    assert f["accuracy"] == [
        {"lead_hours": 1, "count": 3, "mae_kw": 150.0, "mape_percent": 12.5},
        {"lead_hours": 2, "count": 1, "mae_kw": 100.0, "mape_percent": 10.0},
        {"lead_hours": 4, "count": 1, "mae_kw": 200.0, "mape_percent": 10.0},
    ]
    assert g["accuracy"] == [{"lead_hours": 1, "count": 1, "mae_kw": 50.0, "mape_percent": 10.0}]


def test_later_the_forecast_has_run_out_but_accuracy_stays(client):
    with at(30 * H):
        body = client.get(f"/api/forecast/{AREA}").get_json()
    series = {s["series"]: s for s in body["series"]}
    assert series["F"]["points"] == [] and series["F"]["issued"] is None
    assert series["F"]["accuracy"][0]["count"] == 3
    with at(60 * H):  # one whole UTC day before the day before: none of the targets
        assert client.get(f"/api/forecast/{AREA}?days=1").get_json()["series"] == []


@pytest.mark.parametrize(
    "query, parameter",
    [
        ("/api/forecast/21", "area_id"),
        ("/api/forecast/abc", "area_id"),
        (f"/api/forecast/{AREA}?hours=0", "hours"),
        (f"/api/forecast/{AREA}?hours=49", "hours"),
        (f"/api/forecast/{AREA}?hours=x1", "hours"),
        (f"/api/forecast/{AREA}?days=0", "days"),
        (f"/api/forecast/{AREA}?days=", "days"),
    ],
)
def test_bad_parameters_are_400(client, query, parameter):
    response = client.get(query)
    assert response.status_code == 400
    assert response.get_json()["parameter"] == parameter


def test_unknown_area_is_404(client):
    response = client.get("/api/forecast/9")
    assert response.status_code == 404 and response.get_json()["parameter"] == "area_id"


def test_start_picks_the_hours(client):
    start = datetime.fromtimestamp(T0 + H, UTC).isoformat().replace("+00:00", "Z")
    with at(30 * H):
        body = client.get(f"/api/forecast/{AREA}?start={start}&hours=1").get_json()
    points = {s["series"]: s["points"] for s in body["series"]}
    assert [p["value_kw"] for p in points["F"]] == [2100.0] and points["G"] == []
    assert client.get(f"/api/forecast/{AREA}?start=2026-13-01").status_code == 400


def test_both_autumn_one_oclock_hours_have_their_forecast(dst_client):
    """The collector's DST database (api_support.AUTUMN_RUNS): four hours from local
    midnight on 2026-11-01 are 0:00 CDT, 1:00 CDT, 1:00 CST and 2:00 CST."""
    response = dst_client.get("/api/forecast/20?start=2026-11-01T00:00:00-05:00&hours=4")
    assert response.status_code == 200
    series = {s["series"]: s for s in response.get_json()["series"]}
    stamps = [p["timestamp"] for p in series["Forecast"]["points"]]
    assert stamps == [
        "2026-11-01T00:00:00-05:00",
        "2026-11-01T01:00:00-05:00",
        "2026-11-01T01:00:00-06:00",
        "2026-11-01T02:00:00-06:00",
    ]
