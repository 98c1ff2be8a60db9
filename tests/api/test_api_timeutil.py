"""The query-side time helpers appended to shared.timeutil."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from shared.timeutil import (
    iso,
    iso_many,
    local_periods,
    next_local_midnight,
    offset_segments,
    parse_query_time,
)

CT = ZoneInfo("America/Chicago")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-01", "2026-11-01T00:00:00-05:00"),
        ("2026-11-01T12:00", "2026-11-01T12:00:00-06:00"),
        ("2026-11-01T06:00:00Z", "2026-11-01T01:00:00-05:00"),
        ("2026-11-01T01:00:00-06:00", "2026-11-01T01:00:00-06:00"),
    ],
)
def test_parse_query_time(text: str, expected: str) -> None:
    assert iso(parse_query_time(text, CT), CT) == expected


@pytest.mark.parametrize("text", ["", "tomorrow", "2026-02-30", "0001-01-01", "2026-11-01T25:00"])
def test_parse_query_time_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_query_time(text, CT)


def test_local_day_lengths() -> None:
    for day, hours in (("2026-11-01", 25), ("2026-03-08", 23), ("2026-07-01", 24)):
        start = parse_query_time(day, CT)
        assert next_local_midnight(start, CT) - start == hours * 3600


def test_offset_segments_of_2026() -> None:
    start, end = parse_query_time("2026-01-01", CT), parse_query_time("2027-01-01", CT)
    segments = offset_segments(start, end, CT)
    assert [iso(ts, CT) for ts, _ in segments] == [
        "2026-01-01T00:00:00-06:00",
        "2026-03-08T03:00:00-05:00",
        "2026-11-01T01:00:00-06:00",
    ]


@pytest.mark.parametrize("zone", ["America/Chicago", "Asia/Kathmandu", "Australia/Lord_Howe"])
def test_iso_many_matches_iso(zone: str) -> None:
    z = ZoneInfo(zone)
    instants = list(range(1767225600, 1767225600 + 366 * 86400, 1800)) + [0, 1, 2**31 - 1]
    assert iso_many(instants, z) == [iso(ts, z) for ts in instants]


def test_local_periods() -> None:
    start = parse_query_time("2026-10-31", CT)
    days = local_periods("day", start, parse_query_time("2026-11-03", CT), CT)
    assert [label for _, label in days] == ["2026-10-31", "2026-11-01", "2026-11-02"]
    assert days[2][0] - days[1][0] == 25 * 3600
    months = local_periods("month", start, parse_query_time("2027-02-01", CT), CT)
    assert [label for _, label in months] == ["2026-10", "2026-11", "2026-12", "2027-01"]
    assert [label for _, label in local_periods("year", start, start + 1, CT)] == ["2026"]
