"""KAMO's forecast series: every non-`Actual` areagrid series, kept per vintage.

Labels are not known in advance, so every other series is taken generically under the
label KAMO sent. A series that is malformed (a text value, a wrong length, a bad label)
fails only itself: it is left out with a warning, and the area's Actual and its other
series are still stored.

Storage keeps one row per distinct value of a target hour: a value is written only when it
differs from the latest stored vintage of its (area, series, target hour), so a forecast
that KAMO updates hourly costs one row per target and update, however often we poll.
"""

from __future__ import annotations

from collections.abc import Sequence

from collector.parse import MAX_AREA_LOAD_KW, LoadPoint, ParseError, _number
from shared.models import Forecast
from shared.timeutil import ResolvedLabel

MAX_SERIES_PER_AREA = 16  # KAMO shows one or two; more is a broken answer, not forecasts
MAX_LABEL_CHARS = 80
MAX_WARNINGS = 5  # per area and poll; a hostile answer with thousands of series gets a count
BATCH = 200

# area_id -> {label: points}
AreaForecasts = dict[str, list[LoadPoint]]


def is_actual(label: object) -> bool:
    return isinstance(label, str) and label.strip().lower() == "actual"


def parse_forecasts(
    series: Sequence[object], hours: Sequence[ResolvedLabel], area_id: int
) -> tuple[AreaForecasts, list[str]]:
    """The non-Actual series of one areagrid answer as {label: [(UTC hour, kW)]}.

    `series` is the answer's chartLineData and `hours` its resolved labels. Null values
    (hours a forecast does not cover) are skipped. Returns warnings for every series left out.
    """
    found: AreaForecasts = {}
    problems: list[str] = []
    for i, line in enumerate(series):
        if not isinstance(line, dict) or is_actual(line.get("label")):
            continue
        label = line.get("label")
        name = label if isinstance(label, str) else f"chartLineData[{i}]"
        try:
            if not isinstance(label, str) or not label.strip():
                raise ParseError("label is not a non-empty string")
            if len(label) > MAX_LABEL_CHARS:
                raise ParseError(f"label of {len(label)} characters")
            if label in found:
                raise ParseError("label repeated; kept the first series")
            if len(found) >= MAX_SERIES_PER_AREA:
                raise ParseError(f"over {MAX_SERIES_PER_AREA} forecast series")
            found[label] = _series_points(line.get("data"), hours, label)
        except Exception as exc:  # whatever is wrong with one series, it fails only itself
            reason = str(exc) if isinstance(exc, ParseError) else type(exc).__name__
            problems.append(f"series {name[:MAX_LABEL_CHARS]!r} left out: {reason}")
    warnings = [f"area {area_id}: {p}" for p in problems[:MAX_WARNINGS]]
    if len(problems) > MAX_WARNINGS:
        warnings.append(f"area {area_id}: {len(problems) - MAX_WARNINGS} more series left out")
    return found, warnings


def _series_points(data: object, hours: Sequence[ResolvedLabel], label: str) -> list[LoadPoint]:
    if not isinstance(data, list):
        raise ParseError("data is not a list")
    if len(data) != len(hours):
        raise ParseError(f"{len(data)} values for {len(hours)} labels")
    points = []
    for i, (value, hour) in enumerate(zip(data, hours, strict=True)):
        if value is None:
            continue
        kw = _number(value, f"{label}[{i}] ({hour.label})", MAX_AREA_LOAD_KW)
        if hour.ts is not None:  # a label in the spring gap names no hour: nothing to keep
            points.append(LoadPoint(hour.ts, kw))
    return points


def store_forecasts(slot_ts: int, forecasts: dict[int, AreaForecasts]) -> int:
    """Write the vintages that changed; returns how many rows were written.

    Compared with the latest vintage issued before this slot, so a second poll in the same
    slot replaces (or, when back to the earlier value, removes) what the first one wrote.
    Call inside the cycle's transaction.
    """
    wanted = {
        (area_id, label, p.ts): p.load_kw
        for area_id, by_label in forecasts.items()
        for label, points in by_label.items()
        for p in points
    }
    if not wanted:
        return 0
    before, in_slot = _latest_vintages(slot_ts, wanted)
    rows, drop = [], []
    for key, kw in wanted.items():
        if before.get(key) == kw:
            if key in in_slot:
                drop.append(key)
        elif in_slot.get(key) != kw:
            area_id, label, target = key
            rows.append(
                {
                    "area_id": area_id,
                    "series": label,
                    "target_ts": target,
                    "issued_ts": slot_ts,
                    "value_kw": kw,
                }
            )
    rows.sort(key=lambda r: (r["area_id"], r["series"], r["target_ts"]))  # key order
    for start in range(0, len(rows), BATCH):
        Forecast.insert_many(rows[start : start + BATCH]).on_conflict(
            conflict_target=[
                Forecast.area_id,
                Forecast.series,
                Forecast.target_ts,
                Forecast.issued_ts,
            ],
            preserve=[Forecast.value_kw],
        ).execute()
    for area_id, label, target in drop:
        Forecast.delete().where(
            (Forecast.area_id == area_id)
            & (Forecast.series == label)
            & (Forecast.target_ts == target)
            & (Forecast.issued_ts == slot_ts)
        ).execute()
    return len(rows)


def _latest_vintages(
    slot_ts: int, wanted: dict[tuple[int, str, int], float]
) -> tuple[dict[tuple[int, str, int], float], dict[tuple[int, str, int], float]]:
    """(latest value issued before the slot, value issued in the slot) per wanted key.

    One query; the IN lists on the key's first two columns and the range on the third let
    SQLite and PostgreSQL seek into each (area, series) range instead of scanning history.
    """
    areas = sorted({k[0] for k in wanted})
    labels = sorted({k[1] for k in wanted})
    low = min(k[2] for k in wanted)
    high = max(k[2] for k in wanted)
    query = (
        Forecast.select(
            Forecast.area_id,
            Forecast.series,
            Forecast.target_ts,
            Forecast.issued_ts,
            Forecast.value_kw,
        )
        .where(
            Forecast.area_id.in_(areas),
            Forecast.series.in_(labels),
            Forecast.target_ts.between(low, high),
        )
        .order_by(Forecast.area_id, Forecast.series, Forecast.target_ts, Forecast.issued_ts)
        .tuples()
    )
    before: dict[tuple[int, str, int], float] = {}
    in_slot: dict[tuple[int, str, int], float] = {}
    for area_id, label, target, issued, kw in query:
        key = (area_id, label, target)
        if key not in wanted:
            continue
        if issued < slot_ts:
            before[key] = kw  # ordered by issue time: the last one wins
        elif issued == slot_ts:
            in_slot[key] = kw
    return before, in_slot
