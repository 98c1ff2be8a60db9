"""The pages on PostgreSQL (DATABASE_URL=postgresql://...): a throwaway database filled by
the real collector from the simulator, then every page read through the same code.

Skips without PostgreSQL on 127.0.0.1:5432, unless REQUIRE_POSTGRES=1 (CI): then it fails.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from dash_support import API_KEY, check_ok, history_clocks, make_app, text_of
from flask.testing import FlaskClient

from pg_throwaway import postgres_or_skip, throwaway_database
from sim_process import control, start_simulator
from support import collector_env, run_collector

pytestmark = [pytest.mark.postgres, pytest.mark.slow]


@pytest.fixture(scope="module")
def pg_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    admin = postgres_or_skip()
    work = tmp_path_factory.mktemp("dash-pg")
    clocks = history_clocks(36)
    try:
        with throwaway_database(admin, prefix="kamo_dashtest") as url:
            with start_simulator("--quiet", "--now", clocks[0]) as sim:
                for index, clock in enumerate(clocks):
                    fault = {"fault": "http500", "fault_areas": [7]} if index == 1 else {}
                    control(sim.base_url, now=clock, **(fault or {"fault": None}))
                    env = collector_env(sim.base_url, work, DATABASE_URL=url)
                    env = {k: v for k, v in env.items() if not k.startswith("API_")}
                    check_ok(run_collector(env, "once"))
            yield url
    finally:
        admin.close()


@pytest.fixture(scope="module")
def pg_client(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> FlaskClient:
    data_dir = tmp_path_factory.mktemp("dash-pg-data")
    return make_app(data_dir, DATABASE_URL=pg_url).test_client()


def _scalar(pg_url: str, sql: str) -> object:
    import psycopg2

    with psycopg2.connect(pg_url) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()[0]


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/inspector",
        "/inspector?area=1&range=48h&sort=pf",
        "/inspector?area=19&range=30d",
        "/inspector?area=20&range=1y",
        "/inspector?substation=3&range=24h",
        "/inspector?substation=3&range=7d",
        "/inspector?substation=3&range=1y",
        "/tables",
        "/tables?table=substation_reading",
        "/tables?table=import_run&sort=status",
        "/tables?table=row_count&sort=table",
        "/imports?status=partial&trigger=manual",
        "/backups",
        "/settings",
    ],
)
def test_pages_render_on_postgres(pg_client: FlaskClient, url: str) -> None:
    response = pg_client.get(url)
    assert response.status_code == 200, text_of(response.get_data(as_text=True))[:600]


def test_numbers_on_postgres(pg_client: FlaskClient, pg_url: str) -> None:
    home = text_of(pg_client.get("/").get_data(as_text=True))
    readings = _scalar(pg_url, "SELECT rows FROM row_count WHERE \"table\" = 'substation_reading'")
    assert f"Substation readings {readings:,}" in home
    assert "SOEC: areagrid: HTTP 500" in home
    size = _scalar(pg_url, "SELECT pg_database_size(current_database())")
    assert re.search(r"Size on disk [\d.]+ [kMG]B", home) and size > 0
    html = pg_client.get("/inspector?area=20&range=48h").get_data(as_text=True)
    start, end = (int(v) for v in re.search(r'data-start="(\d+)" data-end="(\d+)"', html).groups())
    hours = _scalar(
        pg_url,
        f"SELECT count(*) FROM hourly_load WHERE area_id = 20 AND ts >= {start} AND ts < {end}",
    )
    assert f'data-points="{hours}"' in html and hours > 30


def test_keyset_pages_on_postgres(pg_client: FlaskClient, pg_url: str) -> None:
    total = _scalar(pg_url, "SELECT count(*) FROM substation")
    seen: list[str] = []
    url: str | None = "/tables?table=substation&sort=name&size=100"
    while url:
        html = pg_client.get(url).get_data(as_text=True)
        body = html.split('<table class="data">', 1)[1].split("</tbody>", 1)[0]
        seen += re.findall(r"<tr>\s*<td class=\"num\">(\d+)</td>", body)
        found = re.search(r'href="([^"]+)" rel="next"', html)
        url = found.group(1).replace("&amp;", "&") if found else None
    assert len(seen) == len(set(seen)) == total
    csv = pg_client.get("/tables/csv?table=hourly_load&size=3").get_data(as_text=True)
    assert len(csv.splitlines()) == 4


def test_postgres_database_size_comes_from_the_server(pg_url: str, tmp_path: Path) -> None:
    """PostgreSQL has no file to measure: the size is pg_database_size, per reading too."""
    client = make_app(tmp_path, DATABASE_URL=pg_url).test_client()
    text = text_of(client.get("/").get_data(as_text=True))
    assert re.search(r"Bytes per reading [\d,.]+", text), text


def test_backups_page_on_postgres_points_to_pg_dump(pg_client: FlaskClient) -> None:
    text = text_of(pg_client.get("/backups").get_data(as_text=True))
    assert "The database is PostgreSQL: back it up with pg_dump" in text
    assert "docs/postgresql.md" in text and "Back up now" not in text
    refused = pg_client.post("/api/backups/trigger", headers={"X-API-Key": API_KEY})
    assert refused.status_code == 409 and "pg_dump" in refused.get_json()["error"]
    assert pg_client.get("/api/backups").get_json()["supported"] is False
