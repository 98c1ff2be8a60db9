"""GET /api/openapi.json: the OpenAPI 3 description of every endpoint, kept beside the code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from api import __version__
from api.openapi_schemas import SCHEMAS
from api.params import INSTANT_PATTERN, MAX_ROW_ID, MONTH_PATTERN
from api.routes_export import MAX_DAYS
from api.routes_load import MAX_COINCIDENT_MONTHS, MAX_HISTORY_HOURS, MAX_PEAK_PERIODS
from api.routes_substations import MAX_POINTS

bp = Blueprint("openapi", __name__)

JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _error(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


UNAVAILABLE = _error("The database cannot be read yet (missing, or another schema version)")
BAD = _error("A parameter is invalid; `parameter` names it")
AREA_UNKNOWN = _error("The area is not known (yet) to this logger")


def _ok(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref(schema)}}}


def _param(name: str, where: str, schema: dict, description: str, required=False) -> dict:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


AREA = _param("area_id", "path", {"type": "integer", "minimum": 1, "maximum": 20}, "KAMO area id")
AREA_OR_ALL = _param(
    "area_id",
    "path",
    {
        "oneOf": [
            {"type": "integer", "minimum": 1, "maximum": 20},
            {"type": "string", "enum": ["all"]},
        ]
    },
    "KAMO area id, or `all`",
)
INSTANT = {
    "type": "string",
    "pattern": INSTANT_PATTERN,
    "description": "ISO 8601 date YYYY-MM-DD of 1970-9998, optionally with a time "
    "THH:MM[:SS[.ffffff]] and Z or an offset +HH:MM / -HH:MM",
}
# OpenAPI cannot state rules between parameters; the descriptions do, and the server
# answers 400 naming `end` (or the span parameter) when a combination breaks them.
START = _param(
    "start", "query", INSTANT, "Start (inclusive); without an offset it is local time in TZ"
)
END = _param(
    "end",
    "query",
    INSTANT,
    "End (exclusive; a bare date includes that day). With start: after start, and the "
    "range at most the span parameter's maximum",
)


def _hours(default: int) -> dict:
    return _param(
        "hours",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY_HOURS},
        f"Hours back from the end of the current hour (default {default}); not with start/end",
    )


def _get(summary: str, ok: dict, parameters: list, *, area=True, extra: dict | None = None):
    responses = {"200": ok, "400": BAD, "503": UNAVAILABLE}
    if area:
        responses["404"] = AREA_UNKNOWN
    responses.update(extra or {})
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


AUTH_ERRORS = {
    "401": _error("Missing or wrong X-API-Key"),
    "503": _error("API key not configured, or the database cannot be read"),
}
CSV_OK = {
    "description": "Streamed export (attachment)",
    "content": {
        "text/csv": {"schema": {"type": "string"}},
        JSON: {"schema": {"type": "array", "items": {"type": "object"}}},
        "application/x-ndjson": {"schema": {"type": "string"}},
    },
}
EXPORT_PARAMS = [
    AREA_OR_ALL,
    _param("format", "query", {"type": "string", "enum": ["csv", "json", "ndjson"]}, "Default csv"),
    _param(
        "days",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
        "Days back from the end of the current hour (default 7); not with start/end",
    ),
    START,
    END,
]


def _export(summary: str) -> dict:
    return {
        "get": {
            "summary": summary,
            "security": [{"ApiKey": []}],
            "parameters": EXPORT_PARAMS,
            "responses": {"200": CSV_OK, "400": BAD, "404": AREA_UNKNOWN, **AUTH_ERRORS},
        }
    }


PATHS: dict[str, Any] = {
    "/api/health": {
        "get": {
            "summary": "Whether the API can read the database, and the collector state",
            "description": "200 while the database is readable; `status` is `degraded`, with "
            "`reasons`, when the collector is stuck (a cycle past its deadline, or no cycle "
            "finished for two slots) or its heartbeat stopped. With `strict=1` a degraded "
            "state answers 503, for uptime monitors.",
            "parameters": [
                _param(
                    "strict",
                    "query",
                    {"type": "integer", "enum": [0, 1]},
                    "1: answer 503 when degraded",
                )
            ],
            "responses": {
                "200": _ok("Health"),
                "400": BAD,
                "503": _ok("Health", "Database not readable, or degraded with strict=1"),
            },
        }
    },
    "/api/status": _get(
        "Collector state, import runs, database statistics and gaps",
        _ok("Status"),
        [
            _param(
                "days",
                "query",
                {"type": "integer", "minimum": 1, "maximum": 31},
                "Gap window in days (default 7)",
            )
        ],
        area=False,
    ),
    "/api/cooperatives": {
        "get": {
            "summary": "KAMO's areas",
            "responses": {
                "200": {
                    "description": "OK",
                    "content": {JSON: {"schema": {"type": "array", "items": _ref("Cooperative")}}},
                },
                "503": UNAVAILABLE,
            },
        }
    },
    "/api/load/current/{area_id}": _get(
        "Newest hourly load of an area",
        _ok("CurrentLoad"),
        [AREA],
        extra={"404": _error("The area is not known (yet), or has no load stored yet")},
    ),
    "/api/load/history/{area_id}": _get(
        "Hourly load over a window", _ok("LoadHistory"), [AREA, _hours(24), START, END]
    ),
    "/api/load/peaks/{area_id}": _get(
        "Peak hour per local day, month or year (ties: earliest hour), newest first",
        _ok("Peaks"),
        [
            AREA,
            _param(
                "period",
                "query",
                {"type": "string", "enum": ["day", "month", "year"]},
                "Default day",
            ),
            _param(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_PEAK_PERIODS},
                "Periods back from the newest data (defaults: 31 days, 12 months, 10 years); "
                "only periods with data are listed",
            ),
        ],
    ),
    "/api/load/stats/{area_id}": _get(
        "Min, max, average, energy and load factor over a window (default 30 days)",
        _ok("LoadStats"),
        [AREA, _hours(720), START, END],
    ),
    "/api/load/coincident-peaks": _get(
        "Per month: the KAMO system (area 20) peak hour and every member's load and share",
        _ok("CoincidentPeaks"),
        [
            _param(
                "from",
                "query",
                {"type": "string", "pattern": MONTH_PATTERN},
                "First month YYYY-MM, 1970-9000 (default: 11 months before `to`)",
            ),
            _param(
                "to",
                "query",
                {"type": "string", "pattern": MONTH_PATTERN},
                "Last month YYYY-MM, 1970-9000 (default: the current month, or 11 months "
                f"after `from`); not before `from`, and at most {MAX_COINCIDENT_MONTHS} "
                "months from `from`",
            ),
        ],
        area=False,
    ),
    "/api/substations/current/{area_id}": _get(
        "Newest reading of each substation of an area", _ok("SubstationsCurrent"), [AREA]
    ),
    "/api/substations/list/{area_id}": _get(
        "Substations of an area", _ok("SubstationList"), [AREA]
    ),
    "/api/substations/history/{area_id}": _get(
        "Substation readings over a window, raw or in buckets with min/max/avg",
        _ok("SubstationHistory"),
        [
            AREA,
            _hours(24),
            START,
            END,
            _param(
                "substation",
                "query",
                # Surrounding blanks are ignored, so a blank-only name is empty (400).
                {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
                "One substation of the area, by id or name (404 when the area has none such)",
            ),
            _param(
                "resolution",
                "query",
                {
                    "type": "string",
                    "enum": ["auto", "raw", "15m", "30m", "1h", "3h", "6h", "12h", "1d"],
                },
                "Default auto: raw or the finest bucket that keeps under 4000 points. "
                f"Any other choice may give at most {MAX_POINTS} points over the range "
                "(one series per substation)",
            ),
        ],
        extra={"404": _error("The area is not known (yet), or has no such substation")},
    ),
    "/api/imports": _get(
        "Import runs, newest first (keyset pagination with before_id)",
        _ok("Imports"),
        [
            _param(
                "limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Default 50"
            ),
            _param(
                "before_id",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
                "Runs with a smaller id (from next_before_id)",
            ),
            _param(
                "request_id",
                "query",
                {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "Manual request id",
            ),
            _param(
                "status",
                "query",
                {"type": "string", "enum": ["running", "success", "partial", "failed"]},
                "",
            ),
        ],
        area=False,
    ),
    "/api/import/trigger": {
        "post": {
            "summary": "Ask the collector for an import now (trigger file)",
            "description": "Pending requests coalesce into one run that names every request "
            "id; manual runs start at least a minute apart, and a request due just before a "
            "slot is answered by the slot's scheduled run (`expected_at`, `answered_by`).",
            "security": [{"ApiKey": []}],
            "responses": {
                "202": _ok("Trigger", "Queued"),
                **AUTH_ERRORS,
                "429": _error("Too many requests already wait; see Retry-After"),
                "503": _error(
                    "API key not configured, or the request cannot be written (disk full)"
                ),
            },
        }
    },
    "/api/export/load/{area_id}": _export("Hourly load as csv, json or ndjson"),
    "/api/export/substations/{area_id}": _export("Substation readings as csv, json or ndjson"),
    "/metrics": {
        "get": {
            "summary": "Prometheus metrics",
            "responses": {
                "200": {
                    "description": "Prometheus text format",
                    "content": {"text/plain": {"schema": {"type": "string"}}},
                }
            },
        }
    },
    "/api/openapi.json": {
        "get": {
            "summary": "This document",
            "responses": {
                "200": {
                    "description": "OpenAPI 3",
                    "content": {JSON: {"schema": {"type": "object"}}},
                }
            },
        }
    },
}


def document() -> dict[str, Any]:
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "KAMO Load Logger API",
            "version": __version__,
            "description": "Read-only access to KAMO Power load data logged by the collector. "
            "Times are ISO 8601 with the offset of the configured TZ.",
        },
        "paths": PATHS,
        "components": {
            "schemas": SCHEMAS,
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    # Behind a proxy under a sub-path (SCRIPT_NAME), clients must prefix every path with it.
    return jsonify({**document(), "servers": [{"url": request.script_root or "/"}]})
