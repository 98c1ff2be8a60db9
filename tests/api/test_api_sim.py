"""Every public endpoint against data the real collector stored from the simulator.

Expected values are read straight from the database the collector wrote (both backends).
"""

from __future__ import annotations

from api_support import ReadSql

from shared.models import reading_pf
from shared.timeutil import KAMO_ZONE, iso


def _newest(sql: ReadSql, area_id: int) -> tuple[int, float]:
    return sql.execute(
        "SELECT ts, load_kw FROM hourly_load WHERE area_id = ? ORDER BY ts DESC LIMIT 1",
        (area_id,),
    ).fetchone()


def test_cooperatives_shape(client) -> None:
    body = client.get("/api/cooperatives").get_json()
    assert [a["id"] for a in body] == list(range(1, 21))
    assert all(set(a) == {"id", "name", "abbreviation", "is_aggregate"} for a in body)
    assert [a["id"] for a in body if a["is_aggregate"]] == [18, 19, 20]


def test_current_load_every_area(client, sim_sql) -> None:
    for area_id in range(1, 21):
        ts, kw = _newest(sim_sql, area_id)
        body = client.get(f"/api/load/current/{area_id}").get_json()
        assert body["load_kw"] == kw and body["timestamp"] == iso(ts, KAMO_ZONE)
        assert list(body) == ["area_id", "area_name", "load_kw", "timestamp"]


def test_history_hours_ends_with_newest(client, sim_sql) -> None:
    rows = sim_sql.execute(
        "SELECT ts, load_kw FROM hourly_load WHERE area_id = 20 ORDER BY ts"
    ).fetchall()
    start, end = iso(rows[0][0], KAMO_ZONE), iso(rows[-1][0] + 3600, KAMO_ZONE)
    body = client.get(f"/api/load/history/20?start={start}&end={end}").get_json()
    assert [(p["timestamp"], p["load_kw"]) for p in body["points"]] == [
        (iso(ts, KAMO_ZONE), kw) for ts, kw in rows
    ]


def test_peaks_year_and_month(client, sim_sql) -> None:
    ts, kw = sim_sql.execute(
        "SELECT ts, load_kw FROM hourly_load WHERE area_id = 5 ORDER BY load_kw DESC, ts LIMIT 1"
    ).fetchone()
    for period, label in (("year", "2026"), ("month", "2026-11")):
        body = client.get(f"/api/load/peaks/5?period={period}").get_json()
        assert body["peaks"][0] == {
            "period": label,
            "timestamp": iso(ts, KAMO_ZONE),
            "load_kw": kw,
            "hours": sim_sql.execute(
                "SELECT count(*) FROM hourly_load WHERE area_id = 5"
            ).fetchone()[0],
        }


def test_coincident_peak_month(client, sim_sql) -> None:
    ts, system = sim_sql.execute(
        "SELECT ts, load_kw FROM hourly_load WHERE area_id = 20 ORDER BY load_kw DESC, ts LIMIT 1"
    ).fetchone()
    body = client.get("/api/load/coincident-peaks?from=2026-11&to=2026-11").get_json()
    (month,) = body["months"]
    assert month["month"] == "2026-11" and month["system_load_kw"] == system
    assert month["timestamp"] == iso(ts, KAMO_ZONE)
    members = dict(
        sim_sql.execute(
            "SELECT area_id, load_kw FROM hourly_load WHERE ts = ? AND area_id <= 17", (ts,)
        ).fetchall()
    )
    assert [m["area_id"] for m in month["members"]] == list(range(1, 18))
    for m in month["members"]:
        assert m["load_kw"] == members[m["area_id"]]
        assert m["share"] == round(members[m["area_id"]] / system, 5)


def test_substations_current_and_history(client, sim_sql) -> None:
    slot = sim_sql.execute("SELECT max(ts) FROM substation_reading").fetchone()[0]
    rows = sim_sql.execute(
        "SELECT s.name, r.kw, r.kvar, r.pf_centi, r.pf_exact FROM substation_reading r "
        "JOIN substation s ON s.id = r.substation_id WHERE r.ts = ? AND s.area_id = 3",
        (slot,),
    ).fetchall()
    body = client.get("/api/substations/current/3").get_json()
    assert body["timestamp"] == iso(slot, KAMO_ZONE)
    got = {s["name"]: (s["kw"], s["kvar"], s["pf"]) for s in body["substations"]}
    for name, kw, kvar, centi, exact in rows:
        pf = reading_pf(centi, exact)
        assert got[name] == (kw, kvar, None if pf == 0 and kvar == 0 else pf)

    raw = client.get("/api/substations/history/3?hours=2&resolution=raw").get_json()
    assert raw["resolution"] == "raw"
    assert {s["name"] for s in raw["substations"]} == set(got)
    hourly = client.get("/api/substations/history/3?hours=2&resolution=1h").get_json()
    for series in hourly["substations"]:
        raw_points = next(s for s in raw["substations"] if s["id"] == series["id"])["points"]
        assert sum(p["samples"] for p in series["points"]) == len(raw_points)
        assert max(p["kw_max"] for p in series["points"]) == max(p["kw"] for p in raw_points)
    one = client.get(f"/api/substations/history/3?hours=2&substation={rows[0][0]}").get_json()
    assert [s["name"] for s in one["substations"]] == [rows[0][0]]


def test_status_and_imports(client, sim_sql) -> None:
    body = client.get("/api/status").get_json()
    counts = dict(sim_sql.execute('SELECT "table", rows FROM row_count').fetchall())
    assert body["database"]["rows"]["substation_reading"] == counts["substation_reading"]
    assert body["database"]["rows"]["hourly_load"] == counts["hourly_load"]
    assert body["runs_24h"]["runs"] == 2 and body["runs_24h"]["success_rate"] == 1.0
    assert body["last_success"]["status"] == "success"
    assert len(body["gaps"]["areas"]) == 20
    runs = client.get("/api/imports?limit=1").get_json()
    assert len(runs["runs"]) == 1 and runs["next_before_id"] == runs["runs"][0]["id"]
    older = client.get(f"/api/imports?limit=1&before_id={runs['next_before_id']}").get_json()
    assert older["runs"][0]["id"] < runs["runs"][0]["id"]


def test_metrics(client, sim_sql) -> None:
    text = client.get("/metrics").get_data(as_text=True)
    assert 'kamo_import_runs{status="success"} 2.0' in text
    ts, kw = _newest(sim_sql, 20)
    assert f'kamo_area_load_kw{{area="KAMO",area_id="20"}} {kw}' in text
    assert "kamo_last_success_timestamp_seconds" in text
    assert 'kamo_rows_stored{table="substation_reading"}' in text
