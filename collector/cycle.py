"""One import cycle: fetch everything, parse per area, store the good areas, log one line."""

from __future__ import annotations

import logging
import statistics
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from peewee import Database

from collector.client import Deadline, Fetched, FetchError, Interrupted, KamoClient
from collector.forecasts import parse_forecasts
from collector.ingest import Counters, CycleData, store_cycle, stored_areas
from collector.outage import UnwrittenRun, WriteFailed, is_write_error, write_error_cause
from collector.parse import (
    AreaInfo,
    ParseError,
    decode_json,
    parse_area_list,
    parse_areagrid,
    parse_loadtable,
)
from collector.retention import prune_readings
from collector.runs import INTERRUPTED, finish_run, start_run, status_for
from shared.config import cycle_deadline_seconds
from shared.models import AGGREGATE_AREA_IDS, ImportRun
from shared.timeutil import CLOCK_SKEW_LIMIT, clock_label, now_ts, slot_start

log = logging.getLogger("collector")


@dataclass
class CycleResult:
    run_id: int
    status: str
    started_at: float
    duration: float
    areas_ok: int = 0
    areas_total: int = 0
    counters: Counters = field(default_factory=Counters)
    area_errors: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    clock_skew: float | None = None


def _decode(outcome: Fetched | FetchError) -> object:
    if isinstance(outcome, FetchError):
        raise ParseError(str(outcome))
    return decode_json(outcome.body, outcome.content_type)


def measure_clock_skew(responses: list[Fetched]) -> float | None:
    """Median of (KAMO's Date - our clock); positive means our clock is behind."""
    offsets = [r.server_date - r.received_at for r in responses if r.server_date is not None]
    return statistics.median(offsets) if offsets else None


class _AreaFailed(Exception):
    pass


@contextmanager
def _blame(endpoint: str) -> Iterator[None]:
    """Prefix a failure with the endpoint that caused it: `arealoadtable: timeout`.

    Any exception from decoding, parsing or validating one answer fails that area only;
    the others are still stored (a 400-digit number once failed the whole cycle)."""
    try:
        yield
    except ParseError as exc:
        raise _AreaFailed(f"{endpoint}: {exc}") from None
    except Exception as exc:
        raise _AreaFailed(f"{endpoint}: {_unexpected(exc)}") from None


def _unexpected(exc: Exception) -> str:
    return f"unexpected {type(exc).__name__}: {str(exc)[:120]}"


class Cycle:
    """Runs cycles against one database and one KAMO client."""

    def __init__(
        self,
        db: Database,
        client: KamoClient,
        interval_minutes: int,
        retention_days: int | None = None,
        deadline_seconds: float | None = None,
    ) -> None:
        self.db = db
        self.client = client
        self.interval = interval_minutes
        self.retention_days = retention_days
        # Fetching stops at this budget, so a slow KAMO can never make the next slot late.
        self.deadline_seconds = (
            cycle_deadline_seconds(interval_minutes)
            if deadline_seconds is None
            else deadline_seconds
        )
        # Told when the cycle moves from fetching to its write (the heartbeat shows it).
        self.on_phase: Callable[[str], None] | None = None
        # Called first inside each write transaction: raises when this collector may no
        # longer write (it lost the PostgreSQL writer lock), so the transaction rolls back.
        self.guard: Callable[[], None] | None = None

    def _guard(self) -> None:
        if self.guard is not None:
            self.guard()

    def _area_list(
        self, errors: dict[str, str], warnings: list[str], deadline: Deadline | None = None
    ) -> list[AreaInfo]:
        try:
            return parse_area_list(_decode(self.client.get_many(["area"], deadline)["area"]))
        except Interrupted:
            raise
        except Exception as exc:  # any trouble with the list: fall back to the known areas
            if not isinstance(exc, ParseError):
                exc = ParseError(_unexpected(exc))
            known = stored_areas()
            if not known:
                errors["area"] = f"area list: {exc}"
            else:
                warnings.append(f"area list: {exc}; polled the {len(known)} known areas")
            return known

    def run(self, trigger: str, request_ids: Sequence[str] = ()) -> CycleResult:
        """One cycle. Raises WriteFailed (with the attempt to record later) when the database
        refuses the run's writes: disk full, read-only file, I/O error."""
        started = now_ts()
        slot = slot_start(started, self.interval)
        try:
            with self.db.atomic():
                self._guard()
                run = start_run(trigger, slot, request_ids)
        except Exception as exc:
            if not is_write_error(exc):
                raise
            cause = write_error_cause(exc)
            attempt = UnwrittenRun(
                trigger, slot, started, now_ts(), f"not recorded: {cause}", list(request_ids)
            )
            raise WriteFailed(attempt, cause) from None
        errors: dict[str, str] = {}
        warnings: list[str] = []
        deadline = Deadline.after(self.deadline_seconds)
        try:
            areas = self._area_list(errors, warnings, deadline)
            data, fetched = self._fetch_areas(areas, slot, errors, warnings, deadline)
        except Interrupted:
            with self.db.atomic():
                finish_run(run, status="failed", message=INTERRUPTED)
            raise
        except Exception as exc:  # a bug: record it so the run never stays "running"
            self._record_crash(run, exc)
            raise

        skew = measure_clock_skew(fetched)
        if skew is not None and abs(skew) > CLOCK_SKEW_LIMIT:
            side = "behind" if skew > 0 else "ahead of"
            warnings.append(f"clock: this machine's clock is {abs(skew):.0f} s {side} KAMO's")
        ok = len(data.loads)
        status = status_for(ok, len(areas)) if areas else "failed"
        # What the run row records and the caller gets back, stated once.
        outcome = {"areas_total": len(areas), "areas_ok": ok, "area_errors": errors}
        if self.on_phase is not None:
            self.on_phase("writing")
        try:
            with self.db.atomic():
                self._guard()
                counters = store_cycle(data, int(started))
                pruned = prune_readings(self.retention_days, slot)
                finish_run(
                    run,
                    status=status,
                    counters=counters,
                    warnings=warnings,
                    clock_skew_seconds=skew,
                    **outcome,
                )
        except Exception as exc:  # the data transaction rolled back (disk full, locked, ...)
            self._record_crash(run, exc)
            if not is_write_error(exc):
                raise
            cause = write_error_cause(exc)
            attempt = UnwrittenRun(
                trigger, slot, started, now_ts(), f"error: {cause}", list(request_ids), run.id
            )
            raise WriteFailed(attempt, cause) from None
        result = CycleResult(
            run_id=run.id,
            status=status,
            started_at=started,
            duration=run.finished_at - started,
            counters=counters,
            warnings=warnings,
            clock_skew=skew,
            **outcome,
        )
        for warning in warnings:
            log.warning(warning)
        if pruned:
            log.info("removed %d raw readings older than %d days", pruned, self.retention_days)
        return result

    def _record_crash(self, run: ImportRun, exc: Exception) -> bool:
        """Close the run as failed, best effort: the database itself may be what failed
        (then the caller keeps the attempt and the daemon writes it later)."""
        cause = write_error_cause(exc) if is_write_error(exc) else f"{type(exc).__name__}: {exc}"
        try:
            with self.db.atomic():
                finish_run(run, status="failed", message=f"error: {cause}")
        except Exception as again:
            log.debug("could not record run %s as failed: %s", run.id, write_error_cause(again))
            return False
        return True

    def _fetch_areas(
        self,
        areas: list[AreaInfo],
        slot: int,
        errors: dict[str, str],
        warnings: list[str],
        deadline: Deadline | None = None,
    ) -> tuple[CycleData, list[Fetched]]:
        paths = [f"areagrid/{a.id}" for a in areas]
        paths += [f"arealoadtable/{a.id}" for a in areas if a.id not in AGGREGATE_AREA_IDS]
        # A Retry-After never defers a path past the next slot: that poll must happen.
        outcomes = self.client.get_many(paths, deadline, defer_limit=slot + self.interval * 60)
        fetched = [o for o in outcomes.values() if isinstance(o, Fetched)]
        data = CycleData(slot_ts=slot, areas=areas)
        for area in areas:
            try:
                with _blame("areagrid"):
                    grid = parse_areagrid(_decode(outcomes[f"areagrid/{area.id}"]), area.id)
                rows, row_warnings = [], []
                if area.id not in AGGREGATE_AREA_IDS:
                    with _blame("arealoadtable"):
                        table = _decode(outcomes[f"arealoadtable/{area.id}"])
                        rows, row_warnings = parse_loadtable(table, area.id)
            except _AreaFailed as exc:
                errors[str(area.id)] = str(exc)
                continue
            data.loads[area.id] = grid.points
            # A bad forecast series fails only itself: it comes back as a warning.
            forecasts, forecast_warnings = parse_forecasts(grid.lines, grid.hours, area.id)
            if forecasts:
                data.forecasts[area.id] = forecasts
            warnings.extend(forecast_warnings)
            if rows:
                data.substations[area.id] = rows
            warnings.extend(grid.warnings + row_warnings)
        return data, fetched


def format_cycle_line(
    result: CycleResult, trigger: str, zone: ZoneInfo, next_slot: float | None
) -> str:
    """The one line per cycle that `docker logs` shows (the log stamp is the cycle start)."""
    word = {"success": "ok"}.get(result.status, result.status)
    c = result.counters
    parts = [
        f"import {trigger} {word} {result.duration:.1f}s",
        f"areas {result.areas_ok}/{result.areas_total}",
        f"load +{c.load_new} new {c.load_revised} revised {c.load_unchanged} same",
        f"readings +{c.readings_stored}",
    ]
    if c.forecasts_stored:
        parts.append(f"forecasts +{c.forecasts_stored}")
    if next_slot is not None:
        parts.append(f"next {clock_label(next_slot, zone)}")
    if result.area_errors:
        failed = ", ".join(f"{area} ({_short(msg)})" for area, msg in _sorted(result.area_errors))
        parts.append(f"failed: {failed}")
    if result.warnings:
        parts.append(f"warnings {len(result.warnings)}")
    return " ".join(parts)


def _sorted(errors: dict[str, str]) -> list[tuple[str, str]]:
    """Area ids in numeric order, then named sources such as the area list."""
    return sorted(
        errors.items(), key=lambda kv: (0, int(kv[0]), "") if kv[0].isdigit() else (1, 0, kv[0])
    )


def _short(message: str, limit: int = 60) -> str:
    return message if len(message) <= limit else message[: limit - 1] + "…"
