"""Fixtures shared by the whole suite: temp databases, the simulator, collector runs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from shared.db import bind, open_writer
from shared.schema import migrate

from pg_throwaway import postgres_or_skip, throwaway_database
from sim_process import SimProcess, start_simulator


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kamo.db'}"


@pytest.fixture
def writer_db(db_url: str):
    """A migrated SQLite database bound to the models, as the collector opens it."""
    db = bind(open_writer(db_url))
    db.connect(reuse_if_open=True)
    migrate(db)
    yield db
    db.close()


@pytest.fixture(scope="module")
def simulator() -> Iterator[SimProcess]:
    """One simulator per test module; tests that change its settings reset them."""
    with start_simulator("--quiet") as sim:
        yield sim


@pytest.fixture
def pg_database() -> Iterator[str]:
    """The URL of a throwaway PostgreSQL database for one test (see pg_throwaway)."""
    admin = postgres_or_skip()
    try:
        with throwaway_database(admin) as url:
            yield url
    finally:
        admin.close()
