"""Fixtures for the API on PostgreSQL: both databases filled once per session.

Helpers live in pg_support.py (import from there, not from conftest).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import time_machine
from flask.testing import FlaskClient
from pg_support import API_NOW, RUNS, Filled, fill_both, make_app

from pg_throwaway import postgres_or_skip
from pg_throwaway import throwaway_database as _throwaway
from sim_process import start_simulator


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    admin = postgres_or_skip()
    yield admin
    admin.close()


@pytest.fixture(scope="session")
def filled(pg_admin: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Filled]:
    work = tmp_path_factory.mktemp("api_pg")
    sqlite_url = f"sqlite:///{work / 'kamo.db'}"
    with _throwaway(pg_admin, prefix="kamo_apitest", icu=True) as pg_url:
        with start_simulator("--quiet", "--now", RUNS[0][0]) as sim:
            fill_both(sim, sqlite_url, pg_url, work)
        api_dir = work / "api"
        api_dir.mkdir()
        yield Filled(sqlite_url, pg_url, api_dir)


@pytest.fixture(scope="session")
def sqlite_client(filled: Filled) -> FlaskClient:
    return make_app(filled.sqlite_url, filled.api_data_dir).test_client()


@pytest.fixture(scope="session")
def pg_client(filled: Filled) -> FlaskClient:
    return make_app(filled.pg_url, filled.api_data_dir).test_client()


@pytest.fixture
def api_now() -> Iterator[None]:
    """The API's clock at API_NOW, so windows relative to now cover the stored data."""
    with time_machine.travel(API_NOW, tick=False):
        yield


@pytest.fixture
def empty_pg(pg_admin: Any) -> Iterator[str]:
    """A database with no schema at all."""
    with _throwaway(pg_admin, prefix="kamo_apitest", icu=True) as url:
        yield url
