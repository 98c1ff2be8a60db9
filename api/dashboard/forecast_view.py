"""KAMO's forecasts on the inspector: the latest one drawn over the load chart (dashed), its
hours as a table (the chart's text alternative), and the accuracy by lead per series.

The accuracy table sits on the inspector, beside the chart it qualifies: accuracy is per
area, and the inspector is the one page about one area (the overview is about all of them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from peewee import Database

from api.dashboard import charts
from shared.forecasts import accuracy, latest_forecast
from shared.timeutil import HOUR

AHEAD_HOURS = 12


@dataclass
class ForecastView:
    series: str | None = None  # the overlaid series: the one issued most recently
    issued: int | None = None
    points: list[tuple[int, float]] = field(default_factory=list)  # (target_ts, kW)
    others: list[str] = field(default_factory=list)  # further series (in the tables only)
    accuracy: dict[str, list[tuple[int, int, float, float | None]]] = field(default_factory=dict)

    @property
    def end(self) -> int | None:
        """End of the last forecast hour, for the chart's x axis."""
        return self.points[-1][0] + HOUR if self.points else None

    def chart_series(self) -> list[charts.Series]:
        if not self.points:
            return []
        points = [(ts, kw / 1000) for ts, kw in self.points]
        return [charts.Series(f"Forecast ({self.series})", points, "fc")]


def forecast_view(db: Database, area_id: int, now: float, live: bool) -> ForecastView:
    """The latest forecast from the current hour on (only when the chart shows the present,
    `live`), and the accuracy of every series stored for the area."""
    view = ForecastView(accuracy=accuracy(db, area_id))
    if not live:
        return view
    hour = int(now) - int(now) % HOUR
    latest = latest_forecast(db, area_id, hour, AHEAD_HOURS + 1)
    if not latest:
        return view
    newest = {name: max(p[2] for p in points) for name, points in latest.items()}
    chosen = max(sorted(newest), key=lambda name: newest[name])
    view.series, view.issued = chosen, newest[chosen]
    view.points = [(target, kw) for target, kw, _issued in latest[chosen]]
    view.others = [name for name in sorted(latest) if name != chosen]
    return view
