"""`python -m collector once` as a subprocess against the simulator over real HTTP."""

from __future__ import annotations

import json
import re

import pytest
import requests

from sim_process import control, free_port, start_simulator
from support import FIXTURES, collector_env, query, query_dicts, run_collector

PINNED = "2026-11-26T16:07:00Z"  # a fixed data clock keeps repeated runs comparable
LINE = re.compile(
    r"^\S+[+-]\d\d:\d\d import manual (ok|partial|failed) [\d.]+s areas \d+/\d+ "
    r"load \+\d+ new \d+ revised \d+ same readings \+\d+"
)


@pytest.fixture
def sim(simulator):
    control(
        simulator.base_url,
        now=PINNED,
        fault=None,
        fault_areas=None,
        revise=0,
        date_skew_seconds=0,
        error_rate=0,
        latency_ms=0,
    )
    yield simulator


def last_run(url: str) -> dict:
    return query_dicts(url, "select * from import_run order by id desc limit 1")[0]


def expected_substations(base_url: str) -> dict[int, set[str]]:
    return {
        a: {
            row["name"]
            for row in requests.get(f"{base_url}/arealoadtable/{a}").json()["areaLoadData"]
        }
        for a in range(1, 18)
    }


def test_first_run_stores_every_area_and_substation(sim, tmp_path, db_url):
    env = collector_env(sim.base_url, tmp_path, db_url)
    done = run_collector(env, "once")
    assert done.returncode == 0, done.stderr
    assert LINE.search(done.stdout.splitlines()[-1]), done.stdout
    db = db_url
    assert query(db, "select count(*), count(*) filter (where is_aggregate) from area") == [(20, 3)]
    per_area = dict(query(db, "select area_id, count(*) from hourly_load group by area_id"))
    assert sorted(per_area) == list(range(1, 21)) and set(per_area.values()) == {12}
    want = expected_substations(sim.base_url)
    got = {}
    for area_id, name in query(db, "select area_id, name from substation"):
        got.setdefault(area_id, set()).add(name)
    assert got == want
    total = sum(len(v) for v in want.values())
    assert query(db, "select count(*), count(distinct ts) from substation_reading") == [(total, 1)]
    run = last_run(db)
    assert (run["status"], run["trigger"], run["areas_ok"], run["areas_total"]) == (
        "success",
        "manual",
        20,
        20,
    )
    assert (run["load_new"], run["readings_stored"], run["substations_new"]) == (240, total, total)
    assert query(db, 'select rows from row_count order by "table"') == [(240,), (total,)]


def test_second_run_counts_unchanged_and_stores_nothing_twice(sim, tmp_path, db_url):
    env = collector_env(sim.base_url, tmp_path, db_url)
    assert run_collector(env, "once").returncode == 0
    db = db_url
    readings = query(db, "select count(*) from substation_reading")[0][0]
    slots = query(db, "select count(distinct ts) from substation_reading")[0][0]
    done = run_collector(env, "once")
    assert done.returncode == 0
    assert "load +0 new 0 revised 240 same" in done.stdout
    run = last_run(db)
    assert (
        run["load_new"],
        run["load_revised"],
        run["load_unchanged"],
        run["substations_new"],
    ) == (0, 0, 240, 0)
    assert query(db, "select count(*) from hourly_load") == [(240,)]
    assert query(db, "select count(*) from substation") == [(readings // slots,)]
    # Same slot: replaced in place. (A slot boundary between the runs adds exactly one slot.)
    now_slots = query(db, "select count(distinct ts) from substation_reading")[0][0]
    assert (
        query(db, "select count(*) from substation_reading")[0][0] == readings // slots * now_slots
    )
    assert query(db, "select rows from row_count where \"table\"='substation_reading'") == [
        (readings // slots * now_slots,)
    ]


def test_a_changed_hourly_value_is_replaced_and_counted_as_revision(sim, tmp_path, db_url):
    env = collector_env(sim.base_url, tmp_path, db_url)
    assert run_collector(env, "once").returncode == 0
    control(sim.base_url, revise=250)
    done = run_collector(env, "once")
    assert done.returncode == 0
    run = last_run(db_url)
    # 11 completed hours per area changed; the provisional newest hour did not.
    assert (run["load_revised"], run["load_unchanged"], run["load_new"]) == (220, 20, 0)
    served = requests.get(f"{sim.base_url}/areagrid/5").json()
    values = [v for v in served["chartLineData"][0]["data"] if v is not None]
    stored = [
        r[0] for r in query(db_url, "select load_kw from hourly_load where area_id=5 order by ts")
    ]
    assert stored == values
    revised = query(
        db_url,
        "select count(*) from hourly_load where revisions=1 and last_changed>first_seen-1",
    )
    assert revised == [(220,)]


def test_a_window_opening_on_both_one_oclocks_is_stored_whole(sim, tmp_path, db_url):
    """At 17:xx UTC on the autumn Sunday KAMO's 12 hours open with 1:00 CDT, 1:00 CST."""
    control(sim.base_url, now="2026-11-01T17:20:00Z")
    done = run_collector(collector_env(sim.base_url, tmp_path, db_url), "once")
    assert done.returncode == 0, done.stdout + done.stderr
    db = db_url
    assert last_run(db)["status"] == "success"
    first = 1793512800  # 2026-11-01T06:00Z, the first 1:00 (CDT)
    per_hour = query(db, "select ts, count(*) from hourly_load group by ts order by ts")
    assert per_hour == [(first + 3600 * i, 20) for i in range(12)]


def test_real_fixtures_import_exactly(tmp_path, db_url):
    with start_simulator("--quiet", "--fixtures", str(FIXTURES)) as sim:
        done = run_collector(collector_env(sim.base_url, tmp_path, db_url), "once")
    assert done.returncode == 0  # partial: areas 10-20 were not captured (404)
    assert "partial" in done.stdout and "failed: 10 (areagrid: HTTP 404)" in done.stdout
    db = db_url
    run = last_run(db)
    assert (run["status"], run["areas_ok"], run["areas_total"]) == ("partial", 9, 20)
    assert sorted(json.loads(run["area_errors"])) == sorted(str(a) for a in range(10, 21))
    for area in range(1, 10):
        grid = json.loads((FIXTURES / f"areagrid-{area}.json").read_text())
        values = [v for v in grid["chartLineData"][0]["data"] if v is not None]
        stored = query(db, "select load_kw from hourly_load where area_id=? order by ts", area)
        assert [r[0] for r in stored] == values
        table = json.loads((FIXTURES / f"arealoadtable-{area}.json").read_text())["areaLoadData"]
        rows = query(
            db,
            "select s.name, r.kw, r.kvar, "
            "coalesce(r.pf_exact, r.pf_centi / cast(100 as double precision)), "
            "r.quality, r.quality_now from substation_reading r "
            "join substation s on s.id = r.substation_id where s.area_id=?",
            area,
        )
        assert sorted(rows) == sorted(
            (t["name"], t["kw"], t["kvar"], t["pf"], int(t["quality"]), int(t["qualityNow"]))
            for t in table
        )
    # Newest label 01/04/2026 3:00 Central = 09:00 UTC.
    assert query(db, "select max(ts) from hourly_load") == [(1767517200,)]


FAILING_MODES = ["timeout", "http500", "http404", "html", "truncated", "nulls", "wrong-shape"]


@pytest.mark.parametrize("mode", FAILING_MODES)
def test_a_fault_fails_that_area_only(sim, tmp_path, db_url, mode):
    control(sim.base_url, fault=mode, fault_areas=[7])
    env = collector_env(sim.base_url, tmp_path, db_url, KAMO_TIMEOUT_SECONDS="0.5")
    done = run_collector(env, "once")
    assert done.returncode == 0, done.stderr  # partial is a success for `once`
    db = db_url
    run = last_run(db)
    assert (run["status"], run["areas_ok"], run["areas_total"]) == ("partial", 19, 20)
    errors = json.loads(run["area_errors"])
    assert list(errors) == ["7"] and errors["7"].startswith(("areagrid: ", "arealoadtable: "))
    assert "failed: 7 (" in done.stdout
    stored = {a for (a,) in query(db, "select distinct area_id from hourly_load")}
    assert stored == set(range(1, 21)) - {7}
    assert query(db, "select count(*) from substation where area_id=7") == [(0,)]


@pytest.mark.parametrize("mode", ["unknown-fields", "unknown-series"])
def test_tolerated_changes_are_not_failures(sim, tmp_path, db_url, mode):
    control(sim.base_url, fault=mode)
    done = run_collector(collector_env(sim.base_url, tmp_path, db_url), "once")
    assert done.returncode == 0
    assert last_run(db_url)["status"] == "success"


def test_kamo_down_gives_a_failed_run_and_exit_1(tmp_path, db_url):
    dead = f"http://127.0.0.1:{free_port()}/api"
    done = run_collector(collector_env(dead, tmp_path, db_url, KAMO_TIMEOUT_SECONDS="0.5"), "once")
    assert done.returncode == 1
    run = last_run(db_url)
    assert (
        run["status"] == "failed" and "connection refused" in json.loads(run["area_errors"])["area"]
    )
    assert "import manual failed" in done.stdout


def test_all_areas_failing_is_a_failed_run(sim, tmp_path, db_url):
    env = collector_env(sim.base_url, tmp_path, db_url)
    assert run_collector(env, "once").returncode == 0  # areas known from a first run
    control(sim.base_url, fault="http500")
    done = run_collector(env, "once")
    assert done.returncode == 1
    run = last_run(db_url)
    assert (run["status"], run["areas_ok"]) == ("failed", 0)
    assert len(json.loads(run["area_errors"])) == 20


def test_clock_skew_is_reported(sim, tmp_path, db_url):
    control(sim.base_url, date_skew_seconds=600)
    done = run_collector(collector_env(sim.base_url, tmp_path, db_url), "once")
    assert done.returncode == 0
    run = last_run(db_url)
    assert 590 < run["clock_skew_seconds"] < 610
    assert re.search(r"clock is (59\d|60\d) s behind KAMO", run["warnings"])
    assert "WARNING clock:" in done.stdout
