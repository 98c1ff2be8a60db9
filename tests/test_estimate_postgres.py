"""The estimate's calibration, its figures and the peak watch on PostgreSQL: the same known
dataset and answers as on SQLite. Skips without PostgreSQL; under CI it must run."""

from __future__ import annotations

import pytest

from collector.peak_watch import PeakWatcher
from shared.config import load_settings
from shared.db import bind, open_writer
from shared.estimate import area_estimate, error_stats
from shared.schema import migrate

from peak_support import H0, build_known_dataset


def test_estimate_and_watch_on_postgresql(pg_database):
    db = bind(open_writer(pg_database))
    db.connect(reuse_if_open=True)
    try:
        migrate(db)
        build_known_dataset(db)
        now = H0 + 4 * 3600 + 60
        found = area_estimate(db, 1, now, stale_seconds=900)
        assert found["estimate_kw"] == pytest.approx(165) and found["substations"] == 2
        assert error_stats(db, 1, now) == {"hours": 3, "median_pct": 8.33, "p95_pct": 10.0}
        settings = load_settings({"PEAK_WATCH_AREAS": "1"}, env_file=None)
        with db.atomic():  # four hours stored this month: no watch, but every query runs
            assert PeakWatcher(settings, db).evaluate(now) == []
    finally:
        db.close()
