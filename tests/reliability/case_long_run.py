"""Long run: many simulated days at 5-minute slots, both clocks moved fast together.

The collector child runs the daemon's `run_cycle` slot after slot on a real SQLite file;
before each cycle it moves its own clock and the simulator's data clock to the slot. The
span starts before the autumn DST night of 2026, so the repeated hour is inside it.
Afterwards every slot must hold every substation's reading and every hour every area's load.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from .common import CaseResult, child_env, query, run_child
from sim_process import start_simulator

FIRST_SLOT = 1793102400  # 2026-10-27T12:00Z, five days before the autumn change
SLOT = 300
SLOTS_PER_DAY = 288
AREAS = 20
KAMO_WINDOW_HOURS = 12
RSS_GROWTH_LIMIT_KB = 5 * 1024


def long_run(days: float) -> CaseResult:
    slots = int(days * SLOTS_PER_DAY)
    # RSS is compared from the end of the first day (or of the first third of a short run).
    baseline_at = min(SLOTS_PER_DAY, max(1, slots // 3))
    result = CaseResult(tried=slots, unit="s", worst_label="longest cycle")
    with start_simulator("--quiet") as sim, tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        env = child_env(sim.base_url, data, POLL_INTERVAL_MINUTES="5")
        done = run_child(
            env,
            "cycles",
            "--first-slot",
            str(FIRST_SLOT),
            "--slots",
            str(slots),
            "--sim-clock",
            "--rss-every",
            str(baseline_at),
            timeout=slots * 2 + 120,
        )
        lines = [json.loads(x) for x in done.stdout.splitlines() if x.startswith("{")]
        if done.returncode != 0 or not lines or not lines[-1].get("final"):
            result.fail(f"collector child exited {done.returncode}: {done.stderr[-2000:]}")
            return result
        final, baseline = lines[-1], lines[0]
        result.note_worst(final["longest_cycle_s"])
        growth = final["rss_kb"] - baseline["rss_kb"]
        result.figures.update(
            wall_s=final["wall_s"],
            slots=final["slots"],
            rss_start_kb=baseline["rss_kb"],
            rss_start_at_slot=baseline["slots"],
            rss_end_kb=final["rss_kb"],
            rss_growth_kb=growth,
            rss_kb_samples=[line["rss_kb"] for line in lines],  # every baseline_at slots
        )
        if growth >= RSS_GROWTH_LIMIT_KB:
            result.fail(
                f"RSS grew {growth} kB from slot {baseline['slots']} to {final['slots']} "
                f"(limit {RSS_GROWTH_LIMIT_KB} kB)"
            )
        _check_runs(data / "kamo.db", slots, result)
        _check_gaps(data / "kamo.db", slots, result)
    return result


def _check_runs(db: Path, slots: int, result: CaseResult) -> None:
    statuses = dict(query(db, "select status, count(*) from import_run group by status"))
    if statuses != {"success": slots}:
        result.fail(f"import runs by status {statuses}, expected {slots} successes")


def _check_gaps(db: Path, slots: int, result: CaseResult) -> None:
    per_slot = dict(query(db, "select ts, count(*) from substation_reading group by ts"))
    substations = query(db, "select count(*) from substation")[0][0]
    expected = [FIRST_SLOT + i * SLOT for i in range(slots)]
    short = [ts for ts in expected if per_slot.get(ts, 0) < substations]
    if short:
        result.lost += len(short)
        result.fail(f"{len(short)} slots lack readings, first at {short[:5]}")
    first_hour = FIRST_SLOT - FIRST_SLOT % 3600 - (KAMO_WINDOW_HOURS - 1) * 3600
    last_slot = expected[-1]
    last_hour = last_slot - last_slot % 3600
    per_hour = dict(query(db, "select ts, count(*) from hourly_load group by ts"))
    missing = [ts for ts in range(first_hour, last_hour + 1, 3600) if per_hour.get(ts, 0) != AREAS]
    if missing:
        result.lost += len(missing)
        result.fail(f"{len(missing)} hours lack a load for some area, first at {missing[:5]}")
    result.figures["hours_checked"] = (last_hour - first_hour) // 3600 + 1
