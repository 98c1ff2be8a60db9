"""The alert conditions the collector evaluates after every cycle, from the database.

Each function returns the condition while it holds (None or [] otherwise); collector.alerts
records when conditions start and end and sends the emails and pushes.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from peewee import fn

from collector.outage import UnwrittenRun
from shared.config import Settings
from shared.db import is_sqlite_url, sqlite_path
from shared.models import HourlyLoad, ImportRun, Substation, SubstationReading
from shared.timeutil import iso

STALE_LOAD_SECONDS = 3 * 3600  # the newest hourly value has not advanced for this long
FROZEN_POLLS = 6  # identical values of every substation of an area, polls in a row


@dataclass
class Condition:
    key: str
    title: str
    since: float
    lines: list[str] = field(default_factory=list)


def duration_text(seconds: float) -> str:
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
            f"{duration_text(now - newest.first_seen)} ago; polls succeed but the data is frozen."
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
