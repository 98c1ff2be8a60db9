"""DST days in Central time, stored by the real collector from pinned simulator runs."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("day", "hours", "first", "last"),
    [
        ("2026-11-01", 25, "2026-11-01T00:00:00-05:00", "2026-11-01T23:00:00-06:00"),
        ("2026-03-08", 23, "2026-03-08T00:00:00-06:00", "2026-03-08T23:00:00-05:00"),
    ],
)
def test_history_of_a_dst_day(dst_client, day: str, hours: int, first: str, last: str) -> None:
    body = dst_client.get(f"/api/load/history/7?start={day}&end={day}").get_json()
    stamps = [p["timestamp"] for p in body["points"]]
    assert len(stamps) == len(set(stamps)) == hours
    assert stamps[0] == first and stamps[-1] == last
    if hours == 25:  # the repeated hour appears once per offset
        assert "2026-11-01T01:00:00-05:00" in stamps and "2026-11-01T01:00:00-06:00" in stamps
    else:
        assert not any(s.startswith("2026-03-08T02:") for s in stamps)


@pytest.mark.parametrize(("day", "hours"), [("2026-11-01", 25), ("2026-03-08", 23)])
def test_daily_peak_counts_the_local_day(dst_client, day: str, hours: int) -> None:
    body = dst_client.get("/api/load/peaks/20?period=day&limit=366").get_json()
    peak = next(p for p in body["peaks"] if p["period"] == day)
    assert peak["hours"] == hours
    history = dst_client.get(f"/api/load/history/20?start={day}&end={day}").get_json()
    top = max(history["points"], key=lambda p: p["load_kw"])
    assert (peak["timestamp"], peak["load_kw"]) == (top["timestamp"], top["load_kw"])


def test_stats_over_the_long_day(dst_client) -> None:
    body = dst_client.get("/api/load/stats/3?start=2026-11-01&end=2026-11-01").get_json()
    assert body["hours_with_data"] == 25
    assert body["start"] == "2026-11-01T00:00:00-05:00"
    assert body["end"] == "2026-11-02T00:00:00-06:00"


def test_offset_and_naive_inputs_agree(dst_client) -> None:
    naive = dst_client.get("/api/load/history/1?start=2026-11-01T00:00&end=2026-11-01T03:00")
    utc = dst_client.get("/api/load/history/1?start=2026-11-01T05:00Z&end=2026-11-01T09:00Z")
    assert naive.get_json()["points"] == utc.get_json()["points"]
    assert len(naive.get_json()["points"]) == 4  # 00, 01 CDT, 01 CST, 02
