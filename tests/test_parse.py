import json

import pytest

from collector.parse import (
    MAX_AREA_LOAD_KW,
    MAX_SUBSTATION_KW,
    ParseError,
    decode_json,
    parse_area_list,
    parse_areagrid,
    parse_loadtable,
)

from support import FIXTURES


def fixture(name: str):
    return json.loads((FIXTURES / name).read_text())


def grid(labels, data, area=1, **extra):
    return {
        "Id": area,
        "chartLineData": [{"label": "Actual", "data": data}],
        "lineChartLabels": labels,
        **extra,
    }


def test_real_area_list():
    areas = parse_area_list(fixture("area.json"))
    assert len(areas) == 20 and areas[0].abbreviation == "OZEC" and areas[19].name == "KAMO"


def test_real_areagrid_keeps_actual_values_and_drops_future_nulls():
    raw = fixture("areagrid-1.json")
    got = parse_areagrid(raw, 1)
    values = [v for v in raw["chartLineData"][0]["data"] if v is not None]
    assert [p.load_kw for p in got.points] == values and len(values) == 12
    assert got.points[-1].ts == 1767517200  # 01/04/2026 3:00 CST = 09:00 UTC
    assert got.warnings == []


def test_real_loadtable():
    rows, warnings = parse_loadtable(fixture("arealoadtable-1.json"), 1)
    assert len(rows) == 28 and warnings == []
    assert (rows[0].name, rows[0].kw, rows[0].kvar, rows[0].pf) == (
        "Ash Grove",
        4031.0,
        -200.0,
        -1.0,
    )


def test_unknown_fields_and_series_are_ignored():
    payload = grid(["01/04/2026 3:00"], [5.0], region="x")
    payload["chartLineData"] = [
        {"label": "Forecast", "data": [9.0]},
        {"label": " ACTUAL ", "data": [5.0], "color": "red"},
        {"label": "Day Ahead", "data": [1.0]},
    ]
    assert [p.load_kw for p in parse_areagrid(payload, 1).points] == [5.0]
    table = {
        "Id": 1,
        "extra": 1,
        "areaLoadData": [
            {
                "name": "A",
                "kw": 1,
                "kvar": 0,
                "pf": 0,
                "quality": False,
                "qualityNow": False,
                "new": 3,
            }
        ],
    }
    assert parse_loadtable(table, 1)[0][0].kw == 1.0


def test_spring_gap_label_skips_one_value_with_a_warning():
    labels = ["03/08/2026 1:00", "03/08/2026 2:00", "03/08/2026 3:00"]
    got = parse_areagrid(grid(labels, [10.0, 20.0, 30.0]), 1)
    assert [p.load_kw for p in got.points] == [10.0, 30.0]
    assert len(got.warnings) == 1 and "does not exist" in got.warnings[0]


@pytest.mark.parametrize(
    "payload, needle",
    [
        ([], "expected an object"),
        ({"Id": 2, "chartLineData": [], "lineChartLabels": []}, "asked for area 1"),
        (grid(None, [1.0]), "lineChartLabels: expected a list, got null"),
        (
            {"Id": 1, "chartLineData": "Actual", "lineChartLabels": []},
            "chartLineData: expected a list",
        ),
        ({"Id": 1, "chartLineData": [], "lineChartLabels": []}, "no Actual series"),
        (grid(["01/04/2026 3:00"], [1.0, 2.0]), "2 values for 1 labels"),
        (grid(["01/04/2026 3:00"], ["12"]), "expected a number"),
        (grid(["01/04/2026 3:00"], [True]), "expected a number"),
        (grid(["yesterday"], [1.0]), "not MM/DD/YYYY"),
        (grid([None], [1.0]), "expected a string"),
    ],
)
def test_bad_areagrid_fails_with_a_precise_reason(payload, needle):
    with pytest.raises(ParseError, match=None) as err:
        parse_areagrid(payload, 1)
    assert needle in str(err.value)


@pytest.mark.parametrize(
    "rows, needle",
    [
        ({"a": 1}, "areaLoadData: expected a list"),
        ([{"name": "X", "kw": None, "kvar": 1, "pf": 1}], "(X).kw: expected a number, got null"),
        ([{"name": "X", "kw": 1, "kvar": 1}], "(X).pf: expected a number, got null"),
        ([{"kw": 1, "kvar": 1, "pf": 1}], "missing 'name'"),
        ([{"name": " ", "kw": 1, "kvar": 1, "pf": 1}], "empty substation name"),
        ([{"name": "X", "kw": 1, "kvar": 1, "pf": 1, "quality": "no"}], "quality: expected bool"),
        (["X"], "expected an object"),
    ],
)
def test_bad_loadtable_fails_with_a_precise_reason(rows, needle):
    with pytest.raises(ParseError) as err:
        parse_loadtable({"Id": 1, "areaLoadData": rows}, 1)
    assert needle in str(err.value)


def test_repeated_substation_name_keeps_the_first():
    rows = [{"name": "X", "kw": 1, "kvar": 0, "pf": 0}, {"name": "X", "kw": 2, "kvar": 0, "pf": 0}]
    got, warnings = parse_loadtable({"Id": 1, "areaLoadData": rows}, 1)
    assert [r.kw for r in got] == [1.0] and "listed twice" in warnings[0]


@pytest.mark.parametrize(
    "body, content_type, needle",
    [
        (b"<!DOCTYPE html><html>Service Unavailable</html>", "text/html", "HTML instead of JSON"),
        (b"<html></html>", "application/json", "HTML instead of JSON"),
        (b'{"Id": 1, "areaLo', "application/json", "invalid JSON"),
        (b"", "application/json", "empty body"),
        (b"\xff\xfe{}", "application/json", "invalid JSON"),
    ],
)
def test_decode_names_what_came_instead_of_json(body, content_type, needle):
    with pytest.raises(ParseError) as err:
        decode_json(body, content_type)
    assert needle in str(err.value)


def test_area_list_validation():
    with pytest.raises(ParseError, match="non-empty list"):
        parse_area_list({"id": 1})
    with pytest.raises(ParseError, match="duplicate"):
        parse_area_list([{"id": 1, "name": "a", "abrev": "A"}] * 2)
    with pytest.raises(ParseError, match="missing 'abrev'"):
        parse_area_list([{"id": 1, "name": "a"}])


# --- hostile values: each must be a ParseError (fails one area), never another exception ---

LABELS = ["01/04/2026 2:00", "01/04/2026 3:00"]


@pytest.mark.parametrize(
    "number_text, needle",
    [
        ("9" * 400, "number of 400 digits"),  # float() of it: OverflowError
        ("-" + "9" * 5000, "number of 5000 digits"),  # int() of it: ValueError (4,300 limit)
        ("1e999", "out of range"),  # float() of it: inf
        ("NaN", "NaN is not a number"),
        ("Infinity", "Infinity is not a number"),
        ("-Infinity", "-Infinity is not a number"),
    ],
    ids=["400-digits", "5000-digits", "1e999", "nan", "infinity", "-infinity"],
)
def test_impossible_json_numbers_are_parse_errors(number_text, needle):
    body = json.dumps(grid(LABELS, [5, "X"])).replace('"X"', number_text).encode()
    with pytest.raises(ParseError, match=needle):
        decode_json(body)


def test_deep_nesting_is_a_parse_error():
    body = b'{"Id": 1, "x": ' + b"[" * 100_000 + b"1" + b"]" * 100_000 + b"}"
    with pytest.raises(ParseError, match="nested too deeply"):
        decode_json(body)


def test_ordinary_numbers_still_decode():
    assert decode_json(b'{"kw": 12345, "kvar": -3.5, "pf": 0.99, "big": 123456789012}') == {
        "kw": 12345,
        "kvar": -3.5,
        "pf": 0.99,
        "big": 123456789012,
    }


@pytest.mark.parametrize(
    "value, ok",
    [
        (MAX_AREA_LOAD_KW, True),
        (-MAX_AREA_LOAD_KW, True),
        (MAX_AREA_LOAD_KW + 1, False),
        (1e300, False),
        (-1e300, False),
        (10**400, False),
    ],
    ids=str,
)
def test_area_load_bound(value, ok):
    payload = grid(LABELS, [1000, value])
    if ok:
        assert parse_areagrid(payload, 1).points[-1].load_kw == value
    else:
        with pytest.raises(ParseError, match=r"Actual\[1\]"):
            parse_areagrid(payload, 1)


def _row(**values):
    return {"name": "Sub", "kw": 100, "kvar": 10, "pf": 0.99, **values}


@pytest.mark.parametrize(
    "field, value, ok",
    [
        ("kw", MAX_SUBSTATION_KW, True),
        ("kw", MAX_SUBSTATION_KW * 1.01, False),
        ("kw", 1e300, False),
        ("kvar", -MAX_SUBSTATION_KW, True),
        ("kvar", -MAX_SUBSTATION_KW * 1.01, False),
        ("pf", 1.0, True),
        ("pf", -1.0, True),
        ("pf", 1.01, False),
        ("pf", -1.5, False),
        ("kw", float("nan"), False),
        ("kvar", float("inf"), False),
    ],
)
def test_substation_bounds_name_the_field(field, value, ok):
    payload = {"Id": 2, "areaLoadData": [_row(), _row(name="Other", **{field: value})]}
    if ok:
        rows, _ = parse_loadtable(payload, 2)
        assert getattr(rows[1], field) == value
    else:
        with pytest.raises(ParseError, match=rf"areaLoadData\[1\] \(Other\)\.{field}"):
            parse_loadtable(payload, 2)


def test_unexpected_structure_in_a_number_field_is_named_briefly():
    deep = [[[[1]]]] * 10_000  # an odd value must not be dumped whole into the reason
    with pytest.raises(ParseError, match=r"\.kw: expected a number, got a list$"):
        parse_loadtable({"Id": 2, "areaLoadData": [_row(kw=deep)]}, 2)


@pytest.mark.parametrize("area_id", [0, -1, 1_000_001, 10**25])
def test_area_ids_outside_a_plausible_range_are_refused(area_id):
    # 10**25 does not fit SQLite's integer: sqlite3 would raise OverflowError at write time.
    with pytest.raises(ParseError, match=r"area\[0\]\.id: .* is not an id from 1 to 1000000"):
        parse_area_list([{"id": area_id, "name": "a", "abrev": "A"}])


def test_an_absurdly_long_substation_name_fails_its_area():
    with pytest.raises(ParseError, match="substation name of 5000 characters"):
        parse_loadtable({"Id": 2, "areaLoadData": [_row(name="x" * 5000)]}, 2)


def test_nul_characters_cannot_reach_the_database():
    # PostgreSQL text cannot hold NUL: names lose it, and a substation (a key) fails its area.
    (area,) = parse_area_list([{"id": 3, "name": "Ea\x00st", "abrev": "\x00E"}])
    assert (area.name, area.abbreviation) == ("East", "E")
    with pytest.raises(ParseError, match=r"areaLoadData\[0\]: NUL character"):
        parse_loadtable({"Id": 2, "areaLoadData": [_row(name="Sub\x00")]}, 2)
