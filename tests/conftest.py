"""Fixtures shared by the whole suite: temp databases, the simulator, collector runs.

`db_url` (and `writer_db`, built on it) runs each test on both backends: a SQLite file
and a throwaway PostgreSQL database. Tests about SQLite itself (WAL, file permissions,
the DATA_DIR lock, a full disk, `mode=ro`) take `sqlite_db_url` instead and say why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from shared.backend import KINDS
from shared.db import bind, open_writer
from shared.schema import migrate

from pg_throwaway import postgres_or_skip, throwaway_database
from sim_process import SimProcess, start_simulator


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Any]:
    """One admin connection per session; it creates and drops the throwaway databases."""
    admin = postgres_or_skip()
    yield admin
    admin.close()


@pytest.fixture
def sqlite_db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'kamo.db'}"


@pytest.fixture(params=KINDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database on each backend in turn (test IDs end in [sqlite]/[postgresql])."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kamo.db'}"
        return
    # Its own admin connection: a session fixture first asked for here would be torn down
    # with this test.
    admin = postgres_or_skip()
    try:
        with throwaway_database(admin) as url:
            yield url
    finally:
        admin.close()


@pytest.fixture
def writer_db(db_url: str):
    """A migrated database bound to the models, as the collector opens it."""
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
def pg_database(pg_admin: Any) -> Iterator[str]:
    """The URL of a throwaway PostgreSQL database for one test (see pg_throwaway)."""
    with throwaway_database(pg_admin) as url:
        yield url
