"""The real-time estimate on a small known dataset, stored through the collector's ingest
path into a real SQLite database: calibration ratios, the estimate, its error figures."""

from __future__ import annotations

import pytest

from shared.estimate import area_estimate, error_stats, percentile
from shared.models import LoadEstimate

from peak_support import H0, build_known_dataset, poll


@pytest.fixture
def known(writer_db):
    build_known_dataset(writer_db)
    return writer_db


def test_calibration_rows_ratio_and_prior_estimates(known):
    rows = {(r.ts - H0) // 3600: r for r in LoadEstimate.select().where(LoadEstimate.area_id == 1)}
    assert sorted(rows) == [0, 1, 2, 3]
    assert [rows[h].slots for h in range(4)] == [4, 3, 4, 4]
    assert [rows[h].readings_kw for h in range(4)] == [100, 200, 100, 100]
    assert [round(rows[h].ratio, 6) for h in range(4)] == [1.1, 1.1, 1.2, 1.0]
    # Each hour estimated with the ratios known before it: none, 1.1, 1.1, median(1.1 1.1 1.2).
    assert rows[0].estimate_kw is None
    assert [round(rows[h].estimate_kw, 6) for h in (1, 2, 3)] == [220, 110, 110]


def test_estimate_now_and_its_error(known):
    now = H0 + 4 * 3600 + 60
    found = area_estimate(known, 1, now, stale_seconds=900)
    assert found["status"] == "ok" and found["substations"] == 2
    assert found["snapshot_ts"] == H0 + 4 * 3600 and found["snapshot_kw"] == 150
    assert found["ratio"] == pytest.approx(1.1) and found["estimate_kw"] == pytest.approx(165)
    # Errors |est - actual| / actual: 0 %, 8.33 %, 10 % -> median 8.33, p95 (nearest rank) 10.
    assert error_stats(known, 1, now) == {"hours": 3, "median_pct": 8.33, "p95_pct": 10.0}


def test_stale_snapshot_and_area_without_substations(known):
    later = H0 + 4 * 3600 + 3600
    stale = area_estimate(known, 1, later, stale_seconds=900)
    assert stale["stale"] and stale["status"] == "stale" and stale["estimate_kw"] is not None
    none = area_estimate(known, 2, later, stale_seconds=900)
    assert (none["status"], none["estimate_kw"], none["substations"]) == ("no substations", None, 0)
    assert error_stats(known, 2, later) == {"hours": 0, "median_pct": None, "p95_pct": None}


def test_kamo_sums_members_and_stands_in_for_areas_without_an_estimate(known):
    now = H0 + 4 * 3600 + 60
    with known.atomic():  # area 3 has an hourly value but no substations
        poll(H0 + 4 * 3600 + 30, {1: [75, 75]}, {3: [(H0 + 3 * 3600, 40.0)]})
    kamo = area_estimate(known, 20, now, stale_seconds=900)
    assert kamo["stand_ins"] == [3]
    # The other members have no data at all: no estimate rather than a made-up sum.
    assert kamo["missing"] == [2, *range(4, 18)]
    assert (kamo["estimate_kw"], kamo["status"]) == (None, "no estimate")
    with known.atomic():
        for area in kamo["missing"]:
            poll(H0 + 4 * 3600 + 40, {}, {area: [(H0 + 3 * 3600, 10.0)]})
    kamo = area_estimate(known, 20, now, stale_seconds=900)
    assert (kamo["status"], kamo["missing"]) == ("partial", [])
    assert kamo["estimate_kw"] == pytest.approx(165 + 40 + 15 * 10)


def test_percentile_nearest_rank():
    assert percentile([5.0], 95) == 5.0
    assert percentile(list(map(float, range(1, 101))), 95) == 95.0
    assert percentile([1.0, 2.0, 3.0], 50) == 2.0
