"""Peak-watch messages through the alert channels: email (SMTP) and push (Apprise).

Each `peak_watch` row is announced once per channel: a watch when it opens, its all-clear
once its hour has passed (only where the watch itself went out), and a new monthly peak
once. `peak_watch.notified` keeps bits of what went out, so a restart repeats nothing and
a channel that failed is retried next cycle, for MAX_AGE at most (a late warning is
noise). MQTT gets the same state as a retained topic (collector.mqtt_payloads).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from collector.notify import Mail, NotifyError, send_mail
from collector.push import Target, compose, send
from shared.config import Settings
from shared.models import Area, PeakWatch
from shared.timeutil import local_text, now_ts

log = logging.getLogger("collector")

MAIL_OPEN, PUSH_OPEN, MAIL_CLEAR, PUSH_CLEAR = 1, 2, 4, 8
MAX_AGE = 6 * 3600


def area_label(area_id: int) -> str:
    area = Area.get_or_none(Area.id == area_id)
    return f"{area.name} (area {area_id})" if area is not None else f"area {area_id}"


def _kw(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} kW"


def message(settings: Settings, row: PeakWatch, closing: bool) -> tuple[str, list[str]]:
    """(title, lines) of the row's announcement (`closing`: its all-clear)."""
    zone = settings.tz
    who = area_label(row.area_id)
    hour = local_text(row.expected_ts, zone, "%Y-%m-%d %H:%M %Z")
    peak_at = local_text(row.peak_ts, zone, "%Y-%m-%d %H:%M %Z")
    if row.kind == "new-peak":
        return f"new monthly peak: {who} {_kw(row.expected_kw)}", [
            f"{who} set a new monthly peak: {_kw(row.expected_kw)} in the hour {hour}.",
            f"The previous peak this month was {_kw(row.peak_kw)} ({peak_at}).",
        ]
    if not closing:
        source = "the real-time estimate" if row.source == "estimate" else row.source
        return f"peak watch: {who} near its monthly peak at {hour}", [
            f"{who} may come within {settings.peak_watch_percent:g}% of its monthly peak "
            f"in the hour {hour}: {_kw(row.expected_kw)} expected ({source}).",
            f"Peak so far this month: {_kw(row.peak_kw)} ({peak_at}); "
            f"margin {row.margin_pct:.1f}% below it.",
        ]
    outcome = {
        "hit": "the load came near the peak",
        "new peak": "a new monthly peak was set",
        "unknown": "KAMO has not sent its actual yet",
    }
    said = outcome.get(row.outcome or "", "the load stayed below the watch level")
    return f"peak watch over: {who} ({row.outcome})", [
        f"All clear: the hour {hour} has passed; {said}.",
        f"Highest actual while watched: {_kw(row.actual_kw)}; peak before: {_kw(row.peak_kw)}.",
    ]


class PeakNotifier:
    """Sends what the `peak_watch` rows still owe each channel."""

    def __init__(
        self,
        settings: Settings,
        targets: Callable[[], Sequence[Target]] = list,
        mail: Callable[[Settings, Mail], str] = send_mail,
    ) -> None:
        self.settings = settings
        self.targets = targets
        self.mail = mail

    def _wanted(self, row: PeakWatch) -> int:
        """Bits this row should have by now, for the channels configured."""
        mail = self.settings.alerts_enabled
        push = bool(self.targets())
        bits = (MAIL_OPEN if mail else 0) | (PUSH_OPEN if push else 0)
        if row.kind == "watch" and row.closed_at is not None:
            # An all-clear only follows a watch the channel announced.
            bits |= MAIL_CLEAR if row.notified & MAIL_OPEN else 0
            bits |= PUSH_CLEAR if row.notified & PUSH_OPEN else 0
        return bits

    def deliver(self, now: float | None = None) -> int:
        """Send what is due; returns how many messages went out. Never raises for a
        channel's failure (logged, retried next cycle)."""
        now = now_ts() if now is None else now
        sent = 0
        rows = PeakWatch.select().where(PeakWatch.opened_at >= now - MAX_AGE - 86400)
        for row in rows.order_by(PeakWatch.id):
            due = self._wanted(row) & ~row.notified
            if not due:
                continue
            if row.kind == "watch" and row.closed_at is not None:
                due &= ~(MAIL_OPEN | PUSH_OPEN)  # over before it went out: no late warning
            if now - (row.closed_at or row.opened_at) > MAX_AGE:
                continue
            done = self._send(row, due)
            sent += bin(done).count("1")
            if done:
                PeakWatch.update(notified=PeakWatch.notified.bin_or(done)).where(
                    PeakWatch.id == row.id
                ).execute()
        return sent

    def _send(self, row: PeakWatch, due: int) -> int:
        done = 0
        for bit_mail, bit_push, closing in ((MAIL_OPEN, PUSH_OPEN, False),
                                            (MAIL_CLEAR, PUSH_CLEAR, True)):  # fmt: skip
            if not due & (bit_mail | bit_push):
                continue
            title, lines = message(self.settings, row, closing)
            if due & bit_mail:
                try:
                    reply = self.mail(self.settings, Mail(title, lines))
                    log.info("peak watch email sent: %s (%s)", title, reply)
                    done |= bit_mail
                except NotifyError as exc:
                    log.error("peak watch email not sent (%s); retry next cycle", exc)
            if due & bit_push:
                self._push(title, lines, closing)
                done |= bit_push
        return done

    def _push(self, title: str, lines: list[str], closing: bool) -> None:
        """Every target once; a target that fails is logged and not retried (the others
        got it, and pushing them again would repeat the message)."""
        subject, body = compose(self.settings, title, lines)
        for target in self.targets():
            try:
                send(target, subject, body, "success" if closing else "warning")
            except NotifyError as exc:
                log.error("peak watch push to %s failed: %s", target.label, exc)
