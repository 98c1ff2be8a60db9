"""`/api/load/now`, `/api/peak-watch/history`, and the peak watch in `/api/status` and
`/metrics`, on a small known dataset written by the collector's ingest path."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from api_support import Store, make_app

from shared.models import PeakWatch

from peak_support import H0, build_known_dataset

NOW = H0 + 4 * 3600 + 60  # one minute after the newest snapshot


@pytest.fixture
def client(writer_db, db_url, tmp_path):
    build_known_dataset(writer_db)
    rows = [
        # a closed watch on KAMO, a new-peak event, an open watch on area 1
        dict(area_id=20, kind="watch", opened_at=H0, expected_ts=H0 + 7200, expected_kw=990.0,
             peak_kw=1000.0, peak_ts=H0 - 86400, margin_pct=1.0, source="forecast:Day Ahead",
             closed_at=H0 + 3 * 3600, outcome="false alarm", actual_kw=900.0),
        dict(area_id=20, kind="new-peak", opened_at=H0 + 3600, expected_ts=H0, expected_kw=1100.0,
             peak_kw=1000.0, peak_ts=H0 - 86400, margin_pct=-10.0, source="actual",
             closed_at=H0 + 3600, outcome="new peak", actual_kw=1100.0),
        dict(area_id=1, kind="watch", opened_at=H0 + 4 * 3600, expected_ts=H0 + 4 * 3600,
             expected_kw=165.0, peak_kw=168.0, peak_ts=H0 + 3600, margin_pct=1.79,
             source="estimate"),
    ]  # fmt: skip
    with writer_db.atomic():
        for row in rows:
            PeakWatch.create(**row)
    app = make_app(Store(db_url, tmp_path), PEAK_WATCH_AREAS=(20, 1))
    with time_machine.travel(datetime.fromtimestamp(NOW, UTC), tick=False):
        yield app.test_client()


def test_estimate_of_a_member(client):
    body = client.get("/api/load/now/1").get_json()
    assert (body["area_id"], body["status"], body["stale"]) == (1, "ok", False)
    assert body["estimate_kw"] == pytest.approx(165) and body["ratio"] == pytest.approx(1.1)
    assert (body["substations"], body["snapshot_kw"]) == (2, 150)
    snapshot = datetime.fromtimestamp(H0 + 4 * 3600, ZoneInfo("America/Chicago"))
    assert body["snapshot_time"] == snapshot.isoformat()
    # Hour estimates 220, 110, 110 against 220, 120, 100: 0 %, 8.33 %, 10 %.
    assert body["error"] == {"hours": 3, "median_pct": 8.33, "p95_pct": 10.0}


def test_area_without_substations_is_answered_not_failed(client):
    response = client.get("/api/load/now/2")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["status"], body["estimate_kw"], body["substations"]) == (
        "no substations", None, 0)  # fmt: skip


def test_kamo_lists_members_and_what_is_missing(client):
    body = client.get("/api/load/now/20").get_json()
    assert body["estimate_kw"] is None and body["status"] == "no estimate"
    assert [m["area_id"] for m in body["members"]] == list(range(1, 18))
    assert body["members"][0]["estimate_kw"] == pytest.approx(165)
    assert body["stand_ins"] == [] and 2 in body["missing"]


def test_stale_snapshot_is_marked(writer_db, db_url, tmp_path):
    build_known_dataset(writer_db)
    app = make_app(Store(db_url, tmp_path), POLL_INTERVAL_MINUTES=5)
    with time_machine.travel(datetime.fromtimestamp(NOW + 3600, UTC), tick=False):
        body = app.test_client().get("/api/load/now/1").get_json()
    assert body["stale"] and body["status"] == "stale" and body["stale_after_seconds"] == 900


@pytest.mark.parametrize(
    "url, status, parameter",
    [
        ("/api/load/now/0", 400, "area_id"),
        ("/api/load/now/abc", 400, "area_id"),
        ("/api/load/now/21", 400, "area_id"),
        ("/api/load/now/15", 404, "area_id"),  # a valid id this logger has not seen
        ("/api/peak-watch/history?area_id=abc", 400, "area_id"),
        ("/api/peak-watch/history?area_id=21", 400, "area_id"),
        ("/api/peak-watch/history?kind=maybe", 400, "kind"),
        ("/api/peak-watch/history?limit=0", 400, "limit"),
        ("/api/peak-watch/history?start=yesterday", 400, "start"),
        ("/api/peak-watch/history?end=2026-13-01", 400, "end"),
        ("/api/peak-watch/history?start=2026-12-02&end=2026-12-01", 400, "end"),
    ],
)
def test_bad_input(client, url, status, parameter):
    response = client.get(url)
    assert response.status_code == status, response.data
    body = response.get_json()
    assert body["parameter"] == parameter and body["error"]
    if status == 400 and "=" in url:
        assert url.rsplit("=", 1)[1][:6] in body["error"] or parameter == "end"


def test_history_filters(client):
    every = client.get("/api/peak-watch/history").get_json()
    assert every["count"] == 3 and [w["area_id"] for w in every["watches"]] == [1, 20, 20]
    kamo = client.get("/api/peak-watch/history?area_id=20&kind=watch").get_json()
    assert [(w["kind"], w["outcome"]) for w in kamo["watches"]] == [("watch", "false alarm")]
    watch = kamo["watches"][0]
    assert watch["expected_hour"].endswith("-06:00") and watch["margin_percent"] == 1.0
    assert watch["source"] == "forecast:Day Ahead"
    start = datetime.fromtimestamp(H0 + 1800, UTC).isoformat()
    later = client.get("/api/peak-watch/history", query_string={"start": start}).get_json()
    assert [w["kind"] for w in later["watches"]] == ["watch", "new-peak"]


def test_status_and_metrics_show_the_open_watch(client):
    section = client.get("/api/status").get_json()["peak_watch"]
    assert section["areas"] == [20, 1] and (section["hours"], section["percent"]) == (3, 97.0)
    assert "America/Chicago" in section["months"]
    assert [w["area_id"] for w in section["active"]] == [1]
    peaks = {p["area_id"]: p for p in section["month_peaks"]}
    assert peaks[1]["peak_kw"] == 220.0 and peaks[20]["peak_kw"] is None
    text = client.get("/metrics").get_data(as_text=True)
    assert 'kamo_peak_watch_active{area="1"} 1.0' in text
    assert 'kamo_peak_watch_active{area="20"} 0.0' in text
    assert 'kamo_peak_watch_margin_percent{area="1"} 1.79' in text
