"""The dashboard's peak-watch banner and KAMO's "now, estimated" line, server-rendered from
a database the collector's ingest path filled from the simulator's model."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
import time_machine

from api import create_app
from shared.models import PeakWatch

from peak_support import fill_history, load_model_module

HOUR = 3600
START = int(datetime(2026, 12, 1, 6, tzinfo=UTC).timestamp())
END = START + 26 * HOUR


@pytest.fixture
def page(writer_db, db_url, tmp_path):
    model = load_model_module().KamoModel()
    fill_history(writer_db, model, 1, START, END + 900, step=HOUR)
    app = create_app(
        {"DATABASE_URL": db_url, "DATA_DIR": str(tmp_path),
         "TZ": "America/Chicago", "TESTING": True}
    )  # fmt: skip

    def get() -> str:
        with time_machine.travel(datetime.fromtimestamp(END + 120, UTC), tick=False):
            return app.test_client().get("/").get_data(as_text=True)

    return writer_db, get


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_kamo_card_shows_the_estimate_now(page):
    _, get = page
    html = get()
    card = text(html.split('id="system-now"')[1].split("</p>")[0])
    assert re.search(r"now, estimated: [\d,.]+ MW snapshot 2026-12-02 02:00 CST", card), card
    assert "Peak watch" not in text(html)  # no open watch, no banner


def test_open_watch_shows_a_banner_with_hour_and_margin(page):
    db, get = page
    with db.atomic():
        PeakWatch.create(area_id=20, kind="watch", opened_at=END, expected_ts=END + 2 * HOUR,
                         expected_kw=1_234_000.0, peak_kw=1_250_000.0, peak_ts=START + HOUR,
                         margin_pct=1.28, source="forecast:<b>Day</b>")  # fmt: skip
    html = get()
    banner = html.split('id="peak-watch-20"')[1].split("</div>")[0]
    shown = text(banner)
    assert "Peak watch: KAMO" in shown and "within 97% of its monthly peak" in shown
    assert "hour of 2026-12-02 04:00 CST" in shown  # the expected hour, in the display zone
    assert "1,234.0 MW expected" in shown and "margin 1.3%" in shown
    assert "<b>Day</b>" not in banner and "&lt;b&gt;" in banner  # escaped
