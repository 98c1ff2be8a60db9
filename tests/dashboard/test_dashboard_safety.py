"""Bad input answers a 400 page (never a 500), markup from KAMO stays text, nothing loads
from elsewhere, no inline script or style (the CSP forbids them), links follow a sub-path,
and no page counts the readings or pages with OFFSET."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from dash_support import XSS, make_app, text_of
from flask import Flask
from flask.testing import FlaskClient

PAGES = [
    "/",
    "/inspector",
    "/inspector?area=1&range=7d&sort=pf&dir=desc",
    "/inspector?area=18&range=30d",
    "/inspector?substation=1&range=1y",
    "/inspector?substation=1&range=7d",
    "/tables",
    "/tables?table=substation_reading",
    "/tables?table=hourly_load&dir=asc&size=10",
    "/tables?table=import_run&sort=started_at",
    "/tables?table=substation&sort=name",
    "/imports",
    "/imports?status=success&trigger=manual",
]

BAD = [
    ("/inspector?area=abc", "area"),
    ("/inspector?area=0", "area"),
    ("/inspector?area=21", "area"),
    ("/inspector?area=", "area"),
    ("/inspector?area=1&range=2d", "range"),
    ("/inspector?area=1&range=24H", "range"),
    ("/inspector?area=1&sort=evil", "sort"),
    ("/inspector?area=1&sort=kw&dir=up", "dir"),
    ("/inspector?substation=0", "substation"),
    ("/inspector?substation=999999", "substation"),
    ("/inspector?substation=1e3", "substation"),
    ("/tables?table=nope", "table"),
    ("/tables?table=sqlite_master", "table"),
    ("/tables?table=substation_reading&sort=kw", "sort"),
    ('/tables?table=area&sort=name";drop table area', "sort"),
    ("/tables?table=area&size=0", "size"),
    ("/tables?table=area&size=501", "size"),
    ("/tables?table=area&dir=sideways", "dir"),
    ("/tables?table=area&after=notjson", "after"),
    ("/tables?table=area&after=[1,2,3]", "after"),
    ('/tables?table=area&after=["x"]', "after"),
    ("/tables?table=area&after=[true]", "after"),
    ("/tables?table=area&after=[null]", "after"),
    ("/tables?table=area&after=[[1]]", "after"),
    ("/tables?table=area&before=" + "[" * 5000, "before"),
    ("/tables?table=area&after=[1]&before=[5]", "before"),
    ("/tables/csv", "table"),
    ("/imports?status=bogus", "status"),
    ("/imports?trigger=cron", "trigger"),
    ("/imports?before_id=-1", "before_id"),
    ("/imports?before_id=5&after_id=1", "after_id"),
]


@pytest.mark.parametrize(("url", "parameter"), BAD)
def test_bad_parameters_answer_a_400_page(
    history_client: FlaskClient, url: str, parameter: str
) -> None:
    response = history_client.get(url)
    assert response.status_code == 400, response.get_data(as_text=True)[:500]
    assert response.mimetype == "text/html"
    text = text_of(response.get_data(as_text=True))
    assert "Bad request" in text and f"The parameter at fault is {parameter}." in text


def test_odd_values_never_fail(history_client: FlaskClient) -> None:
    """Values a person or a crawler might send: each page answers 200 or 400, never 500."""
    odd = ["", " ", "-1", "1.5", "99999999999999999999", "%00", "💡", "<b>", "1;2", "[]", "{}"]
    names = ["area", "range", "sort", "dir", "substation", "table", "size", "after", "before",
             "status", "trigger", "before_id", "after_id"]  # fmt: skip
    for path in ("/", "/inspector", "/tables", "/tables?table=area", "/imports"):
        for name in names:
            for value in odd:
                joiner = "&" if "?" in path else "?"
                response = history_client.get(f"{path}{joiner}{name}={value}")
                assert response.status_code in (200, 400), (path, name, value)


def test_unknown_substation_is_a_400_page_not_a_500(history_client: FlaskClient) -> None:
    response = history_client.get("/inspector?substation=424242&range=1y")
    assert response.status_code == 400
    assert "there is no substation 424242" in response.get_data(as_text=True)


@pytest.fixture(scope="session")
def hostile_client(hostile_dir: Path) -> FlaskClient:
    return make_app(hostile_dir).test_client()


def test_markup_in_names_is_text(hostile_client: FlaskClient) -> None:
    pages = ["/", "/inspector?area=1", "/inspector?area=2", "/tables?table=substation",
             "/tables?table=area", "/inspector?substation=1"]  # fmt: skip
    seen_script = seen_img = False
    for url in pages:
        html = hostile_client.get(url).get_data(as_text=True)
        assert "<script>alert" not in html and "<img src=x" not in html, url
        seen_script |= "&lt;script&gt;alert(1)&lt;/script&gt;" in html
        seen_img |= "&lt;img src=x onerror=" in html
    assert seen_script and seen_img
    text = text_of(hostile_client.get("/inspector?area=1").get_data(as_text=True))
    assert XSS in text  # shown, as text
    csv = hostile_client.get("/tables/csv?table=substation&sort=name").get_data(as_text=True)
    assert XSS in csv


def test_csv_cells_that_look_like_formulas_are_neutralised(
    hostile_dir: Path, tmp_path: Path
) -> None:
    import shutil
    import sqlite3

    shutil.copy(hostile_dir / "kamo.db", tmp_path / "kamo.db")
    with sqlite3.connect(tmp_path / "kamo.db") as db:
        db.execute("UPDATE substation SET name = '=HYPERLINK(\"http://x\")' WHERE id = 2")
        db.execute("UPDATE substation SET name = '@SUM(A1)' WHERE id = 3")
    client = make_app(tmp_path).test_client()
    response = client.get("/tables/csv?table=substation&sort=id&dir=asc&size=5")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert 'filename="substation.csv"' in response.headers["Content-Disposition"]
    lines = response.get_data(as_text=True).splitlines()
    assert lines[0] == "id,area_id,name,first_seen,last_seen"
    assert len(lines) == 6
    assert lines[2].startswith('2,1,"\'=HYPERLINK(""http://x"")",')
    assert lines[3].startswith("3,1,'@SUM(A1),")
    first_seen = lines[1].split(",")[3]
    assert re.fullmatch(r"2026-\d\d-\d\dT\d\d:\d\d:\d\d-0[56]:00", first_seen)


@pytest.mark.parametrize("url", PAGES)
def test_pages_load_nothing_from_elsewhere_and_nothing_inline(
    history_client: FlaskClient, url: str
) -> None:
    response = history_client.get(url)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "unsafe-inline" not in csp
    html = response.get_data(as_text=True)
    assert not re.search(r"""(?:src|href|action|data-url)\s*=\s*["']?(?:https?:)?//""", html)
    assert not re.search(r"url\(|@import", html)
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html)  # no inline script
    assert not re.search(r"<style\b", html) and not re.search(r"\sstyle=", html)
    assert not re.search(r"\son[a-z]+=", html)  # no inline event handlers
    assert not re.search(r"javascript:", html, re.I)


def test_static_files_are_served(history_client: FlaskClient) -> None:
    for name, kind in (("dashboard.css", "text/css"), ("dashboard.js", "text/javascript"),
                       ("favicon.svg", "image/svg+xml")):  # fmt: skip
        response = history_client.get(f"/static/{name}")
        assert response.status_code == 200 and response.mimetype == kind
        response.close()


def test_links_follow_a_sub_path(history_client: FlaskClient) -> None:
    """Served below /kamo (SCRIPT_NAME, as gunicorn sets it), every link keeps the prefix."""
    for url in PAGES:
        html = history_client.get(url, base_url="http://localhost/kamo").get_data(as_text=True)
        targets = re.findall(r'(?:href|src|action|data-url|data-imports)="([^"#]*)"', html)
        assert targets
        assert all(t.startswith("/kamo/") for t in targets if t), (url, targets)


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """Every SQL statement the app runs while the block runs."""
    db = app.extensions["kamo_db"]
    seen: list[str] = []
    original = db.execute_sql

    def spy(sql, params=None, *args, **kwargs):
        seen.append(sql)
        return original(sql, params, *args, **kwargs)

    db.execute_sql = spy
    try:
        yield seen
    finally:
        del db.execute_sql


def test_no_count_over_readings_and_no_offset(history_dir: Path) -> None:
    app = make_app(history_dir)
    client = app.test_client()
    next_page = "/tables?table=substation_reading&size=5"
    with statements(app) as seen:
        for url in [*PAGES, next_page, "/tables/csv?table=substation_reading&size=5"]:
            assert client.get(url).status_code == 200
        html = client.get(next_page).get_data(as_text=True)
        older = re.search(r'href="([^"]+)" rel="next"', html).group(1).replace("&amp;", "&")
        assert client.get(older).status_code == 200
    assert seen
    for sql in seen:
        flat = " ".join(sql.split()).lower()
        assert " offset " not in flat, sql
        if "count(" in flat and re.search(r"from\s+\"?substation_reading\b", flat):
            # only counts over a bounded time range (the rollup's recent raw hours)
            assert "ts >=" in flat, sql
