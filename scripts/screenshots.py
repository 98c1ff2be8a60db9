"""The README's screenshots (docs/screenshots/), taken from a real `make demo` stack.

Starts scripts/run_stack.sh --demo into a temporary directory on free loopback ports (the
simulator, 30 days of seeded history, the collector, gunicorn), waits for the collector's
first live poll, then photographs the pages with Debian's chromium through Python playwright
at 1280 px and at a phone's 390 px. Stops the stack on the way out.

    .venv/bin/python scripts/screenshots.py [--out docs/screenshots]
"""

from __future__ import annotations

import argparse
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
START_DEADLINE_SECONDS = 180.0  # seeding (about 10 s of CPU) and the first live poll
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
# (file name, path, viewport, full page, element scrolled to the top first)
SHOTS = (
    ("dashboard.png", "/", DESKTOP, True, None),
    ("inspector.png", "/inspector?area=20&range=7d", DESKTOP, True, None),
    ("inspector-30d.png", "/inspector?area=1&range=30d", DESKTOP, False, None),
    ("tables.png", "/tables?table=substation_hourly", DESKTOP, False, None),
    ("imports.png", "/imports", DESKTOP, False, None),
    ("backups.png", "/backups", DESKTOP, False, None),
    ("settings.png", "/settings", DESKTOP, False, None),
    ("dashboard-phone.png", "/", PHONE, False, None),
    ("inspector-phone.png", "/inspector?area=1&range=48h", PHONE, False, "#load-chart"),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_stack(workdir: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAMO_", "SMTP_"))}
    env.update(
        SIM_PORT=str(free_port()),
        PORT=str(port),
        HOST="127.0.0.1",
        DEMO_DATABASE_URL=f"sqlite:///{workdir / 'demo.db'}",
        DEMO_DATA_DIR=str(workdir / "demo"),
        TZ="America/Chicago",
        API_KEY=secrets.token_urlsafe(24),  # shows the "Import now" form; never printed
    )
    log = (workdir / "stack.log").open("w")
    proc = subprocess.Popen(
        ["bash", "scripts/run_stack.sh", "--demo"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: stopped as one below
    )
    return proc, f"http://127.0.0.1:{port}"


def wait_for_live_poll(proc: subprocess.Popen, base: str, log: Path) -> None:
    """Until the collector runs and its first live run (not a seeded one) is stored."""
    deadline = time.monotonic() + START_DEADLINE_SECONDS
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the demo stack stopped:\n{log.read_text()}")
        try:
            status = requests.get(f"{base}/api/status", timeout=3).json()
        except (requests.RequestException, ValueError):
            status = {}
        run = status.get("last_run") or {}
        running = status.get("collector", {}).get("state") == "running"
        if running and run.get("trigger") == "startup" and run.get("status") != "running":
            return
        time.sleep(0.5)
    raise SystemExit(f"no live poll within {START_DEADLINE_SECONDS:.0f} s:\n{log.read_text()}")


def take(base: str, out: Path) -> None:
    from playwright.sync_api import sync_playwright

    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
        )
        try:
            for name, path, viewport, full, top in SHOTS:
                context = browser.new_context(
                    viewport=viewport, is_mobile=viewport is PHONE, color_scheme="light"
                )
                page = context.new_page()
                response = page.goto(base + path)
                if response is None or response.status != 200:
                    raise SystemExit(f"{path}: HTTP {response.status if response else '?'}")
                if top:
                    page.locator(top).evaluate("element => element.scrollIntoView()")
                page.screenshot(path=str(out / name), full_page=full)
                print(f"{out / name}")
                context.close()
        finally:
            browser.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Screenshots of the demo for the README.")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshots")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="kamo-shots-") as tmp:
        workdir = Path(tmp)
        proc, base = start_stack(workdir)
        try:
            wait_for_live_poll(proc, base, workdir / "stack.log")
            take(base, args.out.resolve())
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)  # run_stack.sh's trap stops its children
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
