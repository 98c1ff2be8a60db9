"""The KAMO simulator's fault modes: their names, what each means, and the ones that distort a
well-formed answer's JSON. The modes that shape the HTTP answer itself (status, timing, bytes
on the wire) are dispatched by the request handler in kamo_sim_server.py and kamo_sim_hostile.py.
Standard library only.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # also importable by path, not only run
from kamo_sim_hostile import HOSTILE_MODES  # noqa: E402

# One line each, shown by --help; every mode must have one (a missing one fails at import).
_MEANINGS = {
    "timeout": "hold the answer 30 s (or until the simulator stops), then answer",
    "http500": "500 with KAMO's error JSON",
    "http404": "404 with KAMO's no-such-resource JSON",
    "html": "200 with an HTML error page instead of JSON",
    "truncated": "200 with only the first half of the JSON",
    "nulls": "every third substation's kw/kvar/pf null; areagrid: labels null",
    "wrong-shape": "substations keyed by name, not a list; areagrid: series a string",
    "unknown-fields": "extra fields on the answer and on every row or series",
    "unknown-series": "areagrid: Forecast and Day Ahead series around Actual",
    "forecast-relabel": "areagrid: the Forecast series changes its label every 6 hours",
    "text-series": "areagrid: an extra series whose values are text, not numbers",
    "trickle": "the real answer, one byte every --trickle-ms",
    "huge-body": "a --huge-mb answer with its Content-Length",
    "huge-chunked": "a --huge-mb answer, chunked, no length given",
    "redirect-loop": "302 between two addresses for ever",
    "http429": "429 Too Many Requests with Retry-After --retry-after",
    "reset": "half the answer, then a TCP reset",
    "huge-number": "one kW value a 400-digit integer (too big for a float)",
    "huger-number": "one kW value a 5,000-digit integer (over Python's int() limit)",
    "deep-nesting": "one kW value nested 100,000 arrays deep",
    "nan": "one kW value NaN",
    "infinity": "one kW value Infinity",
    "out-of-range": "one kW value 1e300",
}
FAULT_MODES = (
    "timeout",
    "http500",
    "http404",
    "html",
    "truncated",
    "nulls",
    "wrong-shape",
    "unknown-fields",
    "unknown-series",
    "forecast-relabel",
    "text-series",
    *HOSTILE_MODES,
)
FAULT_MEANINGS = {mode: _MEANINGS[mode] for mode in FAULT_MODES}
TIMEOUT_FAULT_SECONDS = 30.0
HTML_ERROR_PAGE = (
    b"<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n"
    b"<body><h1>Service Unavailable</h1><p>The service is temporarily unavailable. "
    b"Please try again later.</p></body></html>\n"
)


def fault_modes_help() -> str:
    """The fault modes, one per line with its meaning, for the command line's --help."""
    width = max(len(mode) for mode in FAULT_MODES) + 2
    lines = [f"  {mode:<{width}}{meaning}" for mode, meaning in FAULT_MEANINGS.items()]
    return "\n".join(lines)


def apply_fault(obj: dict, fault: str, extra_series: Callable[[], tuple[dict, dict]]) -> dict:
    """Distort a well-formed answer the way the fault mode describes.

    `extra_series` gives the Forecast and Day Ahead series; called only for unknown-series.
    """
    rows = obj.get("areaLoadData")
    series = obj.get("chartLineData")
    if fault == "nulls":
        if rows is not None:
            for row in rows[::3]:  # every third substation lost its readings
                row.update(kw=None, kvar=None, pf=None)
        else:
            obj["lineChartLabels"] = None
    elif fault == "wrong-shape":
        if rows is not None:
            obj["areaLoadData"] = {row["name"]: row for row in rows}
        else:
            obj["chartLineData"] = "Actual"
    elif fault == "unknown-fields":
        obj.update(region="x", updatedBy=3)
        for row in rows if rows is not None else series:
            row.update(region="x", updatedBy=3)
    elif fault == "unknown-series" and series is not None:
        forecast, day_ahead = extra_series()
        actual = [s for s in series if str(s.get("label", "")).lower() == "actual"]
        obj["chartLineData"] = [forecast, *actual, day_ahead]
    return obj
