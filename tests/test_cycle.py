"""Cycle in-process against the simulator: what happens when the database write fails."""

from __future__ import annotations

import pytest

from collector.client import KamoClient
from collector.cycle import Cycle
from shared.models import HourlyLoad, ImportRun

from sim_process import control


def test_a_failed_write_rolls_back_and_closes_the_run(simulator, writer_db):
    control(simulator.base_url, now="2026-11-26T16:07:00Z", fault=None, fault_areas=None)
    # A real SQLite failure in the middle of the data transaction.
    writer_db.execute_sql(
        "CREATE TRIGGER full_disk BEFORE INSERT ON substation_reading "
        "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END"
    )
    cycle = Cycle(writer_db, KamoClient(simulator.base_url), interval_minutes=5)
    with pytest.raises(Exception, match="disk is full"):
        cycle.run("manual")
    run = ImportRun.get()
    assert run.status == "failed" and "disk is full" in run.message
    assert run.finished_at is not None
    assert HourlyLoad.select().count() == 0  # the whole cycle rolled back, loads included
