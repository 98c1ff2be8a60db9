"""Forecast vintages: the collector in-process against the simulator, both clocks moved.

The simulator's data clock moves through its control endpoint and the collector's clock
with time-machine, so every poll has the slot a real poll at that time would have.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest
import requests
import time_machine

from collector.client import KamoClient
from collector.cycle import Cycle
from shared.models import Forecast, HourlyLoad, ImportRun
from shared.timeutil import resolve_kamo_labels, slot_start

from sim_process import control

Key = tuple[int, str, int]


@pytest.fixture
def sim(simulator):
    control(simulator.base_url, fault=None, fault_areas=None, forecast=True, revise=0)
    yield simulator
    control(simulator.base_url, now=None, fault=None, fault_areas=None)


def served_forecasts(base_url: str) -> dict[Key, float]:
    """What the simulator serves now: every non-Actual value by (area, label, UTC hour)."""
    found = {}
    for area in range(1, 21):
        grid = requests.get(f"{base_url}/areagrid/{area}", timeout=5).json()
        hours = resolve_kamo_labels(grid["lineChartLabels"])
        for line in grid["chartLineData"]:
            if line["label"].lower() == "actual":
                continue
            for value, hour in zip(line["data"], hours, strict=True):
                if value is not None and hour.ts is not None:
                    found[(area, line["label"], hour.ts)] = value
    return found


def poll(sim, db, when: datetime, expected: dict[Key, list]) -> Cycle:
    """One collector cycle at `when` (both clocks), and the vintages it should add."""
    control(sim.base_url, now=when.isoformat())
    slot = slot_start(when.timestamp(), 5)
    for key, value in served_forecasts(sim.base_url).items():
        vintages = expected.setdefault(key, [])
        if not vintages or vintages[-1][1] != value:
            vintages.append((slot, value))
    with time_machine.travel(when, tick=True):
        return Cycle(db, KamoClient(sim.base_url), interval_minutes=5).run("scheduled")


def stored() -> dict[Key, list]:
    rows: dict[Key, list] = {}
    query = Forecast.select().order_by(
        Forecast.area_id, Forecast.series, Forecast.target_ts, Forecast.issued_ts
    )
    for row in query:
        rows.setdefault((row.area_id, row.series, row.target_ts), []).append(
            (row.issued_ts, row.value_kw)
        )
    return rows


def assert_no_repeats(rows: dict[Key, list]) -> None:
    for key, vintages in rows.items():
        values = [v for _, v in vintages]
        assert all(a != b for a, b in pairwise(values)), (key, vintages)


def test_vintages_are_stored_once_across_polls(sim, writer_db):
    start = datetime(2026, 11, 26, 14, 2, tzinfo=UTC)
    expected: dict[Key, list] = {}
    results = []
    for minutes in (0, 20, 40, 60, 65, 120, 185):
        results.append(poll(sim, writer_db, start + timedelta(minutes=minutes), expected))
    # A second poll at the same time adds nothing.
    again = poll(sim, writer_db, start + timedelta(minutes=185), expected)
    assert again.counters.forecasts_stored == 0
    rows = stored()
    assert rows == expected
    assert_no_repeats(rows)
    # Every area has the forecast; within an hour nothing new, each new hour a new issue.
    assert {k[0] for k in rows} == set(range(1, 21)) and {k[1] for k in rows} == {"Forecast"}
    counts = [r.counters.forecasts_stored for r in results]
    assert counts[0] == 20 * 24 and counts[1] == counts[2] == 0
    assert counts[3] > 0 and counts[4] == 0
    run = ImportRun.get_by_id(results[3].run_id)
    assert run.forecasts_stored == counts[3] and run.status == "success"
    # Twelve hours ahead of the first poll, the issues seen so far differ by lead.
    target = int(start.timestamp()) // 3600 * 3600 + 3 * 3600
    issued = [ts for ts, _ in rows[(1, "Forecast", target)]]
    assert issued == sorted(set(issued)) and len(issued) >= 3


@pytest.mark.parametrize(
    "first, repeated",
    [
        # Autumn: 1:00 Central happens twice (06:00Z daylight, 07:00Z standard).
        (datetime(2026, 11, 1, 4, 10, tzinfo=UTC), (1793512800, 1793516400)),
        # Spring: 2:00 Central does not exist; 1:00 CST (07:00Z) then 3:00 CDT (08:00Z).
        (datetime(2026, 3, 8, 5, 10, tzinfo=UTC), (1772953200, 1772956800)),
    ],
    ids=["autumn", "spring"],
)
def test_dst_nights_keep_every_hour_once(sim, writer_db, first, repeated):
    expected: dict[Key, list] = {}
    for hours in range(5):  # hourly polls across the change
        poll(sim, writer_db, first + timedelta(hours=hours), expected)
    rows = stored()
    assert rows == expected
    assert_no_repeats(rows)
    targets = sorted({k[2] for k in rows if k[:2] == (7, "Forecast")})
    assert all(b - a == 3600 for a, b in pairwise(targets))  # no hour lost or doubled
    for ts in repeated:
        assert len(rows[(7, "Forecast", ts)]) >= 2  # forecast before, then revised nearer


def test_a_text_series_fails_only_itself(sim, writer_db):
    control(sim.base_url, fault="text-series", fault_areas=[5])
    result = poll(sim, writer_db, datetime(2026, 11, 26, 16, 7, tzinfo=UTC), {})
    assert result.status == "success" and result.areas_ok == 20
    notes = [w for w in result.warnings if "Peak Forecast" in w]
    assert len(notes) == 1 and notes[0].startswith("area 5: series 'Peak Forecast' left out")
    assert "expected a number" in notes[0]
    run = ImportRun.get_by_id(result.run_id)
    assert notes[0] in json.loads(run.warnings)
    series = {(r.area_id, r.series) for r in Forecast.select(Forecast.area_id, Forecast.series)}
    assert (5, "Forecast") in series and (5, "Peak Forecast") not in series
    assert HourlyLoad.select().where(HourlyLoad.area_id == 5).count() == 12


def test_a_changed_label_is_stored_under_the_new_label(sim, writer_db):
    control(sim.base_url, fault="forecast-relabel", fault_areas=[3])
    expected: dict[Key, list] = {}
    start = datetime(2026, 11, 26, 17, 7, tzinfo=UTC)  # 6-hour blocks change at 18:00Z
    for hours in (0, 1):
        poll(sim, writer_db, start + timedelta(hours=hours), expected)
    rows = stored()
    assert rows == expected
    labels = {k[1] for k in rows if k[0] == 3}
    assert len(labels) == 2 and "Forecast" not in labels  # both labels of the fault kept
    assert {k[1] for k in rows if k[0] == 4} == {"Forecast"}


# --- parsing, without a server -------------------------------------------------------------

LABELS = ["11/26/2026 10:00", "11/26/2026 11:00", "11/26/2026 12:00"]


def _parse(*lines: object):
    from collector.forecasts import parse_forecasts

    return parse_forecasts(list(lines), resolve_kamo_labels(LABELS), 9)


def test_every_bad_series_is_named_and_left_out_alone():
    found, warnings = _parse(
        {"label": "Actual", "data": [1.0, 2.0, None]},
        {"label": "Forecast", "data": [1.0, None, 3.5]},
        {"label": "Forecast", "data": [7.0, 7.0, 7.0]},
        {"label": "Short", "data": [1.0]},
        {"label": None, "data": [1.0, 2.0, 3.0]},
        {"label": "Flags", "data": [True, 2.0, 3.0]},
        {"label": "Text", "data": "1,2,3"},
    )
    assert list(found) == ["Forecast"]
    assert [(p.ts % 86400 // 3600, p.load_kw) for p in found["Forecast"]] == [(16, 1.0), (18, 3.5)]
    assert len(warnings) == 5 and all(w.startswith("area 9: series ") for w in warnings)
    assert "label repeated" in warnings[0] and "1 values for 3 labels" in warnings[1]
    assert "chartLineData[4]" in warnings[2] and "expected a number, got true" in warnings[3]
    assert "data is not a list" in warnings[4]
    found, warnings = _parse({"label": "Huge", "data": [1e12, 2.0, 3.0]})
    assert found == {} and "outside" in warnings[0]


def test_a_flood_of_series_is_capped_and_summarised():
    lines = [{"label": f"S{i}", "data": [1.0, 2.0, 3.0]} for i in range(20)]
    lines += [{"label": i, "data": []} for i in range(100)]
    found, warnings = _parse(*lines)
    assert len(found) == 16
    assert len(warnings) == 6 and warnings[-1] == "area 9: 99 more series left out"
