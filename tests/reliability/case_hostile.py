"""Hostile upstream: the simulator misbehaves for one area (tests/hostile_cases.py) while a
real collector cycle runs, round after round, mode after mode of one group.

A round passes when the faulted area failed with its expected reason and nothing of it was
stored, and every other area was stored. Other areas missing count as lost. The worst figure
is the collector's peak RSS (size faults) or the cycle's seconds (time faults).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from hostile_cases import EXPECTED_REASON, run_hostile_case

from .common import CaseResult
from sim_process import start_simulator

FAULT_AREA = 3
# Which figure is "worst" for each mode: memory for what could grow, time for what could hang.
RSS_MODES = {"huge-body", "huge-chunked", "huge-number", "huger-number", "deep-nesting"}


def hostile(modes: list[str], rounds: int) -> CaseResult:
    by_memory = any(mode in RSS_MODES for mode in modes)
    result = (
        CaseResult(unit="MB", worst_label="collector peak RSS")
        if by_memory
        else CaseResult(unit="s", worst_label="longest cycle")
    )
    with start_simulator("--quiet") as sim, tempfile.TemporaryDirectory() as tmp:
        for round_no in range(1, rounds + 1):
            for mode in modes:
                workdir = Path(tmp) / f"{mode}-{round_no}"
                figures = run_hostile_case(mode, workdir, fault_areas=(FAULT_AREA,), sim=sim)
                _judge(f"{mode} round {round_no}", mode, figures, result)
                result.note_worst(
                    round(figures["peak_rss_mb"] if by_memory else figures["cycle_seconds"], 2)
                )
    return result


def _judge(label: str, mode: str, figures: dict, result: CaseResult) -> None:
    result.tried += 1
    missing = figures["other_areas_expected"] - figures["other_areas_stored"]
    result.lost += missing
    reason = figures["faulted_errors"].get(FAULT_AREA) or ""
    problems = []
    if figures["exit_code"] != 0:
        problems.append(f"exit code {figures['exit_code']} ({figures['log_line'][:120]})")
    if EXPECTED_REASON[mode] not in reason:
        problems.append(f"area {FAULT_AREA} reason {reason!r}, expected {EXPECTED_REASON[mode]!r}")
    if figures["faulted_rows_stored"]:
        problems.append(f"{figures['faulted_rows_stored']} rows of the faulted area stored")
    if missing:
        problems.append(f"{missing} other areas not stored")
    if figures["cycle_seconds"] >= figures["deadline_seconds"]:
        problems.append(f"cycle took {figures['cycle_seconds']:.1f} s, past its deadline")
    if problems:
        result.fail(f"{label}: " + "; ".join(problems))
