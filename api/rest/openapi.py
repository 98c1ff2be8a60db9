"""GET /api/openapi.json: the OpenAPI 3 description of every endpoint, kept beside the code."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, jsonify, request
from werkzeug.wrappers import Response

from api import __version__
from api.params import MAX_ROW_ID, MONTH_PATTERN
from api.rest.forecast import DEFAULT_HOURS as FORECAST_DEFAULT_HOURS
from api.rest.forecast import MAX_ACCURACY_DAYS as FORECAST_MAX_DAYS
from api.rest.forecast import MAX_HOURS as FORECAST_MAX_HOURS
from api.rest.load import MAX_COINCIDENT_MONTHS, MAX_PEAK_PERIODS
from api.rest.openapi_parts import (
    AREA,
    AUTH_ERRORS,
    BAD,
    END,
    JSON,
    START,
    UNAVAILABLE,
    error_reply,
    export_operation,
    get_operation,
    hours_param,
    ok_reply,
    param,
    schema_ref,
)
from api.rest.openapi_peak import PATHS as PEAK_PATHS
from api.rest.openapi_peak import SCHEMAS as PEAK_SCHEMAS
from api.rest.openapi_schemas import SCHEMAS
from api.rest.openapi_tasks import TASK_PATHS, TASK_SCHEMAS
from api.rest.substations import MAX_POINTS

bp = Blueprint("openapi", __name__)

PATHS: dict[str, Any] = {
    "/api/health": {
        "get": {
            "summary": "Whether the API can read the database, and the collector state",
            "description": "200 while the database is readable; `status` is `degraded`, with "
            "`reasons`, when the collector is stuck (a cycle past its deadline, or no cycle "
            "finished for two slots) or its heartbeat stopped. With `strict=1` a degraded "
            "state answers 503, for uptime monitors.",
            "parameters": [
                param(
                    "strict",
                    "query",
                    {"type": "integer", "enum": [0, 1]},
                    "1: answer 503 when degraded",
                )
            ],
            "responses": {
                "200": ok_reply("Health"),
                "400": BAD,
                "503": ok_reply("Health", "Database not readable, or degraded with strict=1"),
            },
        }
    },
    "/api/status": get_operation(
        "Collector state, import runs, database statistics and gaps",
        ok_reply("Status"),
        [
            param(
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
                    "content": {
                        JSON: {"schema": {"type": "array", "items": schema_ref("Cooperative")}}
                    },
                },
                "503": UNAVAILABLE,
            },
        }
    },
    "/api/load/current/{area_id}": get_operation(
        "Newest hourly load of an area",
        ok_reply("CurrentLoad"),
        [AREA],
        extra={"404": error_reply("The area is not known (yet), or has no load stored yet")},
    ),
    "/api/load/history/{area_id}": get_operation(
        "Hourly load over a window", ok_reply("LoadHistory"), [AREA, hours_param(24), START, END]
    ),
    "/api/load/peaks/{area_id}": get_operation(
        "Peak hour per local day, month or year (ties: earliest hour), newest first",
        ok_reply("Peaks"),
        [
            AREA,
            param(
                "period",
                "query",
                {"type": "string", "enum": ["day", "month", "year"]},
                "Default day",
            ),
            param(
                "limit",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_PEAK_PERIODS},
                "Periods back from the newest data (defaults: 31 days, 12 months, 10 years); "
                "only periods with data are listed",
            ),
        ],
    ),
    "/api/load/stats/{area_id}": get_operation(
        "Min, max, average, energy and load factor over a window (default 30 days)",
        ok_reply("LoadStats"),
        [AREA, hours_param(720), START, END],
    ),
    "/api/load/coincident-peaks": get_operation(
        "Per month: the KAMO system (area 20) peak hour and every member's load and share",
        ok_reply("CoincidentPeaks"),
        [
            param(
                "from",
                "query",
                {"type": "string", "pattern": MONTH_PATTERN},
                "First month YYYY-MM, 1970-9000 (default: 11 months before `to`)",
            ),
            param(
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
    "/api/forecast/{area_id}": get_operation(
        "KAMO's latest forecast per series for the coming hours, and its accuracy by lead",
        ok_reply("Forecast"),
        [
            AREA,
            param(
                "hours",
                "query",
                {"type": "integer", "minimum": 1, "maximum": FORECAST_MAX_HOURS},
                f"Hours of forecast from `start` (default {FORECAST_DEFAULT_HOURS})",
            ),
            param(
                "start",
                "query",
                START["schema"],
                "First target hour (the hour holding it), ISO 8601; without an offset local "
                "time in TZ (default: the current hour)",
            ),
            param(
                "days",
                "query",
                {"type": "integer", "minimum": 1, "maximum": FORECAST_MAX_DAYS},
                "Score only target hours from N days before `start` on (default: every "
                "stored hour); the newest stored hour, still provisional, is never scored",
            ),
        ],
    ),
    "/api/substations/current/{area_id}": get_operation(
        "Newest reading of each substation of an area", ok_reply("SubstationsCurrent"), [AREA]
    ),
    "/api/substations/list/{area_id}": get_operation(
        "Substations of an area", ok_reply("SubstationList"), [AREA]
    ),
    "/api/substations/history/{area_id}": get_operation(
        "Substation readings over a window, raw or in buckets with min/max/avg",
        ok_reply("SubstationHistory"),
        [
            AREA,
            hours_param(24),
            START,
            END,
            param(
                "substation",
                "query",
                # Surrounding blanks are ignored, so a blank-only name is empty (400).
                {"type": "string", "minLength": 1, "maxLength": 100, "pattern": "\\S"},
                "One substation of the area, by id or name (404 when the area has none such)",
            ),
            param(
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
        extra={"404": error_reply("The area is not known (yet), or has no such substation")},
    ),
    "/api/imports": get_operation(
        "Import runs, newest first (keyset pagination with before_id)",
        ok_reply("Imports"),
        [
            param(
                "limit", "query", {"type": "integer", "minimum": 1, "maximum": 500}, "Default 50"
            ),
            param(
                "before_id",
                "query",
                {"type": "integer", "minimum": 1, "maximum": MAX_ROW_ID},
                "Runs with a smaller id (from next_before_id)",
            ),
            param(
                "request_id",
                "query",
                {"type": "string", "pattern": "^[A-Za-z0-9_-]{1,64}$"},
                "Manual request id",
            ),
            param(
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
                "202": ok_reply("Trigger", "Queued"),
                **AUTH_ERRORS,
                "429": error_reply("Too many requests already wait; see Retry-After"),
                "503": error_reply(
                    "API key not configured, or the request cannot be written (disk full)"
                ),
            },
        }
    },
    "/api/export/load/{area_id}": export_operation("Hourly load as csv, json or ndjson"),
    "/api/export/substations/{area_id}": export_operation(
        "Substation readings as csv, json or ndjson"
    ),
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
        "paths": {**PATHS, **TASK_PATHS, **PEAK_PATHS},
        "components": {
            "schemas": {**SCHEMAS, **TASK_SCHEMAS, **PEAK_SCHEMAS},
            "securitySchemes": {"ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}},
        },
    }


@bp.get("/openapi.json")
def openapi() -> Response:
    # Behind a proxy under a sub-path (SCRIPT_NAME), clients must prefix every path with it.
    return jsonify({**document(), "servers": [{"url": request.script_root or "/"}]})
