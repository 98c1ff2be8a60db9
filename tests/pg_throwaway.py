"""Throwaway PostgreSQL databases for tests, on the server at 127.0.0.1:5432.

Tests skip when no server answers, unless REQUIRE_POSTGRES=1 (CI), where they fail.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

PG_ADMIN = dict(host="127.0.0.1", port=5432, user="postgres", dbname="test", connect_timeout=3)
PG_SERVER = "postgresql://postgres@127.0.0.1:5432"


def postgres_or_skip() -> Any:
    """An autocommit admin connection to the server's `test` database."""
    psycopg2 = pytest.importorskip("psycopg2")
    try:
        admin = psycopg2.connect(**PG_ADMIN)
    except psycopg2.OperationalError as exc:
        if os.environ.get("REQUIRE_POSTGRES") == "1":
            pytest.fail(f"REQUIRE_POSTGRES=1 but PostgreSQL is not reachable: {exc}")
        pytest.skip(f"no PostgreSQL on 127.0.0.1:5432: {exc}")
    admin.autocommit = True
    return admin


@contextmanager
def throwaway_database(admin: Any, prefix: str = "kamo_test", icu: bool = False) -> Iterator[str]:
    """A new, empty database; yields its URL and drops it afterwards.

    icu=True sorts text by en-US rules where the server has ICU (most installations' default
    locale behaves so): a C-collated database would hide an ORDER BY on names that differs
    from SQLite's bytewise order.
    """
    name = f"{prefix}_{secrets.token_hex(4)}"
    with admin.cursor() as cur:
        created = False
        if icu:
            try:
                cur.execute(
                    f"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' "
                    "LOCALE 'C.UTF-8' LOCALE_PROVIDER icu ICU_LOCALE 'en-US'"
                )
                created = True
            except Exception:  # a server without ICU: its default collation will do
                pass
        if not created:
            cur.execute(f"CREATE DATABASE {name}")
    try:
        yield f"{PG_SERVER}/{name}"
    finally:
        with admin.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
