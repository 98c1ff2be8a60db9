"""shared.forecasts on a small known dataset, checked against a hand computation, on SQLite
and on PostgreSQL (which skips on a laptop without it, and fails under CI)."""

from __future__ import annotations

import pytest

from shared.db import bind, open_writer
from shared.forecasts import accuracy, area_series, latest_forecast
from shared.models import Forecast, HourlyLoad
from shared.schema import migrate

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


@pytest.fixture(params=["sqlite", "postgresql"])
def known_db(request, tmp_path):
    url = (
        f"sqlite:///{tmp_path / 'known.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("pg_database")
    )
    db = bind(open_writer(url))
    db.connect(reuse_if_open=True)
    migrate(db)
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
    yield db
    db.close()


def test_accuracy_matches_the_hand_computation(known_db):
    got = accuracy(known_db, AREA)
    assert set(got) == {"F", "G"}
    # lead 1: |100|, |300|, |50| -> MAE 150; MAPE over the two nonzero actuals (10 + 15) / 2
    assert got["F"] == [(1, 3, 150.0, 12.5), (2, 1, 100.0, 10.0), (4, 1, 200.0, 10.0)]
    assert got["G"] == [(1, 1, 50.0, 10.0)]
    # A window that starts at hour 1 leaves out target hour 0.
    since = accuracy(known_db, AREA, since_ts=T0 + H)
    assert since["F"] == [(1, 2, 175.0, 15.0), (4, 1, 200.0, 10.0)]
    assert accuracy(known_db, 9) == {}


def test_latest_forecast_takes_the_newest_vintage_per_hour(known_db):
    assert area_series(known_db, AREA) == ["F", "G"]
    got = latest_forecast(known_db, AREA, T0, 4)
    assert got == {
        "F": [
            (T0, 1100.0, T0 - H),
            (T0 + H, 2100.0, T0 + H + 600),
            (T0 + 2 * H, 50.0, T0 + H),
            (T0 + 3 * H, 400.0, T0 - 10 * H),
        ],
        "G": [(T0 + 3 * H, 450.0, T0 + 2 * H)],
    }
    # Only hours in the range; a series with none there is left out.
    assert latest_forecast(known_db, AREA, T0 + 4 * H, 12) == {
        "F": [(T0 + 4 * H, 5000.0, T0 + 3 * H)]
    }
    assert latest_forecast(known_db, AREA, T0 + 5 * H, 12) == {}
