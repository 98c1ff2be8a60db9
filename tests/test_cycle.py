"""Cycle in-process against the simulator: failed writes, bad areas, deadlines, Retry-After."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
import time_machine

import collector.cycle as cycle_module
from collector.client import KamoClient
from collector.cycle import Cycle
from shared.backend import refuse_inserts
from shared.models import HourlyLoad, ImportRun, Substation, SubstationReading

from sim_process import control


def test_a_failed_write_rolls_back_and_closes_the_run(simulator, writer_db):
    control(simulator.base_url, now="2026-11-26T16:07:00Z", fault=None, fault_areas=None)
    # A real database failure in the middle of the data transaction.
    refuse_inserts(writer_db, "substation_reading", "database or disk is full")
    cycle = Cycle(writer_db, KamoClient(simulator.base_url), interval_minutes=5)
    with pytest.raises(Exception, match="disk is full"):
        cycle.run("manual")
    run = ImportRun.get()
    assert run.status == "failed" and "disk is full" in run.message
    assert run.finished_at is not None
    assert HourlyLoad.select().count() == 0  # the whole cycle rolled back, loads included


# --- one bad area never fails the cycle ---------------------------------------------------

PINNED = "2026-11-26T16:07:00Z"


@pytest.fixture
def sim(simulator):
    control(simulator.base_url, now=PINNED, fault=None, fault_areas=None, trickle_ms=1000)
    yield simulator
    control(simulator.base_url, fault=None, fault_areas=None)


def stored_area_ids() -> set[int]:
    return {row.area_id for row in HourlyLoad.select(HourlyLoad.area_id).distinct()}


def readings_of(area_id: int) -> int:
    return (
        SubstationReading.select()
        .join(Substation, on=SubstationReading.substation_id == Substation.id)
        .where(Substation.area_id == area_id)
        .count()
    )


@pytest.mark.parametrize(
    "mode, needle",
    [
        ("huge-number", "number of 400 digits"),
        ("huger-number", "number of 5000 digits"),
        ("deep-nesting", "nested too deeply"),
        ("nan", "NaN is not a number"),
        ("infinity", "Infinity is not a number"),
        ("out-of-range", "outside -"),
    ],
)
def test_an_impossible_value_fails_its_area_only(sim, writer_db, mode, needle):
    control(sim.base_url, fault=mode, fault_areas=[3])
    result = Cycle(writer_db, KamoClient(sim.base_url), interval_minutes=5).run("manual")
    assert result.status == "partial" and result.areas_ok == 19
    assert set(result.area_errors) == {"3"} and needle in result.area_errors["3"]
    assert stored_area_ids() == set(range(1, 21)) - {3}
    assert readings_of(3) == 0 and readings_of(4) > 0


def test_any_exception_while_parsing_fails_that_area_only(sim, writer_db, monkeypatch):
    real = cycle_module.parse_loadtable

    def broken_for_area_5(payload, area_id):
        if area_id == 5:
            raise KeyError("surprise")
        return real(payload, area_id)

    monkeypatch.setattr(cycle_module, "parse_loadtable", broken_for_area_5)
    result = Cycle(writer_db, KamoClient(sim.base_url), interval_minutes=5).run("manual")
    assert result.status == "partial" and result.areas_ok == 19
    assert result.area_errors == {"5": "arealoadtable: unexpected KeyError: 'surprise'"}


def test_a_broken_area_list_falls_back_to_known_areas(sim, writer_db, monkeypatch):
    Cycle(writer_db, KamoClient(sim.base_url), interval_minutes=5).run("manual")

    def broken(payload):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr(cycle_module, "parse_area_list", broken)
    result = Cycle(writer_db, KamoClient(sim.base_url), interval_minutes=5).run("manual")
    assert result.status == "success" and result.areas_ok == 20
    assert any("area list: unexpected RecursionError" in w for w in result.warnings)


# --- the cycle deadline and Retry-After ---------------------------------------------------


def test_the_cycle_stops_at_its_deadline_and_names_the_slow_area(sim, writer_db):
    control(sim.base_url, fault="trickle", fault_areas=[7], trickle_ms=500)
    client = KamoClient(sim.base_url, timeout=30)  # the per-request deadline is no help here
    cycle = Cycle(writer_db, client, interval_minutes=5, deadline_seconds=2)
    started = time.monotonic()
    result = cycle.run("manual")
    assert time.monotonic() - started < 10  # 2 s plus the write, on a busy machine
    assert result.status == "partial" and result.areas_ok == 19
    assert result.area_errors == {"7": "areagrid: cycle deadline (2 s) exceeded"}
    run = ImportRun.get_by_id(result.run_id)
    assert run.status == "partial" and "cycle deadline" in run.area_errors
    assert 7 not in stored_area_ids() and readings_of(7) == 0


def test_cycle_deadline_defaults_to_the_configured_one(writer_db):
    assert Cycle(writer_db, KamoClient("http://127.0.0.1:9/api"), 1).deadline_seconds == 30
    assert Cycle(writer_db, KamoClient("http://127.0.0.1:9/api"), 60).deadline_seconds == 240


def test_retry_after_defers_an_area_to_later_cycles_until_the_next_slot(sim, writer_db):
    control(sim.base_url, fault="http429", fault_areas=[4], retry_after_seconds=120)
    client = KamoClient(sim.base_url)
    start = datetime(2026, 11, 26, 16, 6, 0, tzinfo=UTC)  # next slot 16:10, Retry-After 16:08
    with time_machine.travel(start, tick=True) as traveller:
        first = Cycle(writer_db, client, interval_minutes=5).run("manual")
        assert first.area_errors == {
            "4": "areagrid: deferred until 10:08 (HTTP 429 Retry-After 120 s)"
        }
        control(sim.base_url, fault=None, fault_areas=None)  # KAMO would answer again now
        second = Cycle(writer_db, client, interval_minutes=5).run("manual")
        assert second.area_errors == first.area_errors  # skipped: no request was made
        traveller.move_to(start + timedelta(seconds=180))  # past 16:08, before 16:10
        third = Cycle(writer_db, client, interval_minutes=5).run("manual")
        assert third.status == "success" and 4 in stored_area_ids()
        # A long Retry-After never costs the next slot's poll.
        control(sim.base_url, fault="http429", fault_areas=[4], retry_after_seconds=3600)
        fourth = Cycle(writer_db, client, interval_minutes=5).run("manual")
        assert "deferred until 10:10 (HTTP 429 Retry-After 3600 s)" in fourth.area_errors["4"]
        traveller.move_to(start + timedelta(seconds=240))
        control(sim.base_url, fault=None, fault_areas=None)
        assert Cycle(writer_db, client, interval_minutes=5).run("manual").status == "success"
