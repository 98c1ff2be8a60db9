"""The peak-watch banner in a real browser (Debian's chromium, headless, playwright) against
gunicorn with the container's command: visible, readable, nothing fetched from elsewhere
and no console errors. Skips without chromium unless REQUIRE_BROWSER=1 (CI)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from dash_support import Gunicorn
from test_dashboard_a11y import _blocking_violations
from test_dashboard_browser import Watched

from shared.db import bind, open_writer
from shared.models import PeakWatch
from shared.schema import migrate

from peak_support import fill_history, load_model_module

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOUR = 3600
START = int(datetime(2026, 12, 1, 6, tzinfo=UTC).timestamp())


@pytest.fixture(scope="module")
def watch_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Gunicorn]:
    root = tmp_path_factory.mktemp("dash-peak")
    db = bind(open_writer(f"sqlite:///{root / 'kamo.db'}"))
    db.connect()
    migrate(db)
    fill_history(db, load_model_module().KamoModel(), 1, START, START + 26 * HOUR, step=HOUR)
    with db.atomic():
        PeakWatch.create(area_id=20, kind="watch", opened_at=START + 26 * HOUR,
                         expected_ts=START + 28 * HOUR, expected_kw=1_234_000.0,
                         peak_kw=1_250_000.0, peak_ts=START + HOUR, margin_pct=1.28,
                         source="forecast:Day Ahead")  # fmt: skip
    db.close()
    app = Gunicorn(root, root, root / "gunicorn.log")
    try:
        app.wait()
        yield app
    finally:
        app.stop()


def test_banner_and_estimate_line_in_a_browser(browser, watch_server: Gunicorn, tmp_path: Path):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page(), watch_server.base)
    try:
        watched.open("/")
        banner = watched.page.locator("#peak-watch-20")
        assert banner.is_visible()
        said = " ".join(banner.inner_text().split())
        assert "Peak watch: KAMO" in said and "2026-12-02 04:00 CST" in said
        assert "margin 1.3%" in said and "1,234.0 MW expected" in said
        line = " ".join(watched.page.locator("#system-now").inner_text().split())
        assert line.startswith("now, estimated:")
        watched.page.screenshot(path=str(tmp_path / "peak.png"), full_page=True)
        watched.check()
    finally:
        context.close()
    # Screen readers and contrast: axe-core on the page with the banner (phone dark, desktop).
    for width, scheme in ((390, "dark"), (1280, "light")):
        checked = browser.new_context(
            viewport={"width": width, "height": 900}, bypass_csp=True, color_scheme=scheme
        )
        try:
            page = checked.new_page()
            page.goto(watch_server.base + "/")
            assert _blocking_violations(page) == [], width
        finally:
            checked.close()
