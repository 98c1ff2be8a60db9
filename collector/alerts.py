"""Alerts after every cycle: their record in the database, their emails and pushes.

Each condition has a row in `alert_state` (it survives restarts): an alert email goes
out once when a condition starts, and one recovery email (with the outage length) when
it ends. A failing SMTP server is logged and retried next cycle; it never stops the
collector. With email off, the state is still kept, so the API can show it.
Push targets (collector.push) get the same conditions, tracked per target. The conditions
themselves are built in collector.alert_conditions.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

# FROZEN_POLLS and disk_path are also named through this module (the `as` form re-exports).
from collector.alert_conditions import FROZEN_POLLS as FROZEN_POLLS
from collector.alert_conditions import Condition, current_conditions, duration_text
from collector.alert_conditions import disk_path as disk_path
from collector.notify import Mail, NotifyError, send_mail
from collector.outage import UnwrittenRun
from collector.push import PushAlerts
from shared.config import Settings
from shared.models import AlertState
from shared.timeutil import now_ts

log = logging.getLogger("collector")


class Alerter:
    """`watch(now)` adds conditions the caller sees (the daemon: a stuck cycle); `unwritten()`
    gives the failed runs not yet written. What this process announced is also kept in
    memory, so a database that refuses the state's write (disk full) does not make every
    check announce, and mail, the same alert again."""

    def __init__(
        self,
        settings: Settings,
        send: Callable[[Settings, Mail], str] = send_mail,
        watch: Callable[[float], list[Condition]] | None = None,
        unwritten: Callable[[], Sequence[UnwrittenRun]] | None = None,
        push: PushAlerts | None = None,
    ):
        self.settings = settings
        self.send = send
        self.watch = watch
        self.unwritten = unwritten
        self._raised: dict[str, str] = {}  # key -> detail, announced by this process
        self._mailed: set[str] = set()
        self._cleared: set[str] = set()  # recovered here; the stored state may lag behind
        # Push (NOTIFY_URLS) is a channel of its own with its own delivery record: it gets
        # every condition and recovery whatever email managed, and the other way round.
        self.push = push if push is not None else PushAlerts(settings)

    def _mail(self, mail: Mail) -> bool:
        if not self.settings.alerts_enabled:
            return False
        try:
            reply = self.send(self.settings, mail)
        except NotifyError as exc:
            log.error("alert email not sent (%s); collection goes on, retry next cycle", exc)
            return False
        log.info("alert email sent: %s (%s)", mail.subject, reply)
        return True

    def check(self, now: float | None = None) -> list[Condition]:
        """Evaluate every condition, record transitions, send what is due."""
        now = now_ts() if now is None else now
        unwritten = list(self.unwritten()) if self.unwritten else []
        found = current_conditions(self.settings, now, unwritten)
        found += self.watch(now) if self.watch else []
        active = {c.key: c for c in found}
        states = {s.key: s for s in AlertState.select()}
        self._cleared &= {k for k, s in states.items() if s.active}
        for key, cond in active.items():
            self._cleared.discard(key)
            state = states.get(key) or AlertState(key=key, updated_at=now)
            if not state.active:
                state.active, state.since = True, cond.since
                state.notified = key in self._mailed
                if key not in self._raised:
                    log.warning("alert: %s", cond.title)
            # Lines may quote KAMO's answers; PostgreSQL text cannot hold NUL.
            state.detail = "\n".join([cond.title, *cond.lines]).replace("\x00", "")
            self._raised[key] = state.detail
            if not state.notified:
                state.notified = self._mail(Mail(f"ALERT: {cond.title}", cond.lines))
            if state.notified:
                self._mailed.add(key)
            state.updated_at = now
            state.save(force_insert=key not in states)
        ended = {k for k, s in states.items() if s.active} | set(self._raised)
        for key in sorted(ended - set(active)):
            state = states.get(key)
            since = state.since if state is not None and state.since else now
            detail = state.detail if state is not None and state.active else self._raised[key]
            outage = duration_text(now - since)
            if key in self._cleared:  # announced already; only the record is behind
                state.active, state.notified, state.updated_at = False, False, now
                state.save()
                continue
            log.info("recovered: %s after %s", key, outage)
            if key in self._mailed or (state is not None and state.notified):
                title, *was = detail.splitlines() or [key]
                lines = [f"Recovered after {outage}: {title}.", *was]
                self._mail(Mail(f"RECOVERED: {title} (after {outage})", lines))
            self._raised.pop(key, None)
            self._mailed.discard(key)
            if state is not None and state.active:
                self._cleared.add(key)
                state.active, state.notified, state.updated_at = False, False, now
                state.save()
        self._push(list(active.values()), now)
        return list(active.values())

    def _push(self, active: list[Condition], now: float) -> None:
        try:
            self.push.deliver(active, now)
        except Exception:
            log.exception("push alerts failed; collection goes on, retry next cycle")
