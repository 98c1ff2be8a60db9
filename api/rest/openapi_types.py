"""Building blocks of the OpenAPI schemas: JSON types, objects, arrays, references."""

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
