"""A hostile KAMO (simulator fault modes on one area) against a real collector cycle: the
other areas are stored, the faulted one fails with a clear reason and nothing of it is kept,
memory stays flat and the cycle ends within its deadline. See tests/hostile_cases.py."""

from __future__ import annotations

import pytest
from hostile_cases import EXPECTED_REASON, HOSTILE_MODES, run_hostile_case

RSS_MARGIN_MB = 40  # over a no-fault cycle; a 200 MB answer once cost ~550 MB


@pytest.fixture(scope="module")
def baseline(simulator, tmp_path_factory) -> dict:
    figures = run_hostile_case(None, tmp_path_factory.mktemp("baseline"), sim=simulator)
    assert figures["status"] == "success" and figures["other_areas_stored"] == 20, figures
    return figures


@pytest.mark.parametrize("mode", HOSTILE_MODES)
def test_hostile_mode_fails_one_area_only(mode, simulator, baseline, tmp_path):
    figures = run_hostile_case(mode, tmp_path, sim=simulator)
    assert figures["exit_code"] == 0, figures["log_line"]  # partial is a successful exit
    assert figures["status"] == "partial", figures
    assert figures["other_areas_stored"] == figures["other_areas_expected"] == 19
    reason = figures["faulted_errors"][3]
    assert reason and EXPECTED_REASON[mode] in reason, reason
    assert reason.startswith(("areagrid: ", "arealoadtable: "))
    assert figures["faulted_rows_stored"] == 0
    assert figures["cycle_seconds"] < figures["deadline_seconds"]
    assert figures["peak_rss_mb"] < baseline["peak_rss_mb"] + RSS_MARGIN_MB, figures
