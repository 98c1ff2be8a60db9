"""Alert conditions watched after every cycle, and their emails.

Each condition has a row in `alert_state` (it survives restarts): an alert email goes
out once when a condition starts, and one recovery email (with the outage length) when
it ends. A failing SMTP server is logged and retried next cycle; it never stops the
collector. With email off, the state is still kept, so the API can show it.
Push targets (collector.push) get the same conditions, tracked per target.
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peewee import fn

from collector.notify import Mail, NotifyError, send_mail
from collector.outage import UnwrittenRun
from collector.push import PushAlerts
from shared.config import Settings
from shared.db import is_sqlite_url, sqlite_path
from shared.models import AlertState, HourlyLoad, ImportRun, Substation, SubstationReading
from shared.timeutil import iso, now_ts

log = logging.getLogger("collector")

STALE_LOAD_SECONDS = 3 * 3600  # the newest hourly value has not advanced for this long
FROZEN_POLLS = 6  # identical values of every substation of an area, polls in a row


@dataclass
class Condition:
    key: str
    title: str
    since: float
    lines: list[str] = field(default_factory=list)


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    return " ".join(parts + [f"{minutes} min"])


def _errors(run: ImportRun) -> dict[str, str]:
    try:
        return json.loads(run.area_errors or "{}")
    except ValueError:
        return {}


def failing_collection(
    settings: Settings, unwritten: Sequence[UnwrittenRun] = ()
) -> Condition | None:
    """Failed runs in a row, counting those a write error kept in memory (they come after
    every stored run, and during a disk-full outage they are the only record)."""
    last_good = (
        ImportRun.select(fn.MAX(ImportRun.id)).where(ImportRun.status.in_(["success", "partial"]))
    ).scalar() or 0
    streak = (
        ImportRun.select()
        .where((ImportRun.id > last_good) & (ImportRun.status == "failed"))
        .order_by(ImportRun.id.desc())
    )
    stored = streak.count()
    count = stored + len(unwritten)
    if count < settings.alert_after_failures:
        return None
    zone = settings.tz
    since = ImportRun.select(fn.MIN(ImportRun.started_at)).where(ImportRun.id > last_good).scalar()
    if since is None:
        since = unwritten[0].started_at
    if unwritten:
        last = unwritten[-1]
        latest_at, latest_msg, area_errors = last.started_at, last.message, {}
    else:
        latest = streak.first()
        latest_at, latest_msg = latest.started_at, latest.message or "every area failed"
        area_errors = _errors(latest)
    lines = [
        f"{count} collection cycles in a row have failed, since {iso(since, zone)}.",
        f"Last failure: {iso(latest_at, zone)}: {latest_msg}",
    ]
    if unwritten:
        lines.append(f"{len(unwritten)} of them could not be written to the database yet.")
    lines += [f"Area {area}: {msg}" for area, msg in sorted(area_errors.items())]
    return Condition("failures", f"collection failing ({count} cycles)", since, lines)


def failing_areas(settings: Settings) -> list[Condition]:
    """The same area failed in each of the last N runs while the others came in."""
    runs = list(
        ImportRun.select()
        .where(ImportRun.status != "running")
        .order_by(ImportRun.id.desc())
        .limit(settings.alert_after_failures)
    )
    if len(runs) < settings.alert_after_failures or any(r.status != "partial" for r in runs):
        return []
    common = set.intersection(*(set(_errors(r)) for r in runs))
    since = runs[-1].started_at
    return [
        Condition(
            f"area:{area}",
            f"area {area} failing in every poll",
            since,
            [
                f"Area {area} failed in the last {len(runs)} polls while other areas worked "
                f"(since {iso(since, settings.tz)}): KAMO may have changed its answer.",
                f"Latest error: {_errors(runs[0])[area]}",
            ],
        )
        for area in sorted(common)
    ]


def stale_load(settings: Settings, now: float) -> Condition | None:
    newest = HourlyLoad.select().order_by(HourlyLoad.ts.desc()).first()
    if newest is None or now - newest.first_seen < STALE_LOAD_SECONDS:
        return None
    return Condition(
        "stale-load",
        "KAMO's hourly load is not advancing",
        newest.first_seen,
        [
            f"The newest hourly load ({iso(newest.ts, settings.tz)}) was first seen "
            f"{_duration(now - newest.first_seen)} ago; polls succeed but the data is frozen."
        ],
    )


def frozen_areas(settings: Settings) -> list[Condition]:
    slots = [
        row.ts
        for row in SubstationReading.select(SubstationReading.ts)
        .distinct()
        .order_by(SubstationReading.ts.desc())
        .limit(FROZEN_POLLS)
    ]
    if len(slots) < FROZEN_POLLS:
        return []
    values: dict[int, dict[int, set]] = {}
    query = (
        SubstationReading.select(
            Substation.area_id,
            SubstationReading.substation_id,
            SubstationReading.kw,
            SubstationReading.kvar,
            SubstationReading.pf_centi,
            SubstationReading.pf_exact,
        )
        .join(Substation, on=(Substation.id == SubstationReading.substation_id))
        .where(SubstationReading.ts.in_(slots))
        .tuples()
    )
    counts: dict[tuple[int, int], int] = {}
    for area_id, sub_id, *reading in query:
        values.setdefault(area_id, {}).setdefault(sub_id, set()).add(tuple(reading))
        counts[(area_id, sub_id)] = counts.get((area_id, sub_id), 0) + 1
    frozen = [
        area
        for area, subs in values.items()
        if all(len(v) == 1 and counts[(area, s)] == FROZEN_POLLS for s, v in subs.items())
    ]
    since = min(slots)
    return [
        Condition(
            f"frozen:{area}",
            f"area {area} substation values frozen",
            since,
            [
                f"Every substation of area {area} returned identical values in the last "
                f"{FROZEN_POLLS} polls (since {iso(since, settings.tz)})."
            ],
        )
        for area in sorted(frozen)
    ]


def disk_path(settings: Settings) -> Path:
    """The folder of the SQLite file (DATA_DIR on PostgreSQL), or its nearest existing parent."""
    if is_sqlite_url(settings.database_url):
        path = sqlite_path(settings.database_url).resolve().parent
    else:
        path = settings.data_dir.resolve()
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def low_disk(settings: Settings, now: float) -> Condition | None:
    path = disk_path(settings)
    free_mb = shutil.disk_usage(path).free / 2**20
    if free_mb >= settings.low_disk_mb:
        return None
    return Condition(
        "disk",
        "low disk space",
        now,
        [f"Only {free_mb:.0f} MB free under {path} (alert below {settings.low_disk_mb} MB)."],
    )


def current_conditions(
    settings: Settings, now: float, unwritten: Sequence[UnwrittenRun] = ()
) -> list[Condition]:
    found = [
        failing_collection(settings, unwritten),
        stale_load(settings, now),
        low_disk(settings, now),
    ]
    found += failing_areas(settings) + frozen_areas(settings)
    return [c for c in found if c is not None]


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
            outage = _duration(now - since)
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
