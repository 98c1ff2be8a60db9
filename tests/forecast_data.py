"""A small forecast dataset with known errors, shared by the query and the API tests."""

from __future__ import annotations

from peewee import Database

from shared.models import Area, Forecast, HourlyLoad

H = 3600
T0 = 1_795_000_000 - 1_795_000_000 % H
AREA = 5

# (target hour, actual kW): the last hour is the newest stored, so provisional.
ACTUALS = [(0, 1000.0), (1, 2000.0), (2, 0.0), (3, 500.0), (4, 999.0)]
# (series, target hour, issued at seconds from T0, value)
VINTAGES = [
    ("F", 0, -2 * H, 900.0),  # lead 2: off by 100 (10 %)
    ("F", 0, -1 * H, 1100.0),  # lead 1: off by 100 (10 %)
    ("F", 1, -3 * H, 1800.0),  # lead 4: off by 200 (10 %)
    ("F", 1, -20 * 60, 2300.0),  # 80 min ahead rounds to lead 1: off by 300 (15 %)
    ("F", 1, H + 600, 2100.0),  # issued after its hour began: no lead, not scored
    ("F", 2, 1 * H, 50.0),  # lead 1: off by 50; actual 0, so no percentage
    ("F", 3, -10 * H, 400.0),  # lead 13: beyond 12, not scored
    ("F", 4, 3 * H, 5000.0),  # target is the newest (provisional) hour: not scored
    ("G", 3, 2 * H, 450.0),  # lead 1: off by 50 (10 %)
]


def fill_known(db: Database) -> None:
    """The dataset into a migrated database: areas 5 and 6, their loads and forecasts."""
    for area in (AREA, 6):
        Area.create(id=area, name=f"Area {area}", abbreviation=f"A{area}", is_aggregate=False)
    with db.atomic():
        for hour, kw in ACTUALS:
            ts = T0 + hour * H
            HourlyLoad.create(area_id=AREA, ts=ts, load_kw=kw, first_seen=ts, last_changed=ts)
            HourlyLoad.create(area_id=6, ts=ts, load_kw=1.0, first_seen=ts, last_changed=ts)
        for series, hour, issued, kw in VINTAGES:
            Forecast.create(
                area_id=AREA,
                series=series,
                target_ts=T0 + hour * H,
                issued_ts=T0 + issued,
                value_kw=kw,
            )
        # Another area's forecast must never leak in.
        Forecast.create(area_id=6, series="F", target_ts=T0, issued_ts=T0 - H, value_kw=7.0)
