"""OpenAPI schemas of the collector's resources: health, status, the import log and the
manual trigger (api.rest.health, api.rest.status, api.rest.imports)."""

from __future__ import annotations

from typing import Any

from api.rest.openapi_types import INT, INT_N, NUM_N, STR, STR_N, TIME, TIME_N, _arr, _obj, _ref, _t

RUN = _obj(
    {
        "id": INT,
        "trigger": STR,
        "request_id": STR_N,
        "request_ids": _arr(STR),
        "slot": TIME,
        "started_at": TIME,
        "finished_at": TIME_N,
        "status": _t("string", enum=["running", "success", "partial", "failed"]),
        "duration_seconds": NUM_N,
        "areas_total": INT,
        "areas_ok": INT,
        "load_new": INT,
        "load_revised": INT,
        "load_unchanged": INT,
        "readings_stored": INT,
        "substations_new": INT,
        "forecasts_stored": INT,
        "area_errors": _t("object", additionalProperties=STR),
        "warnings": _arr(STR),
        "message": STR_N,
        "clock_skew_seconds": NUM_N,
    }
)
COLLECTOR = _obj(
    {
        "state": _t("string", enum=["running", "stale", "never"]),
        "heartbeat_at": TIME_N,
        "pid": INT_N,
        "version": STR_N,
        "last_status": STR_N,
        "next_poll": TIME_N,
        "doing": STR_N,
        "problems": _arr(STR),
        "unwritten_runs": INT,
        "mqtt": _obj(
            {
                "broker": STR_N,
                "state": _t("string", nullable=True, enum=["connecting", "connected", "down"]),
                "since": TIME_N,
                "last_error": STR_N,
                "failed_attempts": INT_N,
                "last_published_at": TIME_N,
            },
            nullable=True,
            description="the collector's MQTT broker (MQTT_URL); null while MQTT is off",
        ),
        "active": _ref("CollectorInstance"),
        "standby": _arr(_ref("CollectorInstance")),
    }
)
COLLECTOR_INSTANCE = _obj(
    {
        "instance": STR_N,
        "host": STR_N,
        "pid": INT_N,
        "role": STR_N,
        "since": TIME_N,
        "heartbeat_at": TIME_N,
        "heartbeat_age_seconds": NUM_N,
    },
    nullable=True,
    description="a collector process: the active one polls (it holds the writer lock), "
    "standbys take over when it stops (PostgreSQL)",
)
RATE = _obj(
    {
        "runs": INT,
        "by_status": _t("object", additionalProperties=INT),
        "success_rate": NUM_N,
    }
)
RANGE = _obj({"start": TIME, "end": TIME})
STATUS_SCHEMAS: dict[str, Any] = {
    "Imports": _obj({"runs": _arr(RUN), "next_before_id": INT_N}),
    "Trigger": _obj(
        {
            "request_id": STR,
            "status": STR,
            "requested_at": TIME_N,
            "expected_at": TIME_N,
            "answered_by": _t("string", enum=["manual", "scheduled"], nullable=True),
            "collector": STR,
            "imports_url": STR,
        }
    ),
    "Health": _obj(
        {
            "status": _t("string", enum=["ok", "degraded", "unavailable"]),
            "reasons": _arr(STR),
            "version": STR,
            "database": STR,
            "collector": COLLECTOR,
        }
    ),
    "Status": _obj(
        {
            "version": STR,
            "now": TIME,
            "collector": COLLECTOR,
            "last_run": {**RUN, "nullable": True},
            "last_success": {**RUN, "nullable": True},
            "runs_24h": RATE,
            "runs_7d": RATE,
            "peak_watch": _ref("PeakWatchStatus"),
            "database": _obj(
                {
                    "rows": _t("object", additionalProperties=INT_N),
                    "rows_note": STR,
                    "file_size_bytes": INT_N,
                    "size_basis": STR,
                    "oldest_load": TIME_N,
                    "newest_load": TIME_N,
                    "oldest_reading": TIME_N,
                    "newest_reading": TIME_N,
                }
            ),
            "alerts": _arr(
                _obj(
                    {
                        "key": STR,
                        "title": STR,
                        "since": TIME_N,
                        "checked_at": TIME_N,
                        "emailed": _t("boolean"),
                        "detail": _arr(STR),
                    }
                )
            ),
            "clock": _obj({"skew_seconds": NUM_N, "warning": STR_N}),
            "simulated": {**_obj({"until": TIME, "note": STR}), "nullable": True},
            "gaps": _obj(
                {
                    "start": TIME,
                    "end": TIME,
                    "areas": _arr(
                        _obj(
                            {
                                "area_id": INT,
                                "abbreviation": STR,
                                "missing_hours": INT,
                                "ranges": _arr(RANGE),
                            }
                        )
                    ),
                    "failed_polls": INT,
                    "recent_failed_polls": _arr(RUN),
                }
            ),
        }
    ),
}
