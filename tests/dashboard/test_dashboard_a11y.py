"""Every dashboard page on a phone (390 px) and a desktop (1280 px), by keyboard, for screen
readers (axe-core), and without JavaScript, in Debian's chromium against gunicorn.

axe-core is the npm package's `axe.min.js`, vendored under vendor/ (test-only, never served):
injected with Playwright in a context that bypasses the page's CSP, which allows only the
site's own scripts. Violations of impact serious or critical fail.
"""

from __future__ import annotations

import json
import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from dash_support import Gunicorn, beat, make_app, read_db

AXE = Path(__file__).resolve().parent / "vendor" / "axe.min.js"
WIDTHS = (390, 1280)
BLOCKING = ("serious", "critical")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _substation(history_dir: Path) -> int:
    with read_db(history_dir) as db:
        return db.execute("SELECT min(id) FROM substation").fetchone()[0]


@pytest.fixture(scope="module")
def pages(history_dir: Path) -> list[str]:
    """Every page of the dashboard, the inspector in its area and substation views."""
    sub = _substation(history_dir)
    return [
        "/",
        "/imports",
        "/imports?status=partial",
        "/inspector?area=20&range=24h",
        "/inspector?area=1&range=30d",
        f"/inspector?substation={sub}&range=48h",
        "/tables",
        "/tables?table=substation",
        "/tables?table=import_run",
        "/backups",
        "/settings",
    ]


@pytest.fixture(scope="module")
def server(history_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    data_dir = tmp_path_factory.mktemp("dash-a11y-data")
    beat(data_dir)  # a running collector: the trigger form is on the page
    app = Gunicorn(history_dir, data_dir, data_dir / "gunicorn.log")
    try:
        app.wait()
        yield app
    finally:
        app.stop()


def _open(context, base: str, path: str):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    response = page.goto(base + path)
    assert response is not None and response.status == 200, path
    return page, errors


def _blocking_violations(page) -> list[dict]:
    page.add_script_tag(path=str(AXE))
    found = page.evaluate(
        """() => axe.run(document).then(result => result.violations.map(v => ({
            id: v.id, impact: v.impact, help: v.help,
            nodes: v.nodes.slice(0, 3).map(n => n.target.join(" ")),
        })))"""
    )
    return [v for v in found if v["impact"] in BLOCKING]


def _overflow(page) -> tuple[int, int]:
    return page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")


def _box(page, selector: str) -> dict | None:
    element = page.locator(selector).first
    return element.bounding_box() if element.count() else None


@pytest.mark.parametrize(("width", "scheme"), [(390, "light"), (1280, "light"), (390, "dark")])
def test_pages_fit_show_the_result_and_pass_axe(browser, server, pages, width, scheme) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 844}, bypass_csp=True, color_scheme=scheme
    )
    try:
        for path in pages:
            page, errors = _open(context, server.base, path)
            scroll_width, inner = _overflow(page)
            assert scroll_width <= inner, f"{path} at {width} px is {scroll_width} px wide"
            if page.locator("table.runs").count():
                # The result of a run is visible without scrolling sideways, header and cells.
                for selector in ("table.runs thead th:has-text('Result')", "table.runs .badge"):
                    box = _box(page, selector)
                    assert box is not None, (path, selector)
                    assert box["x"] >= 0 and box["x"] + box["width"] <= inner, (path, box)
            chart = _box(page, "svg.chart")
            if chart is not None:
                # Opens on its newest data: the chart's right edge is on screen.
                assert chart["x"] + chart["width"] <= inner + 1, (path, chart)
                assert page.locator("svg.chart[role=img][aria-label]").count() >= 1
                assert page.locator(".chart-alt").count() >= 1, path  # the text alternative
            violations = _blocking_violations(page)
            assert not violations, (
                f"{path}, {width} px, {scheme}: {json.dumps(violations, indent=1)}"
            )
            assert not errors, errors
            page.close()
    finally:
        context.close()


def _focus_state(page) -> dict:
    return page.evaluate(
        """() => {
            const el = document.activeElement;
            const style = getComputedStyle(el);
            const box = el.getBoundingClientRect();
            return {
                tag: el.tagName.toLowerCase(), id: el.id, cls: el.className,
                text: (el.textContent || "").trim().slice(0, 40),
                outline: style.outlineStyle, width: parseFloat(style.outlineWidth),
                visible: box.width > 0 && box.height > 0 && box.bottom > 0,
            };
        }"""
    )


def _tab_to(page, selector: str, limit: int = 40) -> list[dict]:
    """Tab until `selector` has focus; every stop on the way must show a visible outline."""
    stops = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        state = _focus_state(page)
        stops.append(state)
        assert state["visible"], stops
        assert state["outline"] != "none" and state["width"] >= 2, stops
        if page.evaluate("sel => document.activeElement.matches(sel)", selector):
            return stops
    raise AssertionError(f"{selector} not reached in {limit} Tab presses: {stops}")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize(
    ("path", "target"),
    [
        ("/", "#api-key"),
        ("/imports", "#status"),
        ("/inspector?area=20&range=24h", "nav.ranges a[data-range='7d']"),
        ("/tables", "aside.table-list a"),
    ],
)
def test_keyboard_alone_reaches_the_controls_with_visible_focus(
    browser, server, path, target, width
) -> None:
    context = browser.new_context(viewport={"width": width, "height": 844})
    try:
        page, errors = _open(context, server.base, path)
        # The first stop is the skip link, shown on focus; it moves focus into <main>.
        stops = _tab_to(page, "a.skip", limit=1)
        assert stops[0]["text"] == "Skip to content"
        page.keyboard.press("Enter")
        assert page.evaluate("document.activeElement.id") == "main"
        _tab_to(page, target)
        if target.startswith("nav.ranges"):  # and a control works from the keyboard
            page.keyboard.press("Enter")
            page.wait_for_url("**range=7d**")
        assert not errors, errors
    finally:
        context.close()


@pytest.mark.parametrize("width", WIDTHS)
def test_pages_render_without_javascript(browser, server, pages, width) -> None:
    context = browser.new_context(
        viewport={"width": width, "height": 844}, java_script_enabled=False
    )
    try:
        for path in pages:
            page, _ = _open(context, server.base, path)
            assert page.locator("main h1").inner_text().strip(), path
            assert page.locator("main table, main svg.chart").count() >= 1, path
            scroll_width, inner = _overflow(page)
            assert scroll_width <= inner, f"{path} at {width} px is {scroll_width} px wide"
            page.close()
    finally:
        context.close()


def test_the_demo_database_is_marked_simulated(history_dir: Path, tmp_path: Path) -> None:
    """A database with scripts/seed_demo.py's mark says so on every page and in /api/status;
    one without it (the history fixture, like a real database) says nothing of the kind."""
    plain = make_app(history_dir).test_client()
    assert plain.get("/api/status").get_json()["simulated"] is None
    assert "Simulated demo data" not in plain.get("/").get_data(as_text=True)

    demo_dir = tmp_path / "demo"
    demo_dir.mkdir()
    shutil.copy(history_dir / "kamo.db", demo_dir / "kamo.db")
    with sqlite3.connect(demo_dir / "kamo.db") as db:
        db.execute(
            "INSERT INTO rollup_state (name, built_until) VALUES ('simulated_history', ?)",
            (1764547200,),
        )
    demo = make_app(demo_dir).test_client()
    body = demo.get("/api/status").get_json()["simulated"]
    assert body["until"].startswith("2025-11-30T") and "simulated" in body["note"]
    for path in ("/", "/imports", "/inspector?area=20", "/tables"):
        assert "Simulated demo data" in demo.get(path).get_data(as_text=True), path
