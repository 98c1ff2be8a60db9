"""Response schemas for the OpenAPI document (components/schemas), in the document's order.

The schemas live beside their resources (api.rest.openapi_data, api.rest.openapi_status);
the building blocks are in api.rest.openapi_types.
"""

from __future__ import annotations

from typing import Any

from api.rest.openapi_data import DATA_SCHEMAS
from api.rest.openapi_status import COLLECTOR_INSTANCE, STATUS_SCHEMAS
from api.rest.openapi_types import STR, _obj

SCHEMAS: dict[str, Any] = {
    "Error": _obj({"error": STR}, properties={"error": STR, "parameter": STR}),
    "CollectorInstance": COLLECTOR_INSTANCE,
    **DATA_SCHEMAS,
    **STATUS_SCHEMAS,
}
