"""Forecast series of the KAMO simulator: a load forecast whose error grows with lead time.

KAMO's live areagrid carries forecast series beside `Actual` (their labels were not
captured). The simulator's forecast is reissued every hour, like a utility's short-term
forecast: at issue hour c the value for target hour h (lead L = h - c) is

    final_kw(h) * (1 + BASE * z0 + STEP * (z1 + ... + zL))

with z_k standard normal draws fixed by (seed, area, h, k). As the target comes closer the
far terms drop out, so the forecast converges on the load: the error's spread is
sqrt(BASE^2 + STEP^2 * L), a mean absolute error of about 2 % at 1 h and 5.5 % at 12 h.
Hours already begun keep the lead-0 value. Pure function of (seed, area, clock); standard
library only.
"""

from __future__ import annotations

import math
from datetime import datetime
from statistics import NormalDist

from kamo_sim_model import AGGREGATES, HOUR, KamoModel, unit, window_hours

FORECAST_LABEL = "Forecast"
DAY_AHEAD_LABEL = "Day Ahead"
DAY_AHEAD_LEAD = 24  # the day-ahead forecast is issued once, a day before its hour
TEXT_SERIES_LABEL = "Peak Forecast"
# The labels the forecast-relabel fault cycles through, one per 6-hour block.
RELABELS = ("Load Forecast", "STLF", "Forecast (adj)", "Forecast v2")
RELABEL_HOURS = 6
BASE = 0.02  # spread of the error that remains at lead 0
STEP = 0.019  # spread each further hour of lead adds (in quadrature)
_NORMAL = NormalDist()


def _z(*parts: object) -> float:
    """A deterministic standard normal draw."""
    return _NORMAL.inv_cdf(min(max(unit(*parts), 1e-9), 1 - 1e-9))


def relative_error(seed: int, area: int, target: int, lead: int, kind: str = "fc") -> float:
    """The forecast's relative error for target hour index `target` at `lead` hours."""
    error = BASE * _z(seed, area, kind, target, 0)
    for k in range(1, max(lead, 0) + 1):
        error += STEP * _z(seed, area, kind, target, k)
    return error


def forecast_kw(
    model: KamoModel, seed: int, area: int, target: int, lead: int, kind: str = "fc"
) -> float:
    """Forecast of an area's final load for one UTC hour index, issued `lead` hours before."""
    members = AGGREGATES.get(area, (area,))
    final = sum(model.final_kw(seed, m, target) for m in members)
    return float(round(final * (1 + relative_error(seed, area, target, lead, kind))))


def forecast_series(
    model: KamoModel, seed: int, area: int, now: datetime, label: str = FORECAST_LABEL
) -> dict:
    """The hourly forecast as served at `now`: every hour of the areagrid window has a value;
    the hours to come carry the forecast issued at the start of the current hour."""
    current = math.floor(now.timestamp() / HOUR)
    data = [forecast_kw(model, seed, area, h, h - current) for h in window_hours(now)]
    return {"label": label, "data": data}


def day_ahead_series(model: KamoModel, seed: int, area: int, now: datetime) -> dict:
    """A second forecast, issued a day ahead and never revised (the unknown-series fault)."""
    data = [forecast_kw(model, seed, area, h, DAY_AHEAD_LEAD, "da") for h in window_hours(now)]
    return {"label": DAY_AHEAD_LABEL, "data": data}


def relabelled(now: datetime) -> str:
    """The forecast's label under the forecast-relabel fault: it changes every 6 hours."""
    block = math.floor(now.timestamp() / (RELABEL_HOURS * HOUR))
    return RELABELS[block % len(RELABELS)]


def text_series(series: dict) -> dict:
    """A copy of a forecast whose values arrive as text (`"12,345 kW"`), not numbers."""
    data = [None if v is None else f"{v:,.0f} kW" for v in series["data"]]
    return {"label": TEXT_SERIES_LABEL, "data": data}
