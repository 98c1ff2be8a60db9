"""The reliability cases in their short form (the long form is `make reliability`)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from .cases import CASES, PLACEHOLDERS, Case, run_case

# A case that shows a defect stays asserted; strict xfail makes the fix remove the mark.
KNOWN_DEFECTS: dict[str, str] = {}  # case name -> the defect, while it is open


def _params():
    for name, case in CASES.items():
        if not case.wired or case.short_covered_by:
            continue  # a placeholder, or a short form that is another test of the suite
        marks = [pytest.mark.reliability]
        if case.slow:
            marks.append(pytest.mark.slow)
        if name in KNOWN_DEFECTS:
            marks.append(pytest.mark.xfail(strict=True, reason=KNOWN_DEFECTS[name]))
        yield pytest.param(name, id=name.replace(" ", "-"), marks=marks)


@pytest.mark.parametrize("name", list(_params()))
def test_case_short_form(name):
    result = run_case(CASES[name], "short")
    if result.status.startswith("skipped"):
        if os.environ.get("CI"):  # CI runs as root on a full machine: nothing may skip there
            pytest.fail(f"{name}: {result.status}")
        pytest.skip(result.status)
    assert result.status == "ran"
    assert result.tried > 0
    summary = f"{name}: {result.failures} failures, {result.lost} lost; figures {result.figures}"
    assert (result.failures, result.lost) == (0, 0), "\n".join([summary, *result.details[:20]])


def test_short_forms_covered_elsewhere_name_a_test_of_the_suite():
    """A case left out above must really be run by the test it names."""
    root = Path(__file__).resolve().parents[2]
    covered = {name: case.short_covered_by for name, case in CASES.items() if case.short_covered_by}
    assert covered
    for name, where in covered.items():
        test_file = root / where.split()[0]
        assert test_file.is_file(), f"{name}: {where} does not exist"


def test_cases_from_other_branches_never_show_as_passing():
    for name in PLACEHOLDERS:
        result = run_case(CASES[name], "long")
        assert result.status == "not wired yet" and result.tried == 0


def test_a_placeholder_is_never_run_or_passed(monkeypatch):
    """The mechanism holds for any future placeholder, even while the list is empty."""
    monkeypatch.setitem(CASES, "future case", Case("future case", None, wired=False))
    assert "future-case" not in [p.id for p in _params()]
    for size in ("short", "long"):
        result = run_case(CASES["future case"], size)
        assert result.status == "not wired yet" and result.tried == 0
