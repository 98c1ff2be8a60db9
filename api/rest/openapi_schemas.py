"""Response schemas for the OpenAPI document (components/schemas)."""

from __future__ import annotations

from typing import Any


def _t(kind: str, nullable: bool = False, **more: Any) -> dict:
    schema = {"type": kind, **more}
    if nullable:
        schema["nullable"] = True
    return schema


def _obj(required: dict[str, dict], **more: Any) -> dict:
    return {"type": "object", "required": list(required), "properties": required, **more}


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


TIME = _t("string", format="date-time")
TIME_N = _t("string", nullable=True, format="date-time")
NUM = _t("number")
NUM_N = _t("number", nullable=True)
INT = _t("integer")
INT_N = _t("integer", nullable=True)
STR = _t("string")
STR_N = _t("string", nullable=True)
AREA_HEAD = {"area_id": INT, "area_name": STR}

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
BUCKET_OR_RAW = {
    "type": "object",
    "required": ["timestamp"],
    "properties": {
        "timestamp": TIME,
        "kw": NUM,
        "kvar": NUM,
        "pf": NUM_N,
        "samples": INT,
        "kw_min": NUM,
        "kw_max": NUM,
        "kw_avg": NUM,
        "kvar_min": NUM,
        "kvar_max": NUM,
        "kvar_avg": NUM,
        "pf_avg": NUM_N,
    },
}

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": STR}, properties={"error": STR, "parameter": STR}),
    "CollectorInstance": COLLECTOR_INSTANCE,
    "Cooperative": _obj(
        {"id": INT, "name": STR, "abbreviation": STR, "is_aggregate": _t("boolean")}
    ),
    "CurrentLoad": _obj({**AREA_HEAD, "load_kw": NUM, "timestamp": TIME}),
    "LoadHistory": _obj(
        {
            **AREA_HEAD,
            "start": TIME,
            "end": TIME,
            "count": INT,
            "points": _arr(_obj({"timestamp": TIME, "load_kw": NUM})),
        }
    ),
    "Peaks": _obj(
        {
            **AREA_HEAD,
            "period": _t("string", enum=["day", "month", "year"]),
            "peaks": _arr(_obj({"period": STR, "timestamp": TIME, "load_kw": NUM, "hours": INT})),
        }
    ),
    "LoadStats": _obj(
        {
            **AREA_HEAD,
            "start": TIME,
            "end": TIME,
            "hours_with_data": INT,
            "hours_in_window": INT,
            "min_kw": NUM_N,
            "min_at": TIME_N,
            "max_kw": NUM_N,
            "max_at": TIME_N,
            "average_kw": NUM_N,
            "energy_mwh": NUM_N,
            "load_factor": NUM_N,
        }
    ),
    "CoincidentPeaks": _obj(
        {
            "from": STR,
            "to": STR,
            "months": _arr(
                _obj(
                    {
                        "month": STR,
                        "timestamp": TIME,
                        "system_load_kw": NUM,
                        "members": _arr(
                            _obj(
                                {
                                    "area_id": INT,
                                    "area_name": STR_N,
                                    "abbreviation": STR_N,
                                    "load_kw": NUM_N,
                                    "share": NUM_N,
                                }
                            )
                        ),
                    }
                )
            ),
        }
    ),
    "SubstationsCurrent": _obj(
        {
            **AREA_HEAD,
            "timestamp": TIME_N,
            "total_kw": NUM_N,
            "total_kvar": NUM_N,
            "substations": _arr(
                _obj(
                    {
                        "id": INT,
                        "name": STR,
                        "kw": NUM,
                        "kvar": NUM,
                        "pf": NUM_N,
                        "quality": _t("boolean"),
                        "quality_now": _t("boolean"),
                    }
                )
            ),
        }
    ),
    "SubstationList": _obj(
        {
            **AREA_HEAD,
            "substations": _arr(
                _obj({"id": INT, "name": STR, "first_seen": TIME, "last_seen": TIME})
            ),
        }
    ),
    "SubstationHistory": _obj(
        {
            **AREA_HEAD,
            "start": TIME,
            "end": TIME,
            "resolution": STR,
            "substations": _arr(_obj({"id": INT, "name": STR_N, "points": _arr(BUCKET_OR_RAW)})),
        }
    ),
    "Forecast": _obj(
        {
            **AREA_HEAD,
            "start": TIME,
            "hours": INT,
            "accuracy_days": INT_N,
            "series": _arr(
                _obj(
                    {
                        "series": STR,
                        "issued": TIME_N,
                        "points": _arr(_obj({"timestamp": TIME, "value_kw": NUM, "issued": TIME})),
                        "accuracy": _arr(
                            _obj(
                                {
                                    "lead_hours": INT,
                                    "count": INT,
                                    "mae_kw": NUM,
                                    "mape_percent": NUM_N,
                                }
                            )
                        ),
                    }
                )
            ),
        }
    ),
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
