"""Peak watch end to end: stored history through the ingest path, then real cycles against
the simulator with a staged peak, the collector's daemon evaluating the watch after each
cycle and mailing through a real SMTP server (aiosmtpd)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from collector.client import KamoClient
from collector.cycle import Cycle
from collector.daemon import Daemon
from shared.config import load_settings
from shared.models import PeakWatch

from peak_support import fill_history, load_model_module
from sim_process import control
from smtp_support import start_smtp

CT = ZoneInfo("America/Chicago")
HOUR = 3600
SEED = 1  # the simulator's default seed
MONTH_START = int(datetime(2026, 12, 1, 6, tzinfo=UTC).timestamp())  # Dec 1, 00:00 CST
STEP = 15 * 60


@pytest.fixture
def smtp():
    controller, inbox, port = start_smtp("none")
    yield inbox, port
    controller.stop()


@pytest.fixture
def staged(simulator):
    """Reset the simulator's staged peak afterwards (one simulator per module)."""
    yield simulator
    control(simulator.base_url, now=None, peak_at=None, peak_factor=1.0)


def make_daemon(sim_url: str, db, db_url: str, data_dir, smtp_port: int, **extra: str) -> Daemon:
    env = {
        "KAMO_BASE_URL": sim_url,
        "DATABASE_URL": db_url,
        "DATA_DIR": str(data_dir),
        "POLL_INTERVAL_MINUTES": "15",
        "SMTP_HOST": "127.0.0.1",
        "SMTP_PORT": str(smtp_port),
        "SMTP_SECURITY": "none",
        "NOTIFICATION_EMAIL": "ops@coop.test",
        "SMTP_FROM": "logger@coop.test",
        "LOW_DISK_MB": "1",
        **extra,
    }
    settings = load_settings(env, env_file=None)
    cycle = Cycle(db, KamoClient(sim_url), settings.poll_interval_minutes)
    return Daemon(settings, cycle, threading.Event())


def subjects(inbox, word: str) -> list[str]:
    return [m["Subject"] for m in inbox.messages if word in m["Subject"]]


def run_slots(daemon, sim_url, start: int, end: int, on_slot) -> None:
    """A scheduled cycle at every slot in [start, end), our clock and KAMO's moved there.
    The cycle stores KAMO's forecast series as it polls (collector.forecasts)."""
    for slot in range(start, end, STEP):
        when = datetime.fromtimestamp(slot + 20, UTC)
        control(sim_url, now=when.isoformat())
        with time_machine.travel(when.astimezone(CT), tick=False):
            daemon.run_cycle("scheduled")
        on_slot(slot)


def test_watch_fires_ahead_new_peak_once_all_clear_after(staged, writer_db, db_url, tmp_path, smtp):
    inbox, port = smtp
    sim = load_model_module()
    model = sim.KamoModel()
    # The month's peak so far is a staged +20% evening on Dec 1, so that ordinary days
    # stay below the watch level; the known peak is a +50% event on Dec 2 at 17:00 CST.
    early = int(datetime(2026, 12, 1, 23, tzinfo=UTC).timestamp())
    model.peak = (early + 1800, 1.2)
    peak_hour = int(datetime(2026, 12, 2, 23, tzinfo=UTC).timestamp())
    fill_history(writer_db, model, SEED, MONTH_START, peak_hour - 5 * HOUR, step=HOUR)
    model.peak = (peak_hour + 1800, 1.5)
    control(staged.base_url, peak_at="2026-12-02T23:00:00Z", peak_factor=1.5, forecast=True)
    daemon = make_daemon(staged.base_url, writer_db, db_url, tmp_path, port, PEAK_WATCH_HOURS="3")
    seen: dict[int, tuple] = {}

    def record(slot: int) -> None:
        watch = PeakWatch.select().where(PeakWatch.kind == "watch").order_by(PeakWatch.id).first()
        seen[slot] = (
            watch and watch.expected_ts,
            len(subjects(inbox, "peak watch:")),
            len(subjects(inbox, "new monthly peak")),
            len(subjects(inbox, "peak watch over")),
        )

    run_slots(daemon, staged.base_url, peak_hour - 5 * HOUR, peak_hour + 3 * HOUR, record)

    lead = peak_hour - 3 * HOUR  # the first hour whose horizon (3 h) holds the peak hour
    assert seen[lead - STEP][0] != peak_hour  # not seen coming before the lead
    assert seen[lead][0] == peak_hour and seen[lead][1] == 1  # seen, and mailed, at the lead
    watches = list(PeakWatch.select().where(PeakWatch.kind == "watch"))
    assert len(watches) == 1, [(w.expected_ts, w.outcome) for w in watches]
    watch = watches[0]
    assert watch.opened_at <= lead + 60
    assert watch.expected_ts == peak_hour and watch.outcome == "new peak"
    assert watch.closed_at > peak_hour + HOUR  # closed only once the hour had passed
    alert = [m for m in inbox.messages if "peak watch:" in m["Subject"]][0]
    assert " CST" in alert["Subject"]  # the expected hour in the display zone
    body = alert.get_body().get_content()
    assert "below it" in body and "forecast:Forecast" in body  # KAMO's forecast saw it first

    events = list(PeakWatch.select().where(PeakWatch.kind == "new-peak"))
    assert len(events) == 1 and events[0].expected_ts == peak_hour
    assert len(subjects(inbox, "new monthly peak")) == 1
    # The all-clear went out after the peak hour, once.
    assert all(s[3] == 0 for slot, s in seen.items() if slot < peak_hour + HOUR)
    assert subjects(inbox, "peak watch over") and len(subjects(inbox, "peak watch over")) == 1
    assert len(subjects(inbox, "peak watch:")) == 1


def test_no_watch_while_the_load_stays_well_below_the_peak(
    staged, writer_db, db_url, tmp_path, smtp
):
    inbox, port = smtp
    sim = load_model_module()
    model = sim.KamoModel()
    # The month's peak is set early (Dec 1, +30%); Dec 2 is an ordinary day.
    early = int(datetime(2026, 12, 1, 23, tzinfo=UTC).timestamp())
    model.peak = (early + 1800, 1.3)
    start = int(datetime(2026, 12, 2, 20, tzinfo=UTC).timestamp())
    fill_history(writer_db, model, SEED, MONTH_START, start, step=HOUR)
    model.peak = None
    control(staged.base_url, peak_at=None, peak_factor=1.0, forecast=True)
    daemon = make_daemon(staged.base_url, writer_db, db_url, tmp_path, port)
    run_slots(daemon, staged.base_url, start, start + 4 * HOUR, lambda slot: None)
    assert PeakWatch.select().count() == 0
    assert subjects(inbox, "peak") == []
