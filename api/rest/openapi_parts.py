"""The building blocks of the OpenAPI document: shared parameters, responses, and their limits.

Each limit comes from the module that enforces it, so the document cannot drift from the server.
"""

from __future__ import annotations

from api.params import INSTANT_PATTERN
from api.rest.export import MAX_DAYS
from api.rest.load import MAX_HISTORY_HOURS

JSON = "application/json"


def schema_ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def error_reply(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema_ref("Error")}}}


UNAVAILABLE = error_reply("The database cannot be read yet (missing, or another schema version)")
BAD = error_reply("A parameter is invalid; `parameter` names it")
AREA_UNKNOWN = error_reply("The area is not known (yet) to this logger")


def ok_reply(schema: str, description: str = "OK") -> dict:
    return {"description": description, "content": {JSON: {"schema": schema_ref(schema)}}}


def param(name: str, where: str, schema: dict, description: str, required=False) -> dict:
    return {
        "name": name,
        "in": where,
        "required": required or where == "path",
        "description": description,
        "schema": schema,
    }


AREA = param("area_id", "path", {"type": "integer", "minimum": 1, "maximum": 20}, "KAMO area id")
AREA_OR_ALL = param(
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
START = param(
    "start", "query", INSTANT, "Start (inclusive); without an offset it is local time in TZ"
)
END = param(
    "end",
    "query",
    INSTANT,
    "End (exclusive; a bare date includes that day). With start: after start, and the "
    "range at most the span parameter's maximum",
)


def hours_param(default: int) -> dict:
    return param(
        "hours",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_HISTORY_HOURS},
        f"Hours back from the end of the current hour (default {default}); not with start/end",
    )


def get_operation(
    summary: str, ok: dict, parameters: list, *, area=True, extra: dict | None = None
):
    responses = {"200": ok, "400": BAD, "503": UNAVAILABLE}
    if area:
        responses["404"] = AREA_UNKNOWN
    responses.update(extra or {})
    return {"get": {"summary": summary, "parameters": parameters, "responses": responses}}


AUTH_ERRORS = {
    "401": error_reply("Missing or wrong X-API-Key"),
    "503": error_reply("API key not configured, or the database cannot be read"),
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
    param("format", "query", {"type": "string", "enum": ["csv", "json", "ndjson"]}, "Default csv"),
    param(
        "days",
        "query",
        {"type": "integer", "minimum": 1, "maximum": MAX_DAYS},
        "Days back from the end of the current hour (default 7); not with start/end",
    ),
    START,
    END,
]


def export_operation(summary: str) -> dict:
    return {
        "get": {
            "summary": summary,
            "security": [{"ApiKey": []}],
            "parameters": EXPORT_PARAMS,
            "responses": {"200": CSV_OK, "400": BAD, "404": AREA_UNKNOWN, **AUTH_ERRORS},
        }
    }
