"""OpenAPI schemas of the data resources: cooperatives, load, peaks, substations, forecasts
(api.rest.load, api.rest.substations, api.rest.forecast)."""

from __future__ import annotations

from typing import Any

from api.rest.openapi_types import (
    AREA_HEAD,
    INT,
    INT_N,
    NUM,
    NUM_N,
    STR,
    STR_N,
    TIME,
    TIME_N,
    _arr,
    _obj,
    _t,
)

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

DATA_SCHEMAS: dict[str, Any] = {
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
}
