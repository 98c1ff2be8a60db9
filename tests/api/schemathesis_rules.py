"""Rules between query parameters, which OpenAPI 3.0 cannot state (the document states them
in the parameters' descriptions). Positive cases that break one are not generated: the
server's 400 for them is documented, so it is not a "schema-valid request rejected".

Each rule reads its limits from /api/openapi.json (or the table the description names),
so a limit changed in one place is still checked against the other.
"""

from __future__ import annotations

import math
import re
from typing import Any
from zoneinfo import ZoneInfo

from api.rest.substations import RESOLUTIONS
from shared.timeutil import HOUR, is_date_only, next_local_midnight, parse_query_time

SPAN_UNITS = {"hours": HOUR, "days": 86400}
COINCIDENT = "/api/load/coincident-peaks"
SUBSTATION_HISTORY = "/api/substations/history/{area_id}"
_MAX_MONTHS = re.compile(r"at most (\d+) months")
_MAX_POINTS = re.compile(r"at most (\d+) points")


class DocumentedRules:
    """`breaks(case)`: True when a case's query breaks a rule the descriptions state."""

    def __init__(self, document: dict, zone: ZoneInfo, poll_seconds: int, most_series: int):
        self.zone, self.poll_seconds, self.most_series = zone, poll_seconds, most_series
        self.params = {
            path: {p["name"]: p for p in item["get"].get("parameters", [])}
            for path, item in document["paths"].items()
            if "get" in item
        }
        # A limit the description does not state is not a documented rule: nothing is skipped.
        to = self.params[COINCIDENT]["to"]["description"]
        self.max_months = _stated(_MAX_MONTHS, to)
        resolution = self.params[SUBSTATION_HISTORY]["resolution"]["description"]
        self.max_points = _stated(_MAX_POINTS, resolution)

    def breaks(self, case: Any) -> bool:
        query = dict(case.query or {})
        path = case.operation.path
        if path == COINCIDENT:
            return self._months_break(query)
        known = self.params.get(path, {})
        span_name = next((name for name in SPAN_UNITS if name in known), None)
        if span_name is None:  # start/end without a span (peak-watch history): "after start"
            start, end = self._instant(query.get("start")), self._instant(query.get("end"), True)
            return start is not None and end is not None and end <= start
        if span_name in query and ("start" in query or "end" in query):
            return True  # "not with start/end"
        unit = SPAN_UNITS[span_name]
        most = known[span_name]["schema"]["maximum"] * unit
        start, end = self._instant(query.get("start")), self._instant(query.get("end"), True)
        if start is not None and end is not None and not 0 < end - start <= most:
            return True  # "after start, and the range at most the span's maximum"
        if path == SUBSTATION_HISTORY:
            return self._too_many_points(query, span_name, unit, most, start, end)
        return False

    def _months_break(self, query: dict) -> bool:
        first, last = _month(query.get("from")), _month(query.get("to"))
        if first is None or last is None:
            return False
        return not 1 <= last - first + 1 <= self.max_months

    def _too_many_points(self, query, span_name, unit, most, start, end) -> bool:
        """An explicit resolution may give at most max_points (upper bound: the area with
        the most substations, and a start-only range taken at its longest)."""
        choice = query.get("resolution", "auto")
        if choice == "auto":
            return False
        if span_name in query:
            span = int(query[span_name]) * unit
        elif start is not None and end is not None:
            span = end - start
        elif start is not None:
            span = most
        else:
            span = 24 * HOUR  # the default window
        series = 1 if "substation" in query else self.most_series
        step = RESOLUTIONS.get(choice, self.poll_seconds)
        return math.ceil(span / step) * series > self.max_points

    def _instant(self, text: str | None, is_end: bool = False) -> int | None:
        try:
            ts = parse_query_time(text or "", self.zone)
        except ValueError:  # absent, or unreadable: that is no rule between parameters
            return None
        return next_local_midnight(ts, self.zone) if is_end and is_date_only(text) else ts


def _stated(limit: re.Pattern, description: str) -> float:
    found = limit.search(description)
    return int(found.group(1)) if found else math.inf


def _month(text: str | None) -> int | None:
    try:
        year, month = (text or "").split("-")
        return int(year) * 12 + int(month)
    except ValueError:
        return None
