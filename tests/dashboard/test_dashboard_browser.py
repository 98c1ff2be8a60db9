"""The pages in a real browser: Debian's chromium, headless, driven by Python playwright,
against gunicorn started with the container's command.

Each test watches every request (none may leave 127.0.0.1) and the console (no errors,
which includes anything the Content-Security-Policy blocks). Screenshots land in the
test's temporary directory (the README's come from scripts/screenshots.py).

Without /usr/bin/chromium these tests skip, unless REQUIRE_BROWSER=1 (CI): then they fail.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from dash_support import API_KEY, Gunicorn, beat, read_db

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """DATA_DIR of the served app (heartbeat, triggers), apart from the shared database."""
    return tmp_path_factory.mktemp("dash-browser-data")


@pytest.fixture(scope="module")
def server(history_dir: Path, data_dir: Path) -> Iterator[Gunicorn]:
    app = Gunicorn(history_dir, data_dir, data_dir / "gunicorn.log")
    try:
        app.wait()
        yield app
    finally:
        app.stop()


class Watched:
    """A page plus everything it requested and every console error it logged."""

    def __init__(self, page, base: str) -> None:
        self.page = page
        self.base = base
        self.requests: list[str] = []
        self.errors: list[str] = []
        page.on("request", lambda request: self.requests.append(request.url))
        page.on(
            "console",
            lambda message: self.errors.append(message.text) if message.type == "error" else None,
        )
        page.on("pageerror", lambda error: self.errors.append(str(error)))

    def open(self, path: str) -> None:
        response = self.page.goto(self.base + path)
        assert response is not None and response.status == 200, path

    def check(self) -> None:
        outside = [u for u in self.requests if not u.startswith("http://127.0.0.1:")]
        assert not outside, outside
        assert not self.errors, self.errors


@pytest.fixture
def watched(browser, server: Gunicorn) -> Iterator[Watched]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = Watched(context.new_page(), server.base)
    yield page
    page.check()
    context.close()


def shot(page, tmp_path: Path, name: str) -> None:
    target = tmp_path / name
    page.screenshot(path=str(target), full_page=True)
    assert target.stat().st_size > 10_000


def chart_points(page) -> tuple[int, int, int]:
    """(points drawn by the first line, data-start, data-end) of the page's chart."""
    svg = page.locator("svg.chart").first
    d = svg.locator("path.line.s1").get_attribute("d") or ""
    start, end = int(svg.get_attribute("data-start")), int(svg.get_attribute("data-end"))
    return len(re.findall(r"[ML]", d)), start, end


def hours_stored(db_dir: Path, area: int, start: int, end: int) -> int:
    with read_db(db_dir) as db:
        return db.execute(
            "SELECT count(*) FROM hourly_load WHERE area_id = ? AND ts >= ? AND ts < ?",
            (area, start, end),
        ).fetchone()[0]


def test_dashboard_and_trigger(watched: Watched, data_dir: Path, tmp_path: Path) -> None:
    beat(data_dir)
    page = watched.page
    watched.open("/")
    assert page.locator("#collector .badge").inner_text() == "running"
    assert page.locator("#runs tbody tr").count() == 10
    shot(page, tmp_path, "dashboard.png")

    form = page.locator("#trigger-form")
    assert form.is_visible()  # the script revealed it
    page.fill("#api-key", "wrong-key")
    page.click("#trigger-form button")
    result = page.locator("#trigger-result")
    result.filter(has_text="Refused (401)").wait_for()
    # the browser logs a failed fetch as a console error: expected here, not a fault
    watched.errors = [e for e in watched.errors if "401" not in e]
    page.fill("#api-key", API_KEY)
    page.click("#trigger-form button")
    result.filter(has_text="Queued as request").wait_for()
    request_id = re.search(r"request (\S+)\.", result.inner_text()).group(1)
    assert (data_dir / "triggers" / f"{request_id}.json").is_file()
    assert page.input_value("#api-key") == ""  # the key is not left in the field
    # a second trigger reuses the key kept in page memory
    page.click("#trigger-form button")
    page.locator("#trigger-result", has_text="Queued as request").wait_for()
    assert len(list((data_dir / "triggers").glob("*.json"))) == 2


def test_inspector_chart_ranges_area_and_sorting(
    watched: Watched, history_dir: Path, tmp_path: Path
) -> None:
    page = watched.page
    watched.open("/inspector?area=20&range=24h")
    drawn, start, end = chart_points(page)
    assert drawn == hours_stored(history_dir, 20, start, end) and drawn >= 23
    assert end - start == 24 * 3600

    page.click("nav.ranges a[data-range='7d']")
    page.wait_for_url(re.compile(r"range=7d"))
    drawn, start, end = chart_points(page)
    assert end - start == 7 * 24 * 3600
    assert drawn == hours_stored(history_dir, 20, start, end) > 90

    page.select_option("#area", "1")  # the script submits the picker on change
    page.wait_for_url(re.compile(r"area=1\b"))
    assert "range=7d" in page.url
    assert page.locator("h1").inner_text().startswith("Ozark Electric Cooperative")
    drawn, start, end = chart_points(page)
    assert drawn == hours_stored(history_dir, 1, start, end)

    hover = page.locator("svg.chart rect.hit").first
    assert re.match(r"\d{4}-\d\d-\d\d \d\d:00 C[SD]T\nLoad: [\d,.]+ MW", hover.text_content() or "")

    page.click("#substations th a[data-sort='kw']")
    page.wait_for_url(re.compile(r"sort=kw"))
    kw = [float(v) for v in page.locator("#substations tbody td:nth-child(2)").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]  # fmt: skip
    assert len(kw) == 28 and kw == sorted(kw, reverse=True)
    page.click("#substations th a[data-sort='kw']")
    page.wait_for_url(re.compile(r"dir=asc"))
    kw = [float(v) for v in page.locator("#substations tbody td:nth-child(2)").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]  # fmt: skip
    assert kw == sorted(kw)
    page.goto(watched.base + "/inspector?area=1&range=7d")
    shot(page, tmp_path, "inspector.png")

    page.click("#substations tbody a >> nth=0")
    page.wait_for_url(re.compile(r"substation=\d+"))
    drawn, _, _ = chart_points(page)
    # The 7-day view is hourly. The fixture's readings share one hour, unless its runs
    # straddled one: then two adjacent hours draw a line rather than lone dots.
    sid = int(re.search(r"substation=(\d+)", page.url)[1])
    with read_db(history_dir) as db:
        hours = db.execute(
            "SELECT count(DISTINCT ts / 3600) FROM substation_reading WHERE substation_id = ?",
            (sid,),
        ).fetchone()[0]
    assert drawn == hours
    assert page.locator("svg.chart circle.dot").count() == (2 if hours == 1 else 0)


def test_tables_and_imports(watched: Watched, tmp_path: Path) -> None:
    page = watched.page
    watched.open("/tables")
    page.click("a:text-is('substation')")
    page.wait_for_url(re.compile(r"table=substation$"))
    page.click("table.data th a[data-sort='name']")
    page.wait_for_url(re.compile(r"sort=name"))
    names = page.locator("table.data tbody td:nth-child(3)").all_inner_texts()
    assert len(names) == 50 and names == sorted(names)
    page.click("a[rel='next']")
    page.wait_for_url(re.compile(r"after="))
    more = page.locator("table.data tbody td:nth-child(3)").all_inner_texts()
    assert more[0] >= names[-1] and more == sorted(more)
    with page.expect_download() as download:
        page.click("a[download]")
    assert download.value.suggested_filename == "substation.csv"
    shot(page, tmp_path, "tables.png")

    watched.open("/imports")
    page.select_option("#status", "partial")
    page.wait_for_url(re.compile(r"status=partial"))
    assert page.locator("table.runs tbody tr").count() == 1
    assert "HTTP 500" in page.locator("table.runs tbody").inner_text()
    shot(page, tmp_path, "imports.png")


def test_pages_work_without_javascript(browser, server: Gunicorn) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = Watched(context.new_page(), server.base)
    page.open("/")
    assert not page.page.locator("#trigger-form").is_visible()
    assert "needs JavaScript" in page.page.locator("#trigger").inner_text()
    page.open("/inspector?area=20")
    page.page.select_option("#area", "3")
    page.page.click(".picker button[type=submit]")
    page.page.wait_for_url(re.compile(r"area=3"))
    assert "Barry Electric" in page.page.locator("h1").inner_text()
    page.check()
    context.close()


def test_phone_and_print(browser, server: Gunicorn, tmp_path: Path) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = Watched(context.new_page(), server.base)
    page.open("/inspector?area=1")
    width = page.page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390  # nothing but the chart's own box scrolls sideways
    shot(page.page, tmp_path, "inspector-phone.png")
    page.page.emulate_media(media="print")
    assert not page.page.locator("header.site nav").is_visible()
    assert not page.page.locator("form.picker").is_visible()
    assert page.page.locator("svg.chart").is_visible()
    page.page.pdf(path=str(tmp_path / "inspector.pdf"))
    page.check()
    context.close()


def test_under_a_sub_path(browser, history_dir: Path, tmp_path: Path) -> None:
    """SCRIPT_NAME=/kamo (docs/reverse-proxy.md): every link, script and call keeps it."""
    app = Gunicorn(history_dir, tmp_path, tmp_path / "gunicorn.log", SCRIPT_NAME="/kamo")
    context = browser.new_context()
    try:
        app.wait()
        page = Watched(context.new_page(), app.base)
        page.open("/")
        for label in ("Inspector", "Tables", "Imports", "Dashboard"):
            page.page.click(f"header.site nav a:text-is('{label}')")
            page.page.wait_for_load_state()
            assert page.page.url.startswith(f"http://127.0.0.1:{app.port}/kamo/")
        page.page.fill("#api-key", API_KEY)
        page.page.click("#trigger-form button")
        page.page.locator("#trigger-result", has_text="Queued as request").wait_for()
        paths = [re.sub(r"^http://127\.0\.0\.1:\d+", "", u) for u in page.requests]
        assert paths and all(p.startswith("/kamo/") for p in paths), paths
        page.check()
    finally:
        context.close()
        app.stop()


def test_inspector_overlays_the_latest_forecast_dashed(watched: Watched, history_dir: Path) -> None:
    page = watched.page
    watched.open("/inspector?area=20&range=24h")
    svg = page.locator("svg.chart").first
    line = svg.locator("path.line.fc")
    assert line.count() == 1 and line.get_attribute("data-series").startswith("Forecast (")
    dashes = line.evaluate("path => getComputedStyle(path).strokeDasharray")
    assert dashes not in ("", "none")  # a second style, not only a second colour
    assert "forecast" in (svg.get_attribute("aria-label") or "")
    # The legend names it, and the table beside is its text alternative, hour by hour.
    legend = page.locator("#load-chart .legend")
    assert legend.locator(".key.fc").is_visible() and "KAMO's forecast" in legend.inner_text()
    rows = page.locator("#forecast table.forecast-hours tbody tr")
    drawn = len(re.findall(r"[ML]", line.get_attribute("d") or ""))
    assert rows.count() == drawn >= 12
    with read_db(history_dir) as db:
        now = int(time.time())
        ahead = db.execute(
            "SELECT count(DISTINCT target_ts) FROM forecast WHERE area_id = 20 AND target_ts >= ?",
            (now - now % 3600,),
        ).fetchone()[0]
    assert drawn == ahead
    # The forecast is drawn past the window's end, on the same axis.
    box = line.bounding_box()
    load = svg.locator("path.line.s1").bounding_box()
    assert box["x"] + box["width"] > load["x"] + load["width"]
    assert page.locator("#forecast h3", has_text="Accuracy by lead time").is_visible()
