"""Against the real capture of 2026-01-04, served by the simulator and stored by the collector.

Every value is checked exactly against the JSON files KAMO served.
"""

from __future__ import annotations

import json
from datetime import datetime

import pytest
from api_support import FIXTURES

from shared.timeutil import KAMO_ZONE, iso, resolve_kamo_labels

CAPTURED = range(1, 10)


def _load(name: str):
    return json.loads((FIXTURES / name).read_text())


def _actual(area_id: int) -> list[tuple[str, float]]:
    grid = _load(f"areagrid-{area_id}.json")
    series = next(s for s in grid["chartLineData"] if s["label"].lower() == "actual")
    resolved = resolve_kamo_labels(grid["lineChartLabels"])
    return [
        (iso(r.ts, KAMO_ZONE), value)
        for r, value in zip(resolved, series["data"], strict=True)
        if value is not None
    ]


def test_cooperatives_are_the_real_area_list(real_client) -> None:
    expected = [
        {"id": a["id"], "name": a["name"], "abbreviation": a["abrev"], "is_aggregate": a["id"] > 17}
        for a in _load("area.json")
    ]
    assert real_client.get("/api/cooperatives").get_json() == expected


@pytest.mark.parametrize("area_id", CAPTURED)
def test_current_load_is_the_newest_actual_value(real_client, area_id: int) -> None:
    timestamp, value = _actual(area_id)[-1]
    body = real_client.get(f"/api/load/current/{area_id}").get_json()
    area = next(a for a in _load("area.json") if a["id"] == area_id)
    assert body == {
        "area_id": area_id,
        "area_name": area["name"],
        "load_kw": value,
        "timestamp": timestamp,
    }
    assert timestamp == "2026-01-04T03:00:00-06:00"


@pytest.mark.parametrize("area_id", CAPTURED)
def test_history_is_every_actual_hour(real_client, area_id: int) -> None:
    body = real_client.get(
        f"/api/load/history/{area_id}?start=2026-01-03T16:00&end=2026-01-04T04:00"
    ).get_json()
    assert [(p["timestamp"], p["load_kw"]) for p in body["points"]] == _actual(area_id)
    assert body["count"] == 12
    assert body["start"] == "2026-01-03T16:00:00-06:00"


@pytest.mark.parametrize("area_id", CAPTURED)
def test_substations_current_match_the_snapshot(real_client, area_id: int) -> None:
    rows = _load(f"arealoadtable-{area_id}.json")["areaLoadData"]
    body = real_client.get(f"/api/substations/current/{area_id}").get_json()
    got = {s["name"]: s for s in body["substations"]}
    assert set(got) == {r["name"] for r in rows}
    for row in rows:
        s = got[row["name"]]
        pf = None if row["pf"] == 0 and row["kvar"] == 0 else row["pf"]
        assert (s["kw"], s["kvar"], s["pf"]) == (row["kw"], row["kvar"], pf), row["name"]
        assert (s["quality"], s["quality_now"]) == (row["quality"], row["qualityNow"])
    assert body["total_kw"] == sum(r["kw"] for r in rows)
    listing = real_client.get(f"/api/substations/list/{area_id}").get_json()
    assert sorted(s["name"] for s in listing["substations"]) == sorted(r["name"] for r in rows)


def test_daily_peaks_come_from_the_actual_values(real_client) -> None:
    values = _actual(1)
    body = real_client.get("/api/load/peaks/1?period=day").get_json()
    by_day: dict[str, tuple[str, float]] = {}
    for timestamp, value in values:
        day = timestamp[:10]
        if day not in by_day or value > by_day[day][1]:
            by_day[day] = (timestamp, value)
    expected = [
        {
            "period": day,
            "timestamp": ts,
            "load_kw": kw,
            "hours": sum(v[0][:10] == day for v in values),
        }
        for day, (ts, kw) in sorted(by_day.items(), reverse=True)
    ]
    assert body["peaks"] == expected


def test_stats_over_the_captured_window(real_client) -> None:
    values = [v for _, v in _actual(2)]
    body = real_client.get(
        "/api/load/stats/2?start=2026-01-03T16:00-06:00&end=2026-01-04T04:00-06:00"
    ).get_json()
    assert body["hours_with_data"] == 12
    assert body["min_kw"] == min(values) and body["max_kw"] == max(values)
    assert body["energy_mwh"] == round(sum(values) / 1000, 3)
    assert body["load_factor"] == round(sum(values) / 12 / max(values), 4)


def test_uncaptured_areas_have_no_load(real_client) -> None:
    response = real_client.get("/api/load/current/12")
    assert response.status_code == 404
    assert response.get_json()["parameter"] == "area_id"
    peaks = real_client.get("/api/load/coincident-peaks?from=2026-01&to=2026-01").get_json()
    assert peaks == {"from": "2026-01", "to": "2026-01", "months": []}


def test_import_log_shows_the_partial_run(real_client) -> None:
    runs = real_client.get("/api/imports").get_json()["runs"]
    assert len(runs) == 1
    run = runs[0]
    assert run["status"] == "partial" and run["trigger"] == "manual"
    assert run["areas_ok"] == 9 and run["areas_total"] == 20
    assert set(run["area_errors"]) == {str(a) for a in range(10, 21)}
    datetime.fromisoformat(run["started_at"])
