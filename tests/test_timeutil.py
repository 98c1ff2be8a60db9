from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.config import ALLOWED_INTERVALS
from shared.timeutil import (
    LabelError,
    format_kamo_label,
    iso,
    next_slot,
    parse_label,
    resolve_kamo_labels,
    slot_marks,
    slot_start,
)

CT = ZoneInfo("America/Chicago")


def utc(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp())


@pytest.mark.parametrize(
    "label, expected",
    [
        ("01/04/2026 3:00", datetime(2026, 1, 4, 3)),
        ("01/04/2026 03:00", datetime(2026, 1, 4, 3)),
        ("1/4/2026 3:00", datetime(2026, 1, 4, 3)),
        ("12/31/2026 23:00", datetime(2026, 12, 31, 23)),
        (" 7/4/2026 0:00 ", datetime(2026, 7, 4, 0)),
    ],
)
def test_parse_label_with_and_without_padding(label, expected):
    assert parse_label(label) == expected


@pytest.mark.parametrize("bad", ["", "2026-01-04 3:00", "13/01/2026 3:00", "01/04/2026", None, 5])
def test_parse_label_rejects_garbage(bad):
    with pytest.raises(LabelError):
        parse_label(bad)


def test_ordinary_winter_and_summer_days():
    winter = resolve_kamo_labels(["01/04/2026 2:00", "01/04/2026 3:00"])
    assert [r.ts for r in winter] == [utc(2026, 1, 4, 8), utc(2026, 1, 4, 9)]  # CST = UTC-6
    summer = resolve_kamo_labels(["07/04/2026 9:00", "07/04/2026 10:00"])
    assert [r.ts for r in summer] == [utc(2026, 7, 4, 14), utc(2026, 7, 4, 15)]  # CDT = UTC-5


def test_autumn_repeated_hour_resolved_by_order():
    labels = ["11/01/2026 0:00", "11/01/2026 1:00", "11/01/2026 1:00", "11/01/2026 2:00"]
    got = [r.ts for r in resolve_kamo_labels(labels)]
    assert got == [
        utc(2026, 11, 1, 5),
        utc(2026, 11, 1, 6),
        utc(2026, 11, 1, 7),
        utc(2026, 11, 1, 8),
    ]


def test_autumn_window_starting_on_the_second_one_oclock():
    # The 12-hour window can begin with the standard-time 1:00: the next label decides.
    got = [r.ts for r in resolve_kamo_labels(["11/01/2026 1:00", "11/01/2026 2:00"])]
    assert got == [utc(2026, 11, 1, 7), utc(2026, 11, 1, 8)]
    only_first = [r.ts for r in resolve_kamo_labels(["11/01/2026 0:00", "11/01/2026 1:00"])]
    assert only_first == [utc(2026, 11, 1, 5), utc(2026, 11, 1, 6)]


@pytest.mark.parametrize("opens", range(24))
def test_every_twelve_hour_window_over_the_autumn_change(opens):
    """Wherever KAMO's 12-hour window opens around the change, including on both 1:00s
    (KAMO's clock at 17:xx UTC that Sunday), each label gets its own hour."""
    hours = [utc(2026, 10, 31, 19) + 3600 * (opens + i) for i in range(12)]
    labels = [format_kamo_label(ts) for ts in hours]
    assert [r.ts for r in resolve_kamo_labels(labels)] == hours


def test_a_window_of_only_the_two_one_oclocks():
    labels = ["11/01/2026 1:00", "11/01/2026 1:00"]
    got = [r.ts for r in resolve_kamo_labels(labels)]
    assert got == [utc(2026, 11, 1, 6), utc(2026, 11, 1, 7)]


def test_spring_missing_hour_is_flagged_not_guessed():
    labels = ["03/08/2026 1:00", "03/08/2026 2:00", "03/08/2026 3:00"]
    got = resolve_kamo_labels(labels)
    assert got[0].ts == utc(2026, 3, 8, 7)
    assert got[1].ts is None and "does not exist" in got[1].problem
    assert got[2].ts == utc(2026, 3, 8, 8)  # 3:00 CDT follows 1:00 CST by one hour


def test_spring_day_without_the_gap_label():
    labels = [f"03/08/2026 {h}:00" for h in (0, 1, 3, 4)]
    got = [r.ts for r in resolve_kamo_labels(labels)]
    assert [b - a for a, b in zip(got, got[1:], strict=False)] == [3600, 3600, 3600]


def test_out_of_order_labels_are_an_error():
    with pytest.raises(LabelError):
        resolve_kamo_labels(["01/04/2026 3:00", "01/04/2026 2:00"])
    with pytest.raises(LabelError):
        resolve_kamo_labels(["01/04/2026 3:00", "01/04/2026 3:00"])


def test_format_label_round_trips_a_full_autumn_day():
    hours = [utc(2026, 11, 1, 0) + 3600 * i for i in range(30)]
    labels = [format_kamo_label(ts) for ts in hours]
    assert labels.count("11/01/2026 1:00") == 2
    assert [r.ts for r in resolve_kamo_labels(labels)] == hours


@pytest.mark.parametrize("interval", ALLOWED_INTERVALS)
def test_slots_align_to_the_hour_for_every_interval(interval):
    step = interval * 60
    marks = slot_marks(interval)
    assert marks == list(range(0, 60, interval)) and len(marks) * interval == 60
    base = utc(2026, 11, 1, 6)  # an hour boundary, inside the autumn DST night
    for offset in (0, 1, step - 1, step, step + 59, 3599, 3600 + 7):
        ts = base + offset
        start = slot_start(ts + 0.75, interval)
        assert start % step == 0 and start <= ts < start + step
        assert next_slot(ts, interval) == start + step


def test_slot_of_a_manual_poll():
    # A manual poll at 10:07 belongs to the 10:05 slot.
    t = datetime(2026, 11, 26, 10, 7, 31, tzinfo=CT).timestamp()
    assert datetime.fromtimestamp(slot_start(t, 5), CT).strftime("%H:%M:%S") == "10:05:00"


def test_iso_shows_the_local_offset():
    assert iso(utc(2026, 1, 4, 9), CT) == "2026-01-04T03:00:00-06:00"
    assert iso(utc(2026, 7, 4, 15), CT) == "2026-07-04T10:00:00-05:00"
    assert iso(None, CT) is None
