"""Query-parameter validation. Every failure is a 400 naming the parameter at fault."""

from __future__ import annotations

import re
from typing import NamedTuple

from flask import current_app, request
from peewee import Database

from api.errors import ApiError, BadParameter
from api.queries.common import area_row
from shared.timeutil import HOUR, is_date_only, next_local_midnight, now_ts, parse_query_time

AREA_IDS = range(1, 21)
# Whole numbers up to 19 digits, so every bound below 2**63 (SQLite's integers) can be met.
_INT = re.compile(r"^[+-]?\d{1,19}$")
MAX_ROW_ID = 2**62  # largest id a client may pass (before_id, substation ids)

# The exact text `start`/`end` accept, stated in /api/openapi.json as the parameters'
# pattern: a real calendar date of 1970-9998 (the range shared.timeutil converts), with
# an optional time and offset. One pattern for the document and the check, so a value the
# document calls valid is never refused for its form.
_YEAR = r"(?:19[7-9]\d|[2-8]\d{3}|9[0-8]\d{2}|99[0-8]\d|999[0-8])"
_LEAP_YEAR = (
    r"(?:19(?:7[26]|8[048]|9[26])|[2-9]\d(?:0[48]|[2468][048]|[13579][26])"
    r"|(?:[2468][048]|[3579][26])00)"
)
_MONTH_DAY = (
    r"(?:(?:0[1-9]|1[0-2])-(?:0[1-9]|1\d|2[0-8])|(?:0[13-9]|1[0-2])-(?:29|30)"
    r"|(?:0[13578]|1[02])-31)"
)
_TIME = (
    r"T(?:[01]\d|2[0-3]):[0-5]\d(?::[0-5]\d(?:\.\d{1,6})?)?"
    r"(?:Z|[+-](?:[01]\d|2[0-3]):[0-5]\d)?"
)
INSTANT_PATTERN = rf"^(?:{_YEAR}-{_MONTH_DAY}|{_LEAP_YEAR}-02-29)(?:{_TIME})?$"
_INSTANT = re.compile(INSTANT_PATTERN)
# A month YYYY-MM of 1970-9000 (from/to of the coincident peaks).
MONTH_PATTERN = r"^(19[7-9]\d|[2-8]\d{3}|9000)-(0[1-9]|1[0-2])$"


def shown(raw: str, limit: int = 40) -> str:
    """The client's value quoted in an error, cut to `limit` characters: says what was
    refused without echoing a whole hostile string back."""
    return f'"{raw[:limit]}..."' if len(raw) > limit else f'"{raw}"'


def _raw(name: str) -> str | None:
    """The parameter's text; None when absent. Present but empty is an error, not a default."""
    value = request.args.get(name)
    if value is None:
        return None
    if not value.strip():
        raise BadParameter(name, f"{name} is empty: give a value or leave the parameter out")
    return value.strip()


def integer(name: str, default: int | None, low: int, high: int) -> int | None:
    """An optional whole-number query parameter within [low, high]."""
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    if not _INT.match(raw):
        raise BadParameter(name, f"{name} must be a whole number ({low}-{high}), not {shown(raw)}")
    value = int(raw)
    if not low <= value <= high:
        raise BadParameter(name, f"{name} must be between {low} and {high}, not {value}")
    return value


def choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    raw = _raw(name)
    if raw is None or raw == "":
        return default
    if raw not in choices:
        raise BadParameter(name, f"{name} must be one of {', '.join(choices)}, not {shown(raw)}")
    return raw


def text(name: str, max_length: int = 100) -> str | None:
    raw = _raw(name)
    if raw is None or raw == "":
        return None
    if len(raw) > max_length:
        raise BadParameter(name, f"{name} is longer than {max_length} characters")
    return raw


def area(db: Database, value: str) -> tuple[int, str]:
    """(id, name) of the area named in the path: 1-20 and known to the database."""
    if not _INT.match(value or "") or int(value) not in AREA_IDS:
        raise BadParameter(
            "area_id", f"area_id must be a whole number from 1 to 20, not {shown(value or '')}"
        )
    found = area_row(db, int(value))
    if found is None:  # a valid id, just not collected here (yet): not found, not bad input
        raise ApiError(404, f"area {int(value)} is not known (yet) to this logger", "area_id")
    return found[0], found[1]


def area_id(db: Database, value: str) -> int:
    return area(db, value)[0]


def instant(name: str) -> int | None:
    """An ISO 8601 date or date-time; without an offset it is local time in TZ."""
    raw = _raw(name)
    if raw is None or raw == "":
        return None
    try:
        ts = parse_query_time(raw, current_app.config["ZONE"]) if _INSTANT.match(raw) else None
    except ValueError:
        ts = None
    if ts is None:
        raise BadParameter(
            name,
            f"{name} must be an ISO 8601 date or date-time, YYYY-MM-DD[THH:MM[:SS]]"
            f"[Z|+HH:MM|-HH:MM] in the years 1970-9998, not {shown(raw)}",
        )
    if name == "end" and is_date_only(raw):
        # A bare end date includes that whole local day.
        ts = next_local_midnight(ts, current_app.config["ZONE"])
    return ts


class Window(NamedTuple):
    start: int
    end: int  # exclusive


def window(
    *,
    span_name: str,
    span_unit: int,
    default_span: int,
    max_span: int,
    now: float | None = None,
) -> Window:
    """`start`/`end` (either may be left out) or a span back from now, never both.

    `span_name` is `hours` or `days`; `span_unit` its length in seconds. The range may be
    at most `max_span` units long and `end` must be after `start`.
    """
    now = now_ts() if now is None else now
    span = integer(span_name, None, 1, max_span)
    start, end = instant("start"), instant("end")
    if span is not None and (start is not None or end is not None):
        raise BadParameter(span_name, f"give either {span_name} or start/end, not both")
    if start is None and end is None:
        length = (span or default_span) * span_unit
        # Up to the end of the current hour, so the newest data is always inside.
        end = int(now) - int(now) % HOUR + HOUR
        return Window(end - length, end)
    if end is None:
        end = min(start + max_span * span_unit, int(now) - int(now) % HOUR + HOUR)
        end = max(end, start + 1)
    if start is None:
        start = end - default_span * span_unit
    if end <= start:
        raise BadParameter("end", "end must be after start")
    if end - start > max_span * span_unit:
        raise BadParameter(
            "end", f"the range from start to end may be at most {max_span} {span_name}"
        )
    return Window(start, end)
