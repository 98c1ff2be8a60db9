"""A generated month of readings goes SQLite -> PostgreSQL with `collector migrate --to`;
then every GET endpoint of the OpenAPI document, and the dashboard pages, answer the same
on both databases (the comparison of test_api_pg_same_answers, on migrated data)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import time_machine
from flask.testing import FlaskClient
from migrate_support import checksum_rows, generate, migrate
from pg_support import API_KEY, make_app
from test_api_pg_same_answers import _answer, _difference

from pg_throwaway import throwaway_database

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

API_NOW = "2026-11-26T00:07:00Z"  # just after the generated month ends
WINDOW = "start=2026-10-31&end=2026-11-02"  # local dates around the autumn 25-hour day
AREAS = ("1", "5", "20")


class Migrated:
    def __init__(self, sqlite: FlaskClient, pg: FlaskClient, output: str) -> None:
        self.sqlite, self.pg, self.output = sqlite, pg, output


@pytest.fixture(scope="module")
def migrated(pg_admin: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Migrated]:
    work = tmp_path_factory.mktemp("migrate_month")
    db = generate(work / "month.db", days=30, substations=136)
    with throwaway_database(pg_admin, prefix="kamo_migrate", icu=True) as url:
        done = migrate(db, url)
        assert done.returncode == 0, done.stdout + done.stderr
        api_dir = work / "api"
        api_dir.mkdir()
        yield Migrated(
            make_app(f"sqlite:///{db}", api_dir).test_client(),
            make_app(url, api_dir).test_client(),
            done.stdout,
        )


@pytest.fixture(autouse=True)
def api_now() -> Iterator[None]:
    with time_machine.travel(API_NOW, tick=False):
        yield


def test_the_migration_printed_matching_counts_and_checksums(migrated: Migrated) -> None:
    rows = checksum_rows(migrated.output)
    assert {"substation_reading", "hourly_load", "import_run", "substation"} <= set(rows)
    for table, (_, src_rows, pg_rows, src_sum, pg_sum, verdict) in rows.items():
        assert (src_rows, src_sum, verdict) == (pg_rows, pg_sum, "ok"), table
    assert rows["substation_reading"][1] == f"{30 * 288 * 136:,}"


def _urls_for(path: str, op: dict, substation: str) -> list[str]:
    """Sensible requests for one documented path: each area, each enum value, windows."""
    names = {p["name"]: p for p in op.get("parameters", []) if p["in"] == "query"}
    areas = AREAS if "{area_id}" in path else ("",)
    if path.startswith("/api/export/"):
        areas = ("all", "5")
    urls = []
    for area in areas:
        base = path.replace("{area_id}", area)
        queries = [""]
        if path.startswith("/api/export/"):  # a whole month of all areas takes minutes
            queries = ["days=1"]
        for name, param in names.items():
            for value in param.get("schema", {}).get("enum", []):
                if name == "format":
                    queries.append(f"format={value}&{WINDOW}")
                elif name != "status" or value != "running":
                    queries.append(f"{name}={value}")
        if "start" in names and not path.startswith("/api/export/"):
            queries.append(WINDOW)
        if "hours" in names:
            queries += ["hours=6", "hours=720"]
        if "substation" in names:
            queries.append(f"substation={quote(substation)}&{WINDOW}")
        if "limit" in names:
            queries.append("limit=5")
        if "days" in names:
            queries.append("days=3")
        urls += [f"{base}?{q}" if q else base for q in queries]
    return urls


def _same(a: Any, b: Any, key: str = "") -> bool:
    """Equal, except pf_avg may differ by one in its 4th decimal: it averages a sum of
    floats that each backend adds in its own order, and a last-bit difference can round
    either way (reported as a gap in the API's averaging; the stored rows are identical,
    as the checksums show)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(_same(a[k], b[k], k) for k in a)
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(_same(x, y, key) for x, y in zip(a, b, strict=True))
    if key == "pf_avg" and isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1.5e-4
    return a == b


def _compare(urls: list[str], sqlite: FlaskClient, pg: FlaskClient) -> None:
    differences = []
    for url in urls:
        expected = _answer(sqlite, url)
        assert expected[0] in (200, 400, 404), (url, expected)
        got = _answer(pg, url)
        if url == "/api/backups":
            # Backups are files of the SQLite database; on PostgreSQL they are pg_dump's job.
            assert got[0] == 200 and got[3]["supported"] is False, (url, got)
            continue
        if not _same(got, expected):
            differences.append(f"{url}\n    {_difference(expected, got)}")
    assert not differences, f"{len(differences)} of {len(urls)} differ:\n" + "\n".join(differences)


def test_every_documented_get_answers_the_same(migrated: Migrated) -> None:
    doc = migrated.sqlite.get("/api/openapi.json").json
    subs = migrated.sqlite.get("/api/substations/list/5").json["substations"]
    urls = []
    for path, ops in doc["paths"].items():
        if "get" in ops and path != "/api/openapi.json":
            found = _urls_for(path, ops["get"], subs[0]["name"])
            assert found, path
            urls += found
    assert len(urls) > 100
    ok = {u.split("?")[0] for u in urls if _answer(migrated.sqlite, u)[0] == 200}
    assert len(ok) >= len(doc["paths"]) - 1  # every path answers 200 to some request
    _compare(urls, migrated.sqlite, migrated.pg)


DASHBOARD = [
    "/",
    "/imports",
    "/inspector",
    "/inspector?area=5&range=7d",
    "/inspector?area=20&range=30d",
    "/inspector?substation=3&range=24h",
    "/tables",
    "/tables?table=substation_reading&size=50",
    "/tables?table=import_run",
    "/tables?table=hourly_load&sort=area_id&dir=asc",
    "/tables/csv?table=substation",
]


def _cells(html: str, tag: str) -> list[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", html, flags=re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", c)).strip() for c in found]


def _page(text: str) -> tuple[str, list[dict[str, str]]]:
    """A page without what differs by backend on purpose: the database's size on disk (and
    bytes per reading, from it); the column types in the table browser's tooltips (INTEGER
    on SQLite, bigint on PostgreSQL); and the order of columns, which the browser shows as
    stored (PostgreSQL keeps the readings' columns in alignment order, schema version 11).
    The browser's grid is returned as rows of {column: cell} instead."""
    text = re.sub(r'((Size on disk|Bytes per reading)</th><td class="num"[^>]*>)[^<]*', r"\1", text)
    text = re.sub(r'(<th scope="col"[^>]*) title="[^"]*"', r"\1", text)
    text = re.sub(  # the overview's column lists
        r"<td>([a-z_]+(?:, [a-z_]+)+)</td>",
        lambda m: "<td>" + ", ".join(sorted(m.group(1).split(", "))) + "</td>",
        text,
    )
    grid = re.search(r'<table class="data">.*?</table>', text, flags=re.S)
    if grid is None:
        return text, []
    head = re.search(r"<thead>.*?</thead>", grid.group(0), flags=re.S)
    names = _cells(head.group(0), "th") if head else []
    rows = [
        dict(zip(names, _cells(row, "td"), strict=True))
        for row in re.findall(r"<tr>(.*?)</tr>", grid.group(0).split("</thead>")[-1], re.S)
    ]
    return text.replace(grid.group(0), "<grid>"), rows


def test_dashboard_pages_are_the_same(migrated: Migrated) -> None:
    differences = []
    for url in DASHBOARD:
        expected = migrated.sqlite.get(url, headers={"X-API-Key": API_KEY})
        a = _page(expected.get_data(as_text=True))  # drained before the next request (streams)
        assert expected.status_code == 200, (url, a[:300])
        got = migrated.pg.get(url, headers={"X-API-Key": API_KEY})
        b = _page(got.get_data(as_text=True))
        assert a[1] or "/tables?table=" not in url, url  # the grid was found and parsed
        if (got.status_code, b) != (200, a):
            differences.append(f"{url}\n    {_difference(list(a), list(b))}")
    assert not differences, "\n".join(differences)


def test_month_database_exists(tmp_path: Path) -> None:
    """The generator's arguments the fixture relies on still exist."""
    small = generate(tmp_path / "day.db", days=1, substations=136)
    assert small.stat().st_size > 0
