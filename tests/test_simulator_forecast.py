"""The simulator's forecast series: realistic error by lead time, deterministic, and its faults."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from sim_process import control

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def _load(name: str):
    sys.path.insert(0, str(SCRIPTS))
    spec = importlib.util.spec_from_file_location(f"{name}_under_test", SCRIPTS / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


forecast = _load("kamo_sim_forecast")
model = forecast.KamoModel()
START = 1_790_000_000 // 3600  # an hour index in 2026


def mape(area: int, lead: int, hours: int = 400) -> float:
    errors = []
    for target in range(START, START + hours):
        final = sum(model.final_kw(1, m, target) for m in forecast.AGGREGATES.get(area, (area,)))
        predicted = forecast.forecast_kw(model, 1, area, target, lead)
        errors.append(abs(predicted - final) / final)
    return 100 * sum(errors) / len(errors)


@pytest.mark.parametrize("area", [1, 12, 20])
def test_error_grows_with_lead_time_to_realistic_sizes(area):
    by_lead = [mape(area, lead) for lead in range(1, 13)]
    assert 1.0 < by_lead[0] < 3.5  # a few percent an hour ahead
    assert 4.5 < by_lead[-1] < 8.0  # about 5-8 % twelve hours ahead
    assert by_lead[-1] > by_lead[5] > by_lead[0]


def test_forecast_is_deterministic_and_converges_on_the_target():
    target = START + 30
    assert forecast.forecast_kw(model, 1, 4, target, 6) == forecast.forecast_kw(
        model, 1, 4, target, 6
    )
    assert forecast.forecast_kw(model, 2, 4, target, 6) != forecast.forecast_kw(
        model, 1, 4, target, 6
    )
    # Issued later, the forecast keeps the near terms: the lead-0 error is the base term only.
    spread = [forecast.relative_error(1, 4, t, 0) for t in range(START, START + 300)]
    assert max(abs(e) for e in spread) < 0.1


@pytest.fixture
def sim(simulator):
    control(simulator.base_url, now="2026-11-26T16:07:00Z", fault=None, fault_areas=None)
    yield simulator
    control(simulator.base_url, now=None, fault=None, fault_areas=None, forecast=True)


def series(base_url: str, area: int) -> dict[str, list]:
    grid = requests.get(f"{base_url}/areagrid/{area}", timeout=5).json()
    return {line["label"]: line["data"] for line in grid["chartLineData"]}


def test_forecast_covers_the_window_and_matches_the_model(sim):
    got = series(sim.base_url, 20)
    assert list(got) == ["Actual", "Forecast"]
    assert all(isinstance(v, float) for v in got["Forecast"]) and len(got["Forecast"]) == 24
    now = datetime(2026, 11, 26, 16, 7, tzinfo=UTC)
    assert got["Forecast"] == forecast.forecast_series(model, 1, 20, now)["data"]
    control(sim.base_url, forecast=False)
    assert list(series(sim.base_url, 20)) == ["Actual"]


def test_relabel_fault_changes_the_label_every_six_hours(sim):
    control(sim.base_url, fault="forecast-relabel", fault_areas=[3])
    before = list(series(sim.base_url, 3))
    control(sim.base_url, now="2026-11-26T18:07:00Z")
    after = list(series(sim.base_url, 3))
    assert before[0] == after[0] == "Actual" and before[1] != after[1]
    assert "Forecast" not in before + after
    assert list(series(sim.base_url, 4)) == ["Actual", "Forecast"]


def test_text_series_fault_adds_a_series_of_text(sim):
    control(sim.base_url, fault="text-series", fault_areas=[3])
    got = series(sim.base_url, 3)
    assert list(got) == ["Actual", "Forecast", "Peak Forecast"]
    assert all(isinstance(v, str) and v.endswith(" kW") for v in got["Peak Forecast"])
