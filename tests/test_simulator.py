"""Tests of the KAMO simulator: real HTTP against the subprocess, plus model unit tests."""

from __future__ import annotations

import importlib.util
import json
import math
import re
import shutil
import socket
import time
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests

try:
    from sim_process import control, start_simulator
except ImportError:  # tests/ became a package
    from tests.sim_process import control, start_simulator

REPO = Path(__file__).resolve().parent.parent
FIXTURES = REPO / "scripts" / "kamo_fixtures" / "real-2026-01-04"
CENTRAL = ZoneInfo("America/Chicago")
PINNED = "2026-01-04T09:05:00Z"  # the capture time of the fixtures
LABEL = re.compile(r"^\d{2}/\d{2}/\d{4} \d{1,2}:00$")
MEMBERS = range(1, 18)
AGGREGATES = {18: range(1, 10), 19: range(10, 18), 20: range(1, 18)}
DEFAULTS = {
    "now": PINNED,
    "fault": None,
    "fault_areas": None,
    "latency_ms": 0,
    "error_rate": 0.0,
    "date_skew_seconds": 0,
    "revise": 0,
    "forecast": True,
    "trickle_ms": 1000.0,
    "huge_mb": 200,
    "retry_after_seconds": 120,
    "peak_at": None,
    "peak_factor": 1.0,
}


def _load_model():
    path = REPO / "scripts" / "kamo_sim_model.py"
    spec = importlib.util.spec_from_file_location("kamo_sim_model_under_test", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


model = _load_model()


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def get(base_url: str, path: str, **kwargs) -> requests.Response:
    return requests.get(f"{base_url}{path}", timeout=kwargs.pop("timeout", 5), **kwargs)


def grid(base_url: str, area: int) -> dict:
    response = get(base_url, f"/areagrid/{area}")
    assert response.status_code == 200, response.text
    return response.json()


def table(base_url: str, area: int) -> list[dict]:
    response = get(base_url, f"/arealoadtable/{area}")
    assert response.status_code == 200, response.text
    return response.json()["areaLoadData"]


def actual(answer: dict) -> list[float | None]:
    return next(s["data"] for s in answer["chartLineData"] if s["label"].lower() == "actual")


@pytest.fixture(scope="module")
def shared_sim():
    with start_simulator("--now", PINNED, "--quiet") as sim:
        yield sim


@pytest.fixture
def sim(shared_sim):
    """The module's simulator, reset to the defaults (data clock pinned at PINNED)."""
    control(shared_sim.base_url, **DEFAULTS)
    return shared_sim


# Serving basics


def test_binds_loopback_and_announces_url(sim):
    assert f"KAMO simulator on http://127.0.0.1:{sim.port}/api" in sim.stdout()
    # Another loopback address of this host is refused: the socket is bound to 127.0.0.1 only.
    with pytest.raises(OSError), socket.create_connection(("127.0.0.2", sim.port), timeout=1):
        pass


def test_area_list_is_the_real_one(sim):
    response = get(sim.base_url, "/area")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    areas = response.json()
    assert areas == fixture("area.json")
    assert [a["id"] for a in areas] == list(range(1, 21))
    assert all(set(a) == {"id", "name", "abrev", "selected"} for a in areas)
    assert [a["id"] for a in areas if a["selected"]] == [20]


def test_areagrid_shape_matches_fixture(sim):
    real = fixture("areagrid-1.json")
    for area in range(1, 21):
        answer = grid(sim.base_url, area)
        assert set(answer) == set(real)
        assert answer["Id"] == area
        # Actual first, as captured; then the simulator's forecast (not in the capture).
        assert [s["label"] for s in answer["chartLineData"]] == ["Actual", "Forecast"]
        assert all(set(s) == set(real["chartLineData"][0]) for s in answer["chartLineData"])
        data = actual(answer)
        assert len(data) == 24 and len(answer["lineChartLabels"]) == 24
        assert all(v is None or isinstance(v, float) for v in data)
        assert all(LABEL.match(label) for label in answer["lineChartLabels"])
    # At the capture time the labels are exactly the real ones.
    assert grid(sim.base_url, 1)["lineChartLabels"] == real["lineChartLabels"]


def test_arealoadtable_shape_matches_fixture(sim):
    real = fixture("arealoadtable-1.json")
    row_keys = set(real["areaLoadData"][0])
    for area in MEMBERS:
        answer = get(sim.base_url, f"/arealoadtable/{area}").json()
        assert set(answer) == set(real) and answer["Id"] == area
        for row in answer["areaLoadData"]:
            assert set(row) == row_keys
            assert isinstance(row["name"], str)
            assert all(isinstance(row[k], float) for k in ("kw", "kvar", "pf"))
            assert row["quality"] is False and row["qualityNow"] is False
    for area in AGGREGATES:
        response = get(sim.base_url, f"/arealoadtable/{area}")
        assert response.status_code == 200
        assert response.json() == {"Id": area, "areaLoadData": []}


@pytest.mark.parametrize(
    "path",
    [
        "/areagrid/0",
        "/areagrid/21",
        "/areagrid/abc",
        "/arealoadtable/0",
        "/arealoadtable/21",
        "/arealoadtable/abc",
        "/areagrid",
        "/nothing",
        "/../x",
    ],
)
def test_unknown_paths_answer_404(sim, path):
    assert get(sim.base_url, path).status_code == 404


def test_outside_api_answers_404(sim):
    root = sim.base_url.removesuffix("/api")
    assert requests.get(f"{root}/", timeout=5).status_code == 404


# Substations


def test_substation_names(sim):
    names = {area: [row["name"] for row in table(sim.base_url, area)] for area in MEMBERS}
    for area in range(1, 10):
        real = [row["name"] for row in fixture(f"arealoadtable-{area}.json")["areaLoadData"]]
        assert names[area] == real
    assert sum(len(names[a]) for a in range(1, 10)) == 164
    assert 295 <= sum(len(n) for n in names.values()) <= 310
    for area in range(10, 18):
        assert 12 <= len(names[area]) <= 22
    for area_names in names.values():
        assert len(set(area_names)) == len(area_names)
        assert all(0 < len(name) <= 16 for name in area_names)


def test_reading_properties(sim):
    readings = []
    for step in range(10):  # ten 3-minute periods spread over a day: about 3,000 readings
        now = datetime(2026, 7, 14, 2, 1, tzinfo=UTC).timestamp() + step * 8580
        control(sim.base_url, now=datetime.fromtimestamp(now, UTC).isoformat())
        for area in MEMBERS:
            readings.extend(table(sim.base_url, area))
    assert len(readings) > 2900
    placeholders = one_decimal = negative = 0
    for row in readings:
        kw, kvar, pf = row["kw"], row["kvar"], row["pf"]
        assert kw > 0
        assert round(kw * 10) == kw * 10  # at most one decimal
        one_decimal += kw != int(kw)
        assert kvar == int(kvar)
        if kvar == 0:
            assert pf == 0.0
            placeholders += 1
            continue
        negative += kvar < 0
        assert -0.45 * kw - 1 <= kvar <= 0.35 * kw + 1
        assert pf == math.copysign(round(kw / math.hypot(kw, kvar), 2), kvar)
        assert round(pf, 2) == pf
    assert 0.002 < one_decimal / len(readings) < 0.03
    assert 0.005 < placeholders / len(readings) < 0.05
    assert 0.3 < negative / len(readings) < 0.75
    kws = [row["kw"] for row in readings]
    assert min(kws) < 1000 and 10000 < max(kws) <= 30000


def test_readings_change_every_three_minutes(sim):
    def snapshot(now: str) -> list[list[dict]]:
        control(sim.base_url, now=now)
        return [table(sim.base_url, area) for area in MEMBERS]

    first = snapshot("2026-05-05T10:00:10Z")
    assert snapshot("2026-05-05T10:02:59Z") == first
    later = snapshot("2026-05-05T10:03:00Z")
    for before, after in zip(first, later, strict=True):
        assert [r["name"] for r in before] == [r["name"] for r in after]
        assert [r["kw"] for r in before] != [r["kw"] for r in after]


# Hourly load


def test_aggregates_are_sums_of_members(sim):
    for revise in (0, 37):
        control(sim.base_url, revise=revise)
        data = {area: actual(grid(sim.base_url, area)) for area in range(1, 21)}
        for aggregate, members in AGGREGATES.items():
            for hour in range(24):
                values = [data[m][hour] for m in members]
                expected = None if None in values else sum(values)
                assert data[aggregate][hour] == expected


def test_member_values_are_plausible(sim):
    for area in MEMBERS:
        values = [v for v in actual(grid(sim.base_url, area)) if v is not None]
        assert all(v == int(v) for v in values)
        assert all(15000 < v < 160000 for v in values)
    area1 = [v for v in actual(grid(sim.base_url, 1)) if v is not None]
    assert 65000 < sum(area1) / len(area1) < 95000  # like the real ~80,000 kW


def test_twelve_values_then_twelve_nulls_ending_at_current_hour(sim):
    answer = grid(sim.base_url, 5)
    data = actual(answer)
    assert all(v is not None for v in data[:12]) and data[12:] == [None] * 12
    assert answer["lineChartLabels"][11] == "01/04/2026 3:00"  # 09:05Z is 03:05 CST


def test_window_follows_the_real_clock(sim):
    control(sim.base_url, now=None)

    def current_label() -> str:
        local = datetime.now(UTC).astimezone(CENTRAL)
        return f"{local.month:02d}/{local.day:02d}/{local.year} {local.hour}:00"

    before = current_label()
    answer = grid(sim.base_url, 20)
    after = current_label()
    data = actual(answer)
    assert sum(v is not None for v in data) == 12 and data[11] is not None
    assert answer["lineChartLabels"][11] in (before, after)


def test_autumn_repeated_hour(sim):
    control(sim.base_url, now="2026-11-01T08:30:00Z")  # 02:30 CST, after the fallback
    answer = grid(sim.base_url, 1)
    labels, data = answer["lineChartLabels"], actual(answer)
    assert labels.count("11/01/2026 1:00") == 2
    first = labels.index("11/01/2026 1:00")
    assert labels[first - 1 : first + 3] == [
        "11/01/2026 0:00",
        "11/01/2026 1:00",
        "11/01/2026 1:00",
        "11/01/2026 2:00",
    ]
    assert labels[11] == "11/01/2026 2:00" and data[11] is not None and data[12] is None


def test_spring_missing_hour(sim):
    control(sim.base_url, now="2026-03-08T18:30:00-00:00")  # 13:30 CDT
    labels = grid(sim.base_url, 1)["lineChartLabels"]
    assert "03/08/2026 2:00" not in labels
    i = labels.index("03/08/2026 1:00")
    assert labels[i + 1] == "03/08/2026 3:00"
    assert labels[11] == "03/08/2026 13:00"


def test_provisional_current_hour_and_revisions(sim):
    control(sim.base_url, now="2026-05-05T10:05:00Z")
    early = {a: actual(grid(sim.base_url, a)) for a in (1, 12, 20)}
    control(sim.base_url, now="2026-05-05T10:45:30Z")
    late = {a: actual(grid(sim.base_url, a)) for a in (1, 12, 20)}
    for area in early:
        assert early[area][:11] == late[area][:11]  # completed hours never change
        assert early[area][11] < late[area][11]  # the newest hour grows with the minutes
    control(sim.base_url, now="2026-05-05T11:01:00Z")
    settled = actual(grid(sim.base_url, 1))
    assert settled[:10] == late[1][1:11]
    assert settled[10] >= late[1][11]  # the hour became final

    control(sim.base_url, revise=25)
    revised = {a: actual(grid(sim.base_url, a)) for a in (1, 18, 20)}
    assert revised[1][:11] == [v + 25 for v in settled[:11]]
    assert revised[1][11] == settled[11]  # the provisional hour is not revised
    control(sim.base_url, revise=0)
    plain = {a: actual(grid(sim.base_url, a)) for a in (18, 20)}
    assert revised[18][0] == plain[18][0] + 9 * 25
    assert revised[20][0] == plain[20][0] + 17 * 25


# Determinism


def _all_bodies(base_url: str) -> dict[str, bytes]:
    paths = ["/area"]
    paths += [f"/areagrid/{a}" for a in range(1, 21)]
    paths += [f"/arealoadtable/{a}" for a in range(1, 21)]
    return {path: get(base_url, path).content for path in paths}


def test_same_seed_same_bytes_other_seed_differs(sim):
    now = "2026-08-20T21:17:00Z"
    control(sim.base_url, now=now)
    with (
        start_simulator("--seed", "1", "--now", now, "--quiet") as same,
        start_simulator("--seed", "2", "--now", now, "--quiet") as other,
    ):
        ours, twin, different = (_all_bodies(s.base_url) for s in (sim, same, other))
    assert ours == twin
    assert different["/area"] == ours["/area"]
    for area in (1, 12, 20):
        assert different[f"/areagrid/{area}"] != ours[f"/areagrid/{area}"]
    for area in (1, 12):
        path = f"/arealoadtable/{area}"
        assert different[path] != ours[path]
        names = [r["name"] for r in json.loads(different[path])["areaLoadData"]]
        assert names == [r["name"] for r in json.loads(ours[path])["areaLoadData"]]


# Faults


FAULT_AREAS = [7, 12]


def _check_fault(base_url: str, mode: str, normal: dict[str, requests.Response]) -> None:
    for area in FAULT_AREAS:
        for endpoint in ("areagrid", "arealoadtable"):
            response = get(base_url, f"/{endpoint}/{area}")
            _check_fault_response(mode, endpoint, response, normal[f"/{endpoint}/{area}"])
    # Other areas and the area list are untouched.
    for path in ("/area", "/areagrid/3", "/arealoadtable/3", "/areagrid/20"):
        response = get(base_url, path)
        assert response.status_code == 200 and response.content == normal[path].content


def _check_fault_response(mode, endpoint, response, normal) -> None:
    content_type = response.headers["Content-Type"]
    if mode in ("http500", "http404"):
        assert response.status_code == int(mode[4:])
        return
    assert response.status_code == 200
    if mode == "html":
        assert content_type.startswith("text/html")
        assert response.text.lstrip().startswith("<!DOCTYPE html>")
        return
    assert content_type.startswith("application/json")
    if mode == "truncated":
        with pytest.raises(ValueError):
            json.loads(response.content)
        assert normal.content.startswith(response.content)
        assert len(response.content) == len(normal.content) // 2
        return
    body, expected = response.json(), normal.json()
    assert body["Id"] == expected["Id"]
    rows = body.get("areaLoadData")
    if mode == "nulls":
        if endpoint == "areagrid":
            assert body["lineChartLabels"] is None
        else:
            nulled = [r for r in rows if r["kw"] is None]
            assert nulled and all(r["kvar"] is None and r["pf"] is None for r in nulled)
            assert len(nulled) < len(rows)
    elif mode == "wrong-shape":
        if endpoint == "areagrid":
            assert isinstance(body["chartLineData"], str)
        else:
            assert isinstance(rows, dict)
    elif mode == "unknown-fields":
        assert body.pop("region") == "x" and body.pop("updatedBy") == 3
        for row in rows if endpoint == "arealoadtable" else body["chartLineData"]:
            assert row.pop("region") == "x" and row.pop("updatedBy") == 3
        assert body == expected
    elif mode == "unknown-series":
        if endpoint == "areagrid":
            labels = [s["label"] for s in body["chartLineData"]]
            assert labels == ["Forecast", "Actual", "Day Ahead"]
            assert actual(body) == actual(expected)
            assert all(len(s["data"]) == 24 for s in body["chartLineData"])
        else:
            assert body == expected


def _normal_responses(base_url: str) -> dict[str, requests.Response]:
    paths = ["/area", "/areagrid/3", "/arealoadtable/3", "/areagrid/20"]
    paths += [f"/{e}/{a}" for e in ("areagrid", "arealoadtable") for a in FAULT_AREAS]
    return {path: get(base_url, path) for path in paths}


@pytest.mark.parametrize(
    "mode",
    [
        "http500",
        "http404",
        "html",
        "truncated",
        "nulls",
        "wrong-shape",
        "unknown-fields",
        "unknown-series",
    ],
)
def test_fault_modes_via_control(sim, mode):
    normal = _normal_responses(sim.base_url)
    settings = control(sim.base_url, fault=mode, fault_areas=FAULT_AREAS)
    assert settings["fault"] == mode and settings["fault_areas"] == FAULT_AREAS
    _check_fault(sim.base_url, mode, normal)


def test_fault_from_command_line_defaults_to_all_areas():
    with start_simulator("--now", PINNED, "--quiet", "--fault", "http500") as sim:
        assert all(get(sim.base_url, f"/areagrid/{a}").status_code == 500 for a in (1, 7, 20))
        assert get(sim.base_url, "/arealoadtable/18").status_code == 500
        assert get(sim.base_url, "/area").status_code == 200
        control(sim.base_url, fault=None)
        assert get(sim.base_url, "/areagrid/7").status_code == 200


def test_fault_areas_from_command_line():
    args = ("--now", PINNED, "--quiet", "--fault", "wrong-shape", "--fault-areas", "7,12")
    with start_simulator(*args) as sim:
        assert control(sim.base_url)["fault_areas"] == FAULT_AREAS
        assert isinstance(grid(sim.base_url, 7)["chartLineData"], str)
        assert isinstance(get(sim.base_url, "/arealoadtable/12").json()["areaLoadData"], dict)
        assert isinstance(grid(sim.base_url, 8)["chartLineData"], list)


def test_timeout_fault_and_prompt_shutdown():
    with start_simulator("--quiet", "--fault", "timeout", "--fault-areas", "7") as sim:
        with pytest.raises(requests.Timeout):
            get(sim.base_url, "/areagrid/7", timeout=1)
        with pytest.raises(requests.Timeout):
            get(sim.base_url, "/arealoadtable/7", timeout=1)
        assert get(sim.base_url, "/areagrid/8", timeout=2).status_code == 200
        started = time.monotonic()
        assert sim.stop(timeout=5) == 0
        assert time.monotonic() - started < 3


# Fixtures, latency, errors, Date header


def test_fixtures_served_byte_for_byte(tmp_path):
    served = ("area.json", "areagrid-1.json", "arealoadtable-1.json", "arealoadtable-7.json")
    for name in served:
        shutil.copyfile(FIXTURES / name, tmp_path / name)
    with start_simulator("--fixtures", str(tmp_path), "--quiet") as sim:
        for name in served:
            path = "/" + name.removesuffix(".json").replace("-", "/")
            response = get(sim.base_url, path)
            assert response.status_code == 200
            assert response.content == (FIXTURES / name).read_bytes()
        for path in ("/areagrid/7", "/areagrid/2", "/arealoadtable/2", "/arealoadtable/20"):
            assert get(sim.base_url, path).status_code == 404


def test_latency_error_rate_and_date_skew_from_command_line():
    args = ("--quiet", "--latency-ms", "600", "--error-rate", "1.0", "--date-skew-seconds", "3600")
    with start_simulator(*args) as sim:
        started = time.monotonic()
        response = get(sim.base_url, "/area")  # the area list is exempt from --error-rate
        assert time.monotonic() - started >= 0.6
        assert response.status_code == 200
        for area in (1, 18):
            assert get(sim.base_url, f"/areagrid/{area}").status_code == 500
            assert get(sim.base_url, f"/arealoadtable/{area}").status_code == 500
        skew = parsedate_to_datetime(response.headers["Date"]) - datetime.now(UTC)
        assert abs(skew.total_seconds() - 3600) < 5
        started = time.monotonic()
        control(sim.base_url, latency_ms=0, error_rate=0.0)
        assert time.monotonic() - started < 0.5  # the control endpoint is never delayed
        assert get(sim.base_url, "/areagrid/1").status_code == 200


def test_date_header_is_real_time_not_the_pinned_clock(sim):
    response = get(sim.base_url, "/areagrid/1")
    date = parsedate_to_datetime(response.headers["Date"])
    assert abs((date - datetime.now(UTC)).total_seconds()) < 5
    control(sim.base_url, date_skew_seconds=-600)
    date = parsedate_to_datetime(get(sim.base_url, "/area").headers["Date"])
    assert abs((date - datetime.now(UTC)).total_seconds() + 600) < 5


def test_error_rate_is_partial_and_seeded(sim):
    control(sim.base_url, error_rate=0.5)
    codes = [get(sim.base_url, "/areagrid/1").status_code for _ in range(60)]
    assert set(codes) == {200, 500}


def test_control_reports_and_validates(sim):
    settings = requests.get(sim.base_url.removesuffix("/api") + "/_sim/control", timeout=5)
    assert settings.json() == {**DEFAULTS, "latency_ms": 0, "date_skew_seconds": 0}
    for bad in (
        {"fault": "explode"},
        {"now": "2026-01-04T09:05:00"},  # no offset
        {"fault_areas": [0]},
        {"error_rate": 2},
        {"latency_ms": -1},
        {"revise": 1.5},
        {"peak_factor": 0},
        {"peak_at": "tomorrow"},
        {"colour": "red"},
    ):
        with pytest.raises(ValueError):
            control(sim.base_url, **bad)
    assert control(sim.base_url)["now"] == PINNED


def test_staged_peak_raises_hourly_values_and_substations_alike(sim):
    def kamo_and_substations() -> tuple[float, float]:
        grid = get(sim.base_url, "/areagrid/20").json()
        actual = grid["chartLineData"][0]["data"]
        kw = sum(row["kw"] for row in get(sim.base_url, "/arealoadtable/3").json()["areaLoadData"])
        return actual[10], kw  # the last complete hour (17:00Z); the snapshot now (18:09Z)

    control(sim.base_url, now="2026-11-26T18:10:00Z", peak_at=None, peak_factor=1.0)
    plain = kamo_and_substations()
    try:
        # Peak hour 17:00Z: hour 17 is at the full factor, the snapshot at 18:10 ramps down.
        control(sim.base_url, peak_at="2026-11-26T17:00:00Z", peak_factor=1.3)
        staged = kamo_and_substations()
    finally:
        control(sim.base_url, peak_at=None, peak_factor=1.0)
    assert staged[0] / plain[0] == pytest.approx(1.3, rel=0.001)
    assert staged[1] / plain[1] == pytest.approx(1 + 0.3 * (1 - 39 * 60 / (3 * 3600)), rel=0.01)


# Model unit tests


def test_power_factor_matches_every_real_reading():
    for area in range(1, 10):
        for row in fixture(f"arealoadtable-{area}.json")["areaLoadData"]:
            assert model.power_factor(row["kw"], row["kvar"]) == row["pf"]


def test_central_labels_across_dst():
    def label(iso: str) -> str:
        return model.central_label(int(model.parse_instant(iso).timestamp()) // 3600)

    assert label("2026-11-01T06:00:00Z") == label("2026-11-01T07:00:00Z") == "11/01/2026 1:00"
    assert label("2026-03-08T07:00:00Z") == "03/08/2026 1:00"
    assert label("2026-03-08T08:00:00Z") == "03/08/2026 3:00"
    assert label("2026-01-04T09:00:00Z") == "01/04/2026 3:00"


def test_parse_instant_needs_an_offset():
    expected = datetime(2026, 1, 4, 9, 5, tzinfo=UTC)
    assert model.parse_instant("2026-01-04T03:05:00-06:00") == expected
    with pytest.raises(ValueError):
        model.parse_instant("2026-01-04T03:05:00")


def test_model_scale_follows_the_fixtures():
    kamo = model.KamoModel()
    now = model.parse_instant(PINNED)
    for area in range(1, 10):
        real = [v for v in actual(fixture(f"areagrid-{area}.json")) if v is not None]
        ours = [v for v in actual(kamo.areagrid(1, area, now)) if v is not None]
        assert abs(sum(ours[:11]) / sum(real[:11]) - 1) < 0.12


def test_completed_hours_do_not_depend_on_the_clock():
    kamo = model.KamoModel()
    hour = int(model.parse_instant("2026-05-05T10:00:00Z").timestamp()) // 3600
    values = {
        kamo.member_kw(3, 14, hour, model.parse_instant(now))
        for now in ("2026-05-05T11:00:00Z", "2026-05-05T11:59:59Z", "2026-05-05T21:30:00Z")
    }
    assert len(values) == 1
    assert kamo.member_kw(3, 14, hour + 1, model.parse_instant("2026-05-05T10:59:00Z")) is None


def test_substation_names_do_not_depend_on_the_seed():
    kamo = model.KamoModel()
    now = model.parse_instant(PINNED)
    for area in MEMBERS:
        names = [r["name"] for r in kamo.readings(1, area, now)]
        assert names == [r["name"] for r in kamo.readings(99, area, now)]
