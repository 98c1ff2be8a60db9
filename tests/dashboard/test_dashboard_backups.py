"""The Backups and Settings pages end to end: a real collector daemon (simulator, aiosmtpd)
and the real API under gunicorn, sharing one data directory; chromium for the JavaScript
path, plain HTTP form posts for the path without it.

The API runs with POLL_INTERVAL_MINUTES=5 and the collector with 60, so the Settings page
must flag the difference and the dashboard must show the collector's interval.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from dash_support import API_KEY, Gunicorn, text_of
from test_daemon import Daemon, start_clear_of_a_slot
from test_dashboard_browser import Watched, shot

from shared.backups import list_backups

from sim_process import start_simulator
from smtp_support import start_smtp
from support import wait_for

SMTP_SECRET = "smtp-pass-Zq81"  # set for the collector: must never appear in a page
pytestmark = [pytest.mark.slow]


@dataclass
class Stack:
    data: Path
    api: Gunicorn
    collector: Daemon
    inbox: object

    @property
    def base(self) -> str:
        return self.api.base

    def get(self, path: str, **kw) -> requests.Response:
        return requests.get(self.base + path, timeout=10, **kw)

    def post(self, path: str, **kw) -> requests.Response:
        return requests.post(self.base + path, timeout=10, allow_redirects=False, **kw)


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    data = tmp_path_factory.mktemp("backups-stack")
    controller, inbox, port = start_smtp()
    with start_simulator("--quiet") as sim:
        mail = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_SECURITY": "none",
            "SMTP_PASSWORD": SMTP_SECRET,
            "NOTIFICATION_EMAIL": "ops@example.test",
        }
        collector = start_clear_of_a_slot(sim, data, 60, **mail)
        api = Gunicorn(data, data, data / "gunicorn.log", POLL_INTERVAL_MINUTES="5")
        try:
            assert wait_for(lambda: (collector.heartbeat() or {}).get("last_cycle"), 30), (
                collector.output()
            )
            api.wait()
            yield Stack(data, api, collector, inbox)
        finally:
            api.stop()
            collector.stop()
            controller.stop()


def follow(stack: Stack, location: str, timeout: float = 60) -> str:
    """The status page a form post redirected to, once it says done or failed."""
    assert location.startswith("/requests/"), location

    def finished() -> str | None:
        html = stack.get(location).text
        return html if re.search(r'role="status">(done|failed)<', html) else None

    html = wait_for(finished, timeout, step=0.3)
    assert html, stack.collector.output()
    return html


def test_back_up_now_without_javascript(stack: Stack) -> None:
    refused = stack.post("/backups/now", data={"api_key": "wrong"})
    assert refused.status_code == 401
    assert not list((stack.data / "triggers").glob("*.json"))
    answer = stack.post("/backups/now", data={"api_key": API_KEY})
    assert answer.status_code == 303
    location = answer.headers["Location"]
    first = stack.get(location).text
    assert re.search(r'role="status">(queued|running|done)<', first)
    assert 'http-equiv="refresh"' in first or 'role="status">done<' in first
    done = follow(stack, location)
    assert 'role="status">done<' in done and "integrity ok" in done
    assert 'http-equiv="refresh"' not in done  # it stops reloading
    page = text_of(stack.get("/backups").text)
    (backup, *_older) = list_backups(stack.data / "backups", "kamo")
    assert backup.name in page
    row = re.search(rf"([^|]*?) {re.escape(backup.name)}", page)
    assert row
    assert "by hand" in page and " ok " in page


def test_download_needs_the_key_and_rejects_traversal(stack: Stack) -> None:
    if not list_backups(stack.data / "backups", "kamo"):
        follow(stack, stack.post("/backups/now", data={"api_key": API_KEY}).headers["Location"])
    (backup, *_older) = list_backups(stack.data / "backups", "kamo")
    url = f"/api/backups/{backup.name}"
    assert stack.get(url).status_code == 401
    assert stack.get(url, headers={"X-API-Key": "wrong"}).status_code == 401
    got = stack.get(url, headers={"X-API-Key": API_KEY})
    assert got.status_code == 200 and "attachment" in got.headers["Content-Disposition"]
    assert gzip.decompress(got.content).startswith(b"SQLite format 3\x00")
    form = stack.post("/backups/download", data={"api_key": API_KEY, "file": backup.name})
    assert form.status_code == 200 and form.content == got.content
    assert stack.post("/backups/download", data={"file": backup.name}).status_code == 401
    (stack.data / "kamo_load-20260101T000000Z.db.gz").write_bytes(b"outside the folder")
    for name in (
        "..%2Fkamo.db",
        "%2E%2E%2Fkamo_load-20260101T000000Z.db.gz",
        "..%2F..%2Fetc%2Fpasswd",
        "kamo.db",
    ):
        answer = stack.get(f"/api/backups/{name}", headers={"X-API-Key": API_KEY})
        assert answer.status_code == 404, name
        assert answer.json()["parameter"] == "name"
    for name in ("../kamo.db", "../kamo_load-20260101T000000Z.db.gz", "/etc/passwd"):
        answer = stack.post("/backups/download", data={"api_key": API_KEY, "file": name})
        assert answer.status_code == 404, name


@pytest.mark.browser
def test_back_up_now_in_the_browser(browser, stack: Stack, tmp_path: Path) -> None:  # noqa: F811
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    watched = Watched(context.new_page(), stack.base)
    page = watched.page
    watched.open("/backups")
    before = {b.name for b in list_backups(stack.data / "backups", "kamo")}
    page.evaluate("window.stillTheSamePage = true")
    page.fill("#backup-key", API_KEY)
    page.click("#backup-now button[data-task]")
    result = page.locator("#backup-result")
    seen = []

    def finished() -> bool:
        text = result.inner_text()
        if not seen or seen[-1] != text:
            seen.append(text)
        return text.startswith(("done", "failed"))

    assert wait_for(finished, 60, step=0.05), (seen, stack.collector.output())
    assert seen[-1].startswith("done") and "integrity ok" in seen[-1], seen
    assert any(s.startswith("queued") for s in seen), seen  # shown before the collector took it
    assert page.evaluate("window.stillTheSamePage") is True  # no reload
    # A new file (rotation keeps one a day, so it may have replaced the earlier one).
    newest = list_backups(stack.data / "backups", "kamo")[0]
    assert newest.name not in before and newest.name in seen[-1]
    page.locator("#backup-reload").wait_for()
    watched.open("/backups")
    assert "by hand" in page.locator("table").first.inner_text()
    shot(page, tmp_path, "backups.png")
    watched.open("/settings")
    assert page.locator("tr.disagree").count() == 1
    shot(page, tmp_path, "settings.png")
    watched.check()
    context.close()


def test_settings_sources_disagreement_and_no_secrets(stack: Stack) -> None:
    html = stack.get("/settings").text
    text = text_of(html)
    assert re.search(r"POLL_INTERVAL_MINUTES differs 60 environment 5 environment", text), text
    assert "disagree on POLL_INTERVAL_MINUTES" in text
    assert re.search(r"LOG_LEVEL INFO default INFO default", text)
    assert re.search(r"SMTP_PASSWORD set environment unset default", text)
    assert re.search(r"API_KEY unset default set environment", text)
    assert "TZ differs" not in text and "DATABASE_URL differs" not in text
    for page in ("/settings", "/backups", "/", "/api/status"):
        body = stack.get(page).text
        assert SMTP_SECRET not in body and API_KEY not in body, page
    # The dashboard shows the collector's poll interval, not the API's.
    assert "every 60 min" in text_of(stack.get("/").text)


def test_test_email_without_javascript_shows_the_smtp_answer(stack: Stack) -> None:
    answer = stack.post("/settings/test-email", data={"api_key": API_KEY})
    assert answer.status_code == 303
    html = follow(stack, answer.headers["Location"], 30)
    assert 'role="status">done<' in html
    assert "250 OK queued as test-4711" in text_of(html)


@pytest.mark.browser
def test_test_email_in_the_browser(browser, stack: Stack) -> None:  # noqa: F811
    sent = len(stack.inbox.messages)
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    watched = Watched(context.new_page(), stack.base)
    page = watched.page
    watched.open("/settings")
    page.fill("#email-key", API_KEY)
    page.click("#test-email button[data-task]")
    page.locator("#email-result", has_text="250 OK queued as test-4711").wait_for(timeout=30_000)
    assert page.locator("#email-result").inner_text().startswith("done")
    assert len(stack.inbox.messages) == sent + 1
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, width  # no sideways scrolling on a phone
    watched.check()
    context.close()
