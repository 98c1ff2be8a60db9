"""OpenAPI paths and schemas of the real-time estimate and the peak watch (api.rest.peak)."""

from __future__ import annotations

from typing import Any

from api.rest.openapi_parts import AREA, END, START, get_operation, ok_reply, param
from api.rest.openapi_schemas import INT, INT_N, NUM, NUM_N, STR, STR_N, TIME, TIME_N
from api.rest.peak import KINDS, MAX_HISTORY


def _obj(required: dict[str, dict]) -> dict:
    return {"type": "object", "required": list(required), "properties": required}


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


ESTIMATE_PART = {
    "area_id": INT,
    "estimate_kw": NUM_N,
    "status": STR,
    "snapshot_time": TIME_N,
    "snapshot_kw": NUM_N,
    "ratio": NUM_N,
    "substations": INT,
    "stale": {"type": "boolean"},
}
WATCH = _obj(
    {
        "id": INT,
        "area_id": INT,
        "kind": {"type": "string", "enum": ["watch", "new-peak"]},
        "opened_at": TIME,
        "expected_hour": TIME,
        "expected_kw": NUM,
        "peak_kw": NUM,
        "peak_hour": TIME,
        "margin_percent": NUM,
        "source": STR,
        "closed_at": TIME_N,
        "outcome": STR_N,
        "actual_kw": NUM_N,
    }
)
ERROR_STATS = _obj({"hours": INT, "median_pct": NUM_N, "p95_pct": NUM_N})

SCHEMAS: dict[str, Any] = {
    "LoadNow": _obj(
        {
            **ESTIMATE_PART,
            "area_name": STR,
            "estimated_at": TIME,
            "stale_after_seconds": INT,
            "error": ERROR_STATS,
        }
    ),
    "PeakWatchHistory": _obj(
        {
            "area_id": INT_N,
            "kind": STR,
            "start": TIME,
            "end": TIME,
            "count": INT,
            "watches": _arr(WATCH),
        }
    ),
    "PeakWatchStatus": _obj(
        {
            "areas": _arr(INT),
            "hours": INT,
            "percent": NUM,
            "months": STR,
            "active": _arr(WATCH),
            "month_peaks": _arr(_obj({"area_id": INT, "peak_kw": NUM_N, "peak_hour": TIME_N})),
        }
    ),
}

PATHS: dict[str, Any] = {
    "/api/load/now/{area_id}": get_operation(
        "Real-time estimate of an area's load from the newest substation snapshot, calibrated "
        "against the hourly actuals; KAMO and the regions as the sum of their members, with "
        "`members`, `stand_ins` and `missing`; its error over the stored history",
        ok_reply("LoadNow"),
        [AREA],
    ),
    "/api/peak-watch/history": get_operation(
        "Peak watches and new-monthly-peak events, newest first, with their outcome",
        ok_reply("PeakWatchHistory"),
        [
            param(
                "area_id",
                "query",
                {"type": "integer", "minimum": 1, "maximum": 20},
                "Only this area (default: every area)",
            ),
            param("kind", "query", {"type": "string", "enum": list(KINDS)}, "Default all"),
            param(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY},
                "At most this many (default 200)",
            ),
            {**START, "description": "Opened at or after (default: 90 days before `end`)"},
            {**END, "description": "Opened before; after start (default: now)"},
        ],
        area=False,
    ),
}
