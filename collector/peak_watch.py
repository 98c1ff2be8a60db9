"""Peak watch: evaluated by the collector after each cycle (it is the only writer).

For KAMO's system load (area 20) and each area in PEAK_WATCH_AREAS:
- the month's peak so far is the highest complete hour of the local month (display zone
  TZ, the months `/api/load/coincident-peaks` counts; the earliest hour wins a tie);
- a watch opens when the real-time estimate of the current hour, or a forecast for one
  of the next PEAK_WATCH_HOURS hours, reaches PEAK_WATCH_PERCENT of that peak. It follows
  the highest expected hour while the condition holds and closes once that hour has
  passed and its actual is in, with an outcome (hit, new peak, false alarm);
- a "new monthly peak" event is recorded when a complete hour's actual beats the peak
  before it: once per area and local day (a later, higher hour that day updates it).
The month's first MIN_MONTH_HOURS set the bar: before that every hour would be a "peak".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from peewee import Database

from shared.config import Settings
from shared.estimate import area_estimate, stale_after
from shared.forecast_input import latest_forecasts
from shared.models import HourlyLoad, PeakWatch
from shared.timeutil import local_midnight, local_month, month_start

log = logging.getLogger("collector")

HOUR = 3600
MIN_MONTH_HOURS = 24
NEW_PEAK_LOOKBACK = 3  # complete hours checked for a new peak each cycle (missed cycles)
CLOSE_WITHOUT_ACTUAL = 3 * HOUR  # a watch whose hour's actual never comes closes anyway


@dataclass(frozen=True)
class Candidate:
    hour: int  # UTC start of the expected hour
    kw: float
    source: str  # estimate | forecast:<series>


def month_peak(area_id: int, start: int, before: int) -> tuple[int, float, int] | None:
    """(ts, kW, hours stored) of the highest hour in [start, before); None when empty."""
    where = (HourlyLoad.area_id == area_id) & (HourlyLoad.ts >= start) & (HourlyLoad.ts < before)
    top = (
        HourlyLoad.select(HourlyLoad.ts, HourlyLoad.load_kw)
        .where(where)
        .order_by(HourlyLoad.load_kw.desc(), HourlyLoad.ts)
        .first()
    )
    if top is None:
        return None
    return top.ts, top.load_kw, HourlyLoad.select().where(where).count()


def candidates(
    db: Database, settings: Settings, area_id: int, now: float, hour: int
) -> list[Candidate]:
    """What the watch can see coming: the estimate now, and every forecast point ahead."""
    found = []
    estimate = area_estimate(db, area_id, now, stale_after(settings.poll_interval_minutes))
    if estimate["estimate_kw"] is not None and not estimate["stale"]:
        found.append(Candidate(hour, estimate["estimate_kw"], "estimate"))
    ahead = latest_forecasts(db, area_id, hour, settings.peak_watch_hours)
    for series, points in ahead.items():
        found += [Candidate(ts, kw, f"forecast:{series}") for ts, kw, _ in points]
    return found


def _margin(peak_kw: float, kw: float) -> float:
    return round((peak_kw - kw) / peak_kw * 100, 2)


def _actuals(area_id: int, start: int, end: int) -> dict[int, float]:
    rows = HourlyLoad.select(HourlyLoad.ts, HourlyLoad.load_kw).where(
        (HourlyLoad.area_id == area_id) & (HourlyLoad.ts >= start) & (HourlyLoad.ts <= end)
    )
    return {r.ts: r.load_kw for r in rows}


class PeakWatcher:
    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db

    def evaluate(self, now: float) -> list[PeakWatch]:
        """One evaluation of every watched area; returns the rows opened or closed.
        Call inside a write transaction."""
        changed: list[PeakWatch] = []
        hour = int(now) - int(now) % HOUR
        zone = self.settings.tz
        start = month_start(*local_month(hour, zone), zone)
        for area_id in self.settings.peak_watch_areas:
            changed += self._new_peaks(area_id, start, hour, now)
            changed += self._watch(area_id, start, hour, now)
        return changed

    def _new_peaks(self, area_id: int, start: int, hour: int, now: float) -> list[PeakWatch]:
        changed = []
        first = max(start, hour - NEW_PEAK_LOOKBACK * HOUR)
        for ts, kw in sorted(_actuals(area_id, first, hour - HOUR).items()):
            before = month_peak(area_id, start, ts)
            if before is None or before[2] < MIN_MONTH_HOURS or kw <= before[1]:
                continue
            day = local_midnight(ts, self.settings.tz)
            event = (
                PeakWatch.select()
                .where(
                    (PeakWatch.area_id == area_id)
                    & (PeakWatch.kind == "new-peak")
                    & (PeakWatch.expected_ts >= day)
                )
                .order_by(PeakWatch.id.desc())
                .first()
            )
            if event is not None and event.expected_ts >= ts:
                continue  # this hour (or a later one) is recorded already
            if event is not None:  # a higher hour the same day: the one event follows it
                if kw > event.expected_kw:
                    event.expected_ts, event.expected_kw, event.actual_kw = ts, kw, kw
                    event.margin_pct = _margin(event.peak_kw, kw)
                    event.save()
                continue
            event = PeakWatch.create(
                area_id=area_id, kind="new-peak", opened_at=now, expected_ts=ts,
                expected_kw=kw, peak_kw=before[1], peak_ts=before[0],
                margin_pct=_margin(before[1], kw), source="actual", closed_at=now,
                outcome="new peak", actual_kw=kw,
            )  # fmt: skip
            log.warning("peak watch: new monthly peak in area %d: %.0f kW", area_id, kw)
            changed.append(event)
        return changed

    def _watch(self, area_id: int, start: int, hour: int, now: float) -> list[PeakWatch]:
        current = (
            PeakWatch.select()
            .where(
                (PeakWatch.area_id == area_id)
                & (PeakWatch.kind == "watch")
                & PeakWatch.closed_at.is_null()
            )
            .order_by(PeakWatch.id.desc())
            .first()
        )
        peak = month_peak(area_id, start, hour)
        near: list[Candidate] = []
        if peak is not None and peak[2] >= MIN_MONTH_HOURS:
            limit = peak[1] * self.settings.peak_watch_percent / 100
            seen = candidates(self.db, self.settings, area_id, now, hour)
            near = [c for c in seen if c.kw >= limit]
        if near:
            best = max(near, key=lambda c: (c.kw, -c.hour))
            if current is None:
                row = PeakWatch.create(
                    area_id=area_id, kind="watch", opened_at=now, expected_ts=best.hour,
                    expected_kw=best.kw, peak_kw=peak[1], peak_ts=peak[0],
                    margin_pct=_margin(peak[1], best.kw), source=best.source,
                )  # fmt: skip
                log.warning(
                    "peak watch: area %d may come within %.1f%% of its monthly peak (%s)",
                    area_id, row.margin_pct, best.source,
                )  # fmt: skip
                return [row]
            if best.kw > current.expected_kw or current.expected_ts < hour:
                current.expected_ts, current.expected_kw = best.hour, best.kw
                current.margin_pct = _margin(current.peak_kw, best.kw)
                current.source = best.source
                current.save()
            return []
        if current is None or hour <= current.expected_ts:
            return []
        return self._close(current, hour, now)

    def _close(self, row: PeakWatch, hour: int, now: float) -> list[PeakWatch]:
        opened_hour = int(row.opened_at) - int(row.opened_at) % HOUR
        seen = _actuals(row.area_id, min(opened_hour, row.expected_ts), hour - HOUR)
        waited = now - (row.expected_ts + HOUR)
        if row.expected_ts not in seen and waited < CLOSE_WITHOUT_ACTUAL:
            return []  # the hour has passed; its actual is not in yet
        top = max(seen.values(), default=None)
        if top is None:
            outcome = "unknown"
        elif top > row.peak_kw:
            outcome = "new peak"
        elif top >= row.peak_kw * self.settings.peak_watch_percent / 100:
            outcome = "hit"
        else:
            outcome = "false alarm"
        row.closed_at, row.outcome, row.actual_kw = now, outcome, top
        row.save()
        log.info("peak watch: area %d closed (%s)", row.area_id, outcome)
        return [row]
