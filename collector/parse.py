"""Validate KAMO's payloads and turn them into plain rows.

Tolerant where KAMO may grow (unknown fields and series are ignored), strict where a
value would be wrong (a wrong shape, a null where a number belongs, a body that is not
JSON). Any failure raises ParseError with a precise reason, and the caller drops the
whole area: nothing half-parsed is ever written.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

from shared.timeutil import LabelError, ResolvedLabel, resolve_kamo_labels


class ParseError(ValueError):
    pass


# Physical bounds, far above anything KAMO has sent: its biggest aggregate (all members) is a few
# thousand MW, i.e. a few million kW, and its biggest substation about 25,000 kW. A value beyond
# these is a broken answer, not a load, and storing it would wreck every peak and average.
MAX_AREA_LOAD_KW = 50_000_000.0  # 50 GW: over ten times KAMO's whole system
MAX_SUBSTATION_KW = 5_000_000.0  # 5 GW: no single substation comes near; also bounds kVAR
MAX_AREA_ID = 1_000_000  # KAMO's are 1-20; a bigger one is garbage (and may not fit SQLite)
MAX_NAME_CHARS = 200  # real names are under 30 characters
MAX_NUMBER_DIGITS = 30  # a longer JSON integer is no reading (and int() refuses > 4,300 digits)


@dataclass(frozen=True)
class AreaInfo:
    id: int
    name: str
    abbreviation: str


@dataclass(frozen=True)
class LoadPoint:
    ts: int  # UTC epoch seconds of the hour KAMO's label names
    load_kw: float


@dataclass(frozen=True)
class SubstationRow:
    name: str
    kw: float
    kvar: float
    pf: float
    quality: bool
    quality_now: bool


@dataclass(frozen=True)
class AreaGrid:
    points: list[LoadPoint]
    warnings: list[str]
    # Every series as sent and the resolved hours, for the forecasts (collector.forecasts).
    lines: list[Any] = field(default_factory=list)
    hours: list[ResolvedLabel] = field(default_factory=list)


def decode_json(body: bytes, content_type: str = "") -> Any:
    """Bytes to JSON, naming what came instead (HTML error pages arrive with status 200)."""
    head = body[:200].lstrip().lower()
    if head.startswith((b"<!doctype", b"<html", b"<")) or "html" in content_type.lower():
        raise ParseError(f"HTML instead of JSON (Content-Type {content_type or 'none'})")
    if not body.strip():
        raise ParseError("empty body")
    try:
        return json.loads(
            body, parse_int=_bounded_int, parse_float=_finite_float, parse_constant=_no_constant
        )
    except UnicodeDecodeError:
        raise ParseError("body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ParseError(f"invalid JSON: {exc.msg} at char {exc.pos} of {len(body)}") from None
    except RecursionError:
        raise ParseError("invalid JSON: nested too deeply") from None


def _bounded_int(text: str) -> int:
    digits = len(text.lstrip("-"))
    if digits > MAX_NUMBER_DIGITS:
        raise ParseError(f"invalid JSON: a number of {digits} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):  # 1e999 overflows to inf
        raise ParseError(f"invalid JSON: number {text[:40]} is out of range")
    return value


def _no_constant(name: str) -> None:
    # Python's json accepts NaN and Infinity; JSON does not, and neither is a reading.
    raise ParseError(f"invalid JSON: {name} is not a number")


def _number(value: Any, where: str, bound: float) -> float:
    """A finite number whose magnitude is at most `bound`."""
    # bool is an int subclass in Python, but `true` is not a kW figure.
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ParseError(f"{where}: expected a number, got {_preview(value)}")
    try:
        number = float(value)
    except OverflowError:  # an int too big for a float
        raise ParseError(f"{where}: number out of range") from None
    if not math.isfinite(number):
        raise ParseError(f"{where}: {value} is not a finite number")
    if abs(number) > bound:
        raise ParseError(f"{where}: {number:g} is outside -{bound:.10g}..{bound:.10g}")
    return number


def _preview(value: Any) -> str:
    """A short rendering of an unexpected value (never dumps a large or deep structure)."""
    if value is None or isinstance(value, bool | str):
        return json.dumps(value)[:40]
    return _json_kind(value)


def _field(obj: dict, key: str, kind: type | tuple, where: str) -> Any:
    if key not in obj:
        raise ParseError(f"{where}: missing {key!r}")
    value = obj[key]
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ParseError(f"{where}.{key}: expected {_kind_name(kind)}, got {_json_kind(value)}")
    return value


def _kind_name(kind: type | tuple) -> str:
    names = {list: "a list", dict: "an object", str: "a string", int: "an integer", bool: "bool"}
    return names.get(kind, str(kind))


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "bool", int: "number", float: "number", str: "a string", list: "a list"}.get(
        type(value), "an object"
    )


def _check_id(payload: dict, area_id: int) -> None:
    found = _field(payload, "Id", int, "response")
    if found != area_id:
        raise ParseError(f"response Id is {found}, asked for area {area_id}")


def parse_area_list(payload: Any) -> list[AreaInfo]:
    if not isinstance(payload, list) or not payload:
        raise ParseError(f"area list: expected a non-empty list, got {_json_kind(payload)}")
    areas = []
    for i, item in enumerate(payload):
        where = f"area[{i}]"
        if not isinstance(item, dict):
            raise ParseError(f"{where}: expected an object, got {_json_kind(item)}")
        area_id = _field(item, "id", int, where)
        if not 0 < area_id <= MAX_AREA_ID:
            raise ParseError(f"{where}.id: {area_id} is not an id from 1 to {MAX_AREA_ID}")
        # PostgreSQL text cannot hold NUL; dropped here so both backends store the same name.
        name = _field(item, "name", str, where).replace("\x00", "").strip()
        abbreviation = _field(item, "abrev", str, where).replace("\x00", "").strip()
        areas.append(AreaInfo(area_id, name or f"Area {area_id}", abbreviation or str(area_id)))
    if len({a.id for a in areas}) != len(areas):
        raise ParseError("area list: duplicate ids")
    return areas


def parse_areagrid(payload: Any, area_id: int) -> AreaGrid:
    """The `Actual` series as (UTC hour, kW) points; future hours (null) are left out."""
    if not isinstance(payload, dict):
        raise ParseError(f"areagrid: expected an object, got {_json_kind(payload)}")
    _check_id(payload, area_id)
    labels = _field(payload, "lineChartLabels", list, "areagrid")
    series = _field(payload, "chartLineData", list, "areagrid")
    actual = None
    for i, line in enumerate(series):
        if not isinstance(line, dict):
            raise ParseError(f"chartLineData[{i}]: expected an object, got {_json_kind(line)}")
        label = line.get("label")
        if isinstance(label, str) and label.strip().lower() == "actual":
            if actual is not None:
                raise ParseError("chartLineData: more than one Actual series")
            actual = line
    if actual is None:
        raise ParseError("chartLineData: no Actual series")
    data = _field(actual, "data", list, "Actual")
    if len(data) != len(labels):
        raise ParseError(f"Actual has {len(data)} values for {len(labels)} labels")
    for i, label in enumerate(labels):
        if not isinstance(label, str):
            raise ParseError(f"lineChartLabels[{i}]: expected a string, got {_json_kind(label)}")
    try:
        resolved = resolve_kamo_labels(labels)
    except LabelError as exc:
        raise ParseError(str(exc)) from None

    points, warnings = [], []
    for i, (value, hour) in enumerate(zip(data, resolved, strict=True)):
        if value is None:
            continue
        kw = _number(value, f"Actual[{i}] ({hour.label})", MAX_AREA_LOAD_KW)
        if hour.ts is None:
            warnings.append(f"area {area_id}: skipped {kw:g} kW, {hour.problem}")
            continue
        points.append(LoadPoint(hour.ts, kw))
    return AreaGrid(points, warnings, series, resolved)


def parse_loadtable(payload: Any, area_id: int) -> tuple[list[SubstationRow], list[str]]:
    """Current substation values of one area, and warnings (a repeated name keeps the first)."""
    if not isinstance(payload, dict):
        raise ParseError(f"arealoadtable: expected an object, got {_json_kind(payload)}")
    _check_id(payload, area_id)
    items = _field(payload, "areaLoadData", list, "arealoadtable")
    rows, seen, warnings = [], set(), []
    for i, item in enumerate(items):
        where = f"areaLoadData[{i}]"
        if not isinstance(item, dict):
            raise ParseError(f"{where}: expected an object, got {_json_kind(item)}")
        name = _field(item, "name", str, where)
        if not name.strip():
            raise ParseError(f"{where}: empty substation name")
        if len(name) > MAX_NAME_CHARS:
            raise ParseError(f"{where}: substation name of {len(name)} characters")
        if "\x00" in name:  # a key PostgreSQL cannot store: this area fails on either backend
            raise ParseError(f"{where}: NUL character in a substation name")
        where = f"{where} ({name})"
        flags = []
        for key in ("quality", "qualityNow"):
            value = item.get(key, False)
            if not isinstance(value, bool):
                raise ParseError(f"{where}.{key}: expected bool, got {_json_kind(value)}")
            flags.append(value)
        row = SubstationRow(
            name=name,
            kw=_number(item.get("kw"), f"{where}.kw", MAX_SUBSTATION_KW),
            kvar=_number(item.get("kvar"), f"{where}.kvar", MAX_SUBSTATION_KW),
            pf=_number(item.get("pf"), f"{where}.pf", 1.0),
            quality=flags[0],
            quality_now=flags[1],
        )
        if name in seen:
            warnings.append(f"area {area_id}: substation {name!r} listed twice, kept the first")
            continue
        seen.add(name)
        rows.append(row)
    return rows, warnings
