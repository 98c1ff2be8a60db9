"""Turning stored values into response values: ISO times in TZ, rounded derived numbers."""

from __future__ import annotations

import json
from typing import Any

from flask import current_app

from shared.timeutil import iso


def when(ts: float | None) -> str | None:
    """UTC epoch seconds -> ISO 8601 with offset in the display zone."""
    return iso(ts, current_app.config["ZONE"])


def number(value: float | None, digits: int = 3) -> float | None:
    """Derived values (averages, shares) rounded for display; stored values pass untouched."""
    return None if value is None else round(float(value), digits)


def run_dict(run: dict[str, Any]) -> dict[str, Any]:
    """An import_run row for JSON: times in TZ, JSON columns decoded."""
    out = dict(run)
    for key in ("slot_ts", "started_at", "finished_at"):
        out[key.removesuffix("_ts") if key == "slot_ts" else key] = when(out.pop(key))
    out["duration_seconds"] = (
        number(run["finished_at"] - run["started_at"]) if run["finished_at"] is not None else None
    )
    for key, empty in (("area_errors", {}), ("warnings", [])):
        try:
            out[key] = json.loads(out[key] or "null") or empty
        except ValueError:
            out[key] = empty
    return out
