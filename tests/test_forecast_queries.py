"""shared.forecasts on a small known dataset, checked against a hand computation, on SQLite
and on PostgreSQL (which skips on a laptop without it, and fails under CI)."""

from __future__ import annotations

import pytest
from forecast_data import AREA, T0, H, fill_known

from collector.forecast_scores import build_forecast_scores
from shared.db import bind, open_writer
from shared.forecasts import accuracy, area_series, latest_forecast
from shared.schema import migrate


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
    fill_known(db)
    yield db
    db.close()


def test_accuracy_matches_the_hand_computation(known_db):
    got = accuracy(known_db, AREA)
    assert set(got) == {"F", "G"}
    # lead 1: |100|, |300|, |50| -> MAE 150; MAPE over the two nonzero actuals (10 + 15) / 2
    assert got["F"] == [(1, 3, 150.0, 12.5), (2, 1, 100.0, 10.0), (4, 1, 200.0, 10.0)]
    assert got["G"] == [(1, 1, 50.0, 10.0)]
    # Whole UTC days: from the day of T0 everything counts, from the next day nothing.
    assert accuracy(known_db, AREA, since_ts=T0 + H) == got
    assert accuracy(known_db, AREA, since_ts=T0 - T0 % 86400 + 86400) == {}
    assert accuracy(known_db, 9) == {}


def test_summed_days_give_the_same_figures_with_the_final_hour(known_db):
    # Once the day is final, the collector sums it; the newest hour counts then too.
    assert build_forecast_scores(T0 + 3 * 86400) >= 1
    got = accuracy(known_db, AREA)
    assert got["F"][0] == (1, 4, (100 + 300 + 50 + 4001) / 4, 100 * (0.1 + 0.15 + 4001 / 999) / 3)
    assert got["F"][1:] == [(2, 1, 100.0, 10.0), (4, 1, 200.0, 10.0)]
    assert got["G"] == [(1, 1, 50.0, 10.0)]
    assert build_forecast_scores(T0 + 3 * 86400) == 0  # built once


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
