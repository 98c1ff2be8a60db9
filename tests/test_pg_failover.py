"""Failover: two collector daemons on one PostgreSQL database, 1-minute slots, each in its
own DATA_DIR. kill -9 the active one during a scheduled cycle: the standby takes over within
the slot, polls that slot (the dead one never stored it), and the stored slots have no gap
and no duplicate."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from collector.runs import ORPHANED

from pg_cluster import PgCollector, collector_rows, query, runs, stored_slots
from sim_process import control
from support import run_collector, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SLOT = 60
REQUEST = "failover-req"


@pytest.fixture
def slow_sim(simulator):
    # 300 ms per answer: a cycle takes a few seconds, so "mid-cycle" is a real window.
    control(simulator.base_url, now=None, fault=None, fault_areas=None, revise=0, latency_ms=300)
    yield simulator
    control(simulator.base_url, latency_ms=0)


def _request(url: str) -> tuple | None:
    found = query(
        url, "SELECT status, claimed_by FROM import_request WHERE request_id = %s", (REQUEST,)
    )
    return found[0] if found else None


def _role(url: str, who: PgCollector) -> dict:
    return collector_rows(url).get(who.instance or "", {})


def test_standby_takes_over_after_kill_9_without_gap_or_duplicate(
    slow_sim, pg_database: str, tmp_path: Path
) -> None:
    first = PgCollector(slow_sim.base_url, tmp_path / "a", pg_database)
    second = None
    try:
        assert wait_for(lambda: _role(pg_database, first).get("role") == "active", 30), (
            first.output()
        )
        second = PgCollector(slow_sim.base_url, tmp_path / "b", pg_database)
        assert wait_for(lambda: _role(pg_database, second).get("role") == "standby", 30), (
            second.output()
        )
        check = run_collector(second.env, "healthcheck")
        assert check.returncode == 0 and "standby" in check.stdout, check.stdout
        refused = run_collector(second.env, "once")
        assert refused.returncode == 1 and "another collector" in refused.stderr, refused.stderr
        assert f"pid {first.proc.pid}" in refused.stderr

        # A manual request queued shortly before a slot: that slot's cycle takes it.
        assert wait_for(lambda: 3 < SLOT - time.time() % SLOT <= 10, SLOT + 5, step=0.2)
        query(
            pg_database,
            "INSERT INTO import_request (request_id, requested_at) VALUES (%s, %s) RETURNING 1",
            (REQUEST, time.time()),
        )

        # The active collector in that scheduled cycle, the request claimed by it.
        def scheduled_cycle_running() -> bool:
            beat = _role(pg_database, first)
            return beat.get("state") == "polling" and any(
                r["trigger"] == "scheduled"
                and r["status"] == "running"
                and REQUEST in (r["request_ids"] or "")
                for r in runs(pg_database)
            )

        assert wait_for(scheduled_cycle_running, SLOT + 30, step=0.05), first.output()
        killed_at = time.time()
        killed_slot = int(killed_at // SLOT * SLOT)
        first.kill9()

        assert wait_for(lambda: _role(pg_database, second).get("role") == "active", SLOT), (
            second.output()
        )
        took_over = time.time() - killed_at
        assert took_over < SLOT, took_over
        # The standby polls the dead one's slot, then the next slot on schedule.
        assert wait_for(
            lambda: any(
                r["trigger"] == "scheduled"
                and r["slot_ts"] > killed_slot
                and r["status"] != "running"
                for r in runs(pg_database)
            ),
            2 * SLOT + 30,
            step=0.5,
        ), second.output()
        check = run_collector(second.env, "healthcheck")
        assert check.returncode == 0 and "active" in check.stdout, check.stdout
        # The request the dead collector had claimed is answered by the new one.
        assert wait_for(lambda: _request(pg_database) == ("done", second.instance), 30)
    finally:
        if second is not None:
            second.stop()
        first.stop()

    all_runs = runs(pg_database)
    orphaned = [r for r in all_runs if r["message"] == ORPHANED]
    assert [r["slot_ts"] for r in orphaned] == [killed_slot], all_runs
    answered = [
        r["slot_ts"]
        for r in all_runs
        if r["status"] in ("success", "partial") and r["trigger"] != "manual"
    ]
    assert len(answered) == len(set(answered)), f"a slot polled twice: {all_runs}"
    assert answered == list(range(answered[0], answered[-1] + SLOT, SLOT)), all_runs
    assert killed_slot in answered
    answers = [r for r in all_runs if REQUEST in (r["request_ids"] or "")]
    assert [r["status"] for r in answers][-1] == "success" and len(answers) == 2, answers
    slots = stored_slots(pg_database)
    assert slots == list(range(slots[0], slots[-1] + SLOT, SLOT)) and slots == answered
    assert "took over" in second.output() or "holds the writer lock" in second.output()


def test_a_holder_whose_lock_session_ends_stops_and_does_not_repoll(
    simulator, pg_database: str, tmp_path: Path
) -> None:
    """The server ends the lock session (as after a lost network): the collector notices
    within seconds, stands by, takes the free lock again, and polls no slot twice."""
    control(simulator.base_url, now=None, fault=None, fault_areas=None, revise=0, latency_ms=0)
    # Clear of a slot boundary, so the current slot is the one polled at startup.
    assert wait_for(lambda: 5 < time.time() % SLOT < SLOT - 25, SLOT, step=0.2)
    only = PgCollector(simulator.base_url, tmp_path / "a", pg_database)
    try:
        assert wait_for(lambda: "import startup ok" in only.output(), 30), only.output()
        lock_pid = query(
            pg_database,
            "SELECT lock_pid FROM collector_state WHERE instance = %s",
            (only.instance,),
        )[0][0]
        query(pg_database, "SELECT pg_terminate_backend(%s)", (lock_pid,))
        assert wait_for(lambda: "lost the collector lock" in only.output(), 10), only.output()
        assert wait_for(lambda: "was polled before the takeover" in only.output(), 10), (
            only.output()
        )
        beat = _role(pg_database, only)
        assert beat["role"] == "active" and beat["lock_pid"] != lock_pid
    finally:
        only.stop()
    startups = [r for r in runs(pg_database) if r["trigger"] == "startup"]
    assert len(startups) == 1, runs(pg_database)
