"""The table browser: every table listed with honest row counts, whitelisted sorting,
keyset pages that walk a table exactly once in both directions, CSV of the shown rows."""

from __future__ import annotations

import csv
import io
import re
import sqlite3
from pathlib import Path

import pytest
from dash_support import make_app, read_db, text_of
from flask.testing import FlaskClient


def _rows(html: str) -> list[list[str]]:
    body = html.split('<table class="data">', 1)[1].split("</tbody>", 1)[0]
    body = body.split("<tbody>", 1)[1]
    return [
        [text_of(cell).strip() for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        for row in re.findall(r"<tr>(.*?)</tr>", body, re.S)
    ]


def _num(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def _link(html: str, rel: str) -> str | None:
    found = re.search(rf'href="([^"]+)" rel="{rel}"', html)
    return found.group(1).replace("&amp;", "&") if found else None


def _walk(client: FlaskClient, url: str, rel: str = "next") -> tuple[list[list[str]], str]:
    """Follow `rel` links from `url`; (every row seen, the last page's html)."""
    seen, html = [], ""
    while url:
        response = client.get(url)
        assert response.status_code == 200, response.get_data(as_text=True)[:500]
        html = response.get_data(as_text=True)
        seen += _rows(html)
        url = _link(html, rel)
    return seen, html


def test_overview_lists_every_table_with_counts(
    history_client: FlaskClient, history_dir: Path
) -> None:
    text = text_of(history_client.get("/tables").get_data(as_text=True))
    with read_db(history_dir) as db:
        names = [n for (n,) in db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
        )]  # fmt: skip
        kept = dict(db.execute('SELECT "table", rows FROM row_count'))
        runs = db.execute("SELECT count(*) FROM import_run").fetchone()[0]
    for name in names:
        assert name in text
    assert f"hourly_load {kept['hourly_load']:,} kept" in text
    assert f"substation_reading {kept['substation_reading']:,} kept" in text
    assert f"import_run {runs:,} " in text and "area 20 " in text
    # columns, then the key, then the only column it sorts on
    assert "quality, quality_now ts, substation_id ts " in text


def test_big_tables_sort_only_on_keys_and_indexes(history_client: FlaskClient) -> None:
    import api.dashboard.tables as tables
    from api.dbconn import get_db

    app = history_client.application
    with app.test_request_context("/tables"):
        found = tables.catalogue(get_db())
    assert found["substation_reading"].sorts == {"ts": ("ts", "substation_id")}
    assert found["hourly_load"].sorts == {"area_id": ("area_id", "ts")}
    assert found["substation_hourly"].sorts == {"area_id": ("area_id", "ts", "substation_id")}
    assert found["import_run"].sorts == {
        "id": ("id",),
        "status": ("status", "id"),
        "started_at": ("started_at", "id"),
    }
    assert set(found["area"].sorts) == {"id", "name", "abbreviation", "is_aggregate"}
    assert found["area"].sorts["name"] == ("name", "id")


def test_keyset_pages_walk_a_table_once_both_ways(
    history_client: FlaskClient, history_dir: Path
) -> None:
    with read_db(history_dir) as db:
        expected = [str(n) for (n,) in db.execute("SELECT name FROM substation ORDER BY name, id")]
    forward, last = _walk(history_client, "/tables?table=substation&sort=name&size=40")
    assert [r[2] for r in forward] == expected
    assert len(expected) > 200
    backward, _ = _walk(history_client, _link(last, "prev"), "prev")
    pages = [r[2] for r in backward]
    # previous pages come newest page first; each page's rows are in order
    last_page = len(expected) % 40 or 40
    assert sorted(pages) == sorted(expected[:-last_page])


def test_readings_pages_in_key_order_with_dates(
    generated_client: FlaskClient, generated_dir: Path
) -> None:
    with read_db(generated_dir) as db:
        newest = db.execute(
            "SELECT ts, substation_id, kw FROM substation_reading "
            "ORDER BY ts DESC, substation_id DESC LIMIT 250"
        ).fetchall()
    html = generated_client.get("/tables?table=substation_reading&size=100").get_data(as_text=True)
    rows = _rows(html)
    assert len(rows) == 100
    from datetime import datetime
    from zoneinfo import ZoneInfo

    for row, (ts, sid, kw) in zip(rows, newest, strict=False):
        local = datetime.fromtimestamp(ts, ZoneInfo("America/Chicago"))
        assert row[0] == local.strftime("%Y-%m-%d %H:%M %Z")
        assert row[1] == str(sid) and row[2] == _num(kw)
    html = generated_client.get(_link(html, "next")).get_data(as_text=True)
    assert [r[1] for r in _rows(html)] == [str(sid) for _, sid, _ in newest[100:200]]


def test_csv_is_the_shown_page(generated_client: FlaskClient, generated_dir: Path) -> None:
    html = generated_client.get("/tables?table=hourly_load&size=25").get_data(as_text=True)
    link = re.search(r'href="([^"]+)" download', html).group(1).replace("&amp;", "&")
    assert link.startswith("/tables/csv?")
    body = generated_client.get(link).get_data(as_text=True)
    rows = list(csv.reader(io.StringIO(body)))
    assert rows[0] == ["area_id", "ts", "load_kw", "first_seen", "last_changed", "revisions"]
    with read_db(generated_dir) as db:
        top = db.execute(
            "SELECT area_id, load_kw FROM hourly_load ORDER BY area_id DESC, ts DESC LIMIT 25"
        ).fetchall()
    assert [(int(r[0]), float(r[2])) for r in rows[1:]] == top
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:00:00-0[56]:00", rows[1][1])
    assert not rows[1][2].startswith("'")  # numbers stay numbers
    # the next page's CSV is the next page
    nxt = _link(html, "next")
    body = generated_client.get(nxt.replace("/tables?", "/tables/csv?")).get_data(as_text=True)
    assert len(list(csv.reader(io.StringIO(body)))) == 26


def test_counts_of_big_tables_are_kept_or_estimated(
    generated_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import api.dashboard.tables as tables

    monkeypatch.setattr(tables, "COUNT_CAP", 500)
    text = text_of(make_app(generated_dir).test_client().get("/tables").get_data(as_text=True))
    with sqlite3.connect(generated_dir / "kamo.db") as db:
        readings = db.execute(
            "SELECT rows FROM row_count WHERE \"table\" = 'substation_reading'"
        ).fetchone()[0]
    assert f"substation_hourly ≈ {round(readings * 5 / 60):,} estimate" in text
    assert f"substation_reading {readings:,} kept" in text
    assert "import_run 864 " in text  # exact, from the small-table counts


@pytest.mark.parametrize(
    ("range_key", "bucket"), [("24h", 0), ("48h", 0), ("7d", 3600), ("30d", 3600), ("1y", 21600)]
)
def test_substation_chart_points(
    generated_client: FlaskClient, generated_dir: Path, range_key: str, bucket: int
) -> None:
    """Raw readings for a day or two, hourly (then 6-hourly, local) buckets beyond."""
    html = generated_client.get(f"/inspector?substation=7&range={range_key}").get_data(as_text=True)
    svg = re.search(r'data-points="(\d+)" data-start="(\d+)" data-end="(\d+)"', html)
    points, start, end = (int(g) for g in svg.groups())
    line = re.search(r'<path class="line s1"[^>]*d="([^"]*)"', html).group(1)
    assert len(re.findall(r"[ML]", line)) == points
    with read_db(generated_dir) as db:
        stamps = [ts for (ts,) in db.execute(
            "SELECT ts FROM substation_reading WHERE substation_id = 7 AND ts >= ? AND ts < ?",
            (start, end),
        )]  # fmt: skip
        low, high = db.execute(
            "SELECT min(kw), max(kw) FROM substation_reading WHERE substation_id = 7 "
            "AND ts >= ? AND ts < ?",
            (start, end),
        ).fetchone()
    if bucket == 0:
        assert points == len(stamps)
    elif bucket == 3600:
        assert points == len({ts // 3600 for ts in stamps})
    else:
        assert 0 < points <= len({ts // 3600 for ts in stamps}) // 6 + 2
    text = text_of(html)
    label = {"24h": "24 h", "48h": "48 h", "7d": "7 days", "30d": "30 days", "1y": "1 year"}
    assert f"Minimum, {label[range_key]} {_num(low)} kW" in text
    assert f"Maximum, {label[range_key]} {_num(high)} kW" in text
    if bucket:
        assert 'class="band s1"' in html  # the kW min-max band of each bucket
