"""Fixtures for the dashboard tests: databases in every state the pages must handle.

Filled by the real collector (`python -m collector once`) from the simulator or from the
captured fixtures, once per session; tests only read them. Helpers live in dash_support.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from dash_support import (
    fill_from_fixtures,
    fill_from_simulator,
    generate,
    history_clocks,
    hostile_fixtures,
    make_app,
    migrate_empty,
)
from flask.testing import FlaskClient

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
HISTORY_HOURS = 4 * 24  # the simulator's clock moved back four days, step by step
PARTIAL_RUN = 4  # this cycle of the history finds area 7 (SOEC) failing with HTTP 500


@pytest.fixture(scope="session")
def history_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Simulated data: hourly load for the last four days up to now, one slot of substation
    readings (the collector's own clock), ten import runs. One run is partial (area 7
    answers HTTP 500), which leaves area 7 a gap of about eleven hours."""
    data_dir = tmp_path_factory.mktemp("dash-history")
    fault = {"fault": "http500", "fault_areas": [7]}
    fill_from_simulator(data_dir, history_clocks(HISTORY_HOURS), {PARTIAL_RUN: fault})
    return data_dir


@pytest.fixture(scope="session")
def real_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """KAMO's captured answers of 2026-01-04 (areas 1-9; 10-20 fail with 404)."""
    data_dir = tmp_path_factory.mktemp("dash-real")
    fill_from_fixtures(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def hostile_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The captured answers with markup in a substation name and an area name."""
    root = tmp_path_factory.mktemp("dash-hostile")
    data_dir = root / "data"
    fill_from_fixtures(data_dir, hostile_fixtures(root / "fixtures"))
    return data_dir


@pytest.fixture(scope="session")
def generated_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three days of 5-minute readings up to now (scripts/gen_bench_db.py), rollup built."""
    data_dir = tmp_path_factory.mktemp("dash-generated")
    generate(data_dir)
    return data_dir


@pytest.fixture(scope="session")
def generated_client(generated_dir: Path) -> FlaskClient:
    return make_app(generated_dir).test_client()


@pytest.fixture(scope="session")
def empty_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Created and migrated by the collector, never filled."""
    data_dir = tmp_path_factory.mktemp("dash-empty")
    migrate_empty(data_dir)
    return data_dir


@pytest.fixture
def nodb_dir(tmp_path: Path) -> Path:
    """No database file at all (the collector has not started yet)."""
    return tmp_path


@pytest.fixture(scope="session")
def history_client(history_dir: Path) -> FlaskClient:
    return make_app(history_dir).test_client()


@pytest.fixture(scope="session")
def real_client(real_dir: Path) -> FlaskClient:
    return make_app(real_dir).test_client()


@pytest.fixture(scope="session")
def empty_client(empty_dir: Path) -> FlaskClient:
    return make_app(empty_dir).test_client()


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Debian's chromium, headless, through Python playwright (skips without it, but fails
    under REQUIRE_BROWSER=1, as in CI)."""
    if not CHROMIUM.exists():
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"REQUIRE_BROWSER=1 but {CHROMIUM} is missing (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield launched
        launched.close()
