"""Every page in every state of the database, and the numbers it shows, checked against
the database the real collector wrote."""

from __future__ import annotations

import re
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from dash_support import beat, make_app, path_points, read_db, text_of
from flask.testing import FlaskClient

PAGES = ["/", "/inspector", "/inspector?area=1&range=7d", "/tables", "/imports"]
CT = ZoneInfo("America/Chicago")


def mw(kw: float, digits: int = 1) -> str:
    return f"{kw / 1000:,.{digits}f}"


def num(value: float) -> str:
    """A stored number as the pages write it: whole without decimals, else up to two."""
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def local(ts: int) -> str:
    from datetime import datetime

    return datetime.fromtimestamp(ts, CT).strftime("%Y-%m-%d %H:%M %Z")


def get_text(client: FlaskClient, url: str, status: int = 200) -> str:
    response = client.get(url)
    assert response.status_code == status, response.get_data(as_text=True)[:2000]
    assert response.mimetype == "text/html"
    return text_of(response.get_data(as_text=True))


# --- states: no database, empty database, never-seen / running / stale collector ---------


def test_no_database_file(nodb_dir: Path) -> None:
    client = make_app(nodb_dir).test_client()
    text = get_text(client, "/")
    assert "The database cannot be read yet" in text and "does not exist yet" in text
    assert "Collector never" in text
    for url in PAGES[1:]:
        response = client.get(url)
        assert response.status_code == 503, url
        assert response.mimetype == "text/html"
        assert response.headers["Retry-After"] == "30"
        assert "Database not available" in text_of(response.get_data(as_text=True))


@pytest.mark.parametrize("url", PAGES + ["/inspector?area=20&range=1y", "/tables?table=area"])
def test_empty_database_renders(empty_client: FlaskClient, url: str) -> None:
    text = get_text(empty_client, url)
    assert "KAMO Load Logger" in text


def test_empty_database_says_so(empty_client: FlaskClient) -> None:
    home = get_text(empty_client, "/")
    assert "No import has run yet" in home and "No import runs yet" in home
    assert "No hourly load stored yet" in home
    assert "Hourly load values 0" in home and "Substation readings 0" in home
    assert "No areas stored yet" in get_text(empty_client, "/inspector")
    assert "No import runs yet" in get_text(empty_client, "/imports")
    tables = get_text(empty_client, "/tables?table=substation_reading")
    assert "No rows" in tables


def test_collector_never_seen(history_dir: Path, tmp_path: Path) -> None:
    text = get_text(make_app(history_dir, data_dir=tmp_path).test_client(), "/")
    assert "Collector never" in text and "No heartbeat yet" in text
    assert "not scheduled" in text


def test_collector_running_shows_next_poll(history_dir: Path, tmp_path: Path) -> None:
    state = beat(tmp_path)
    text = get_text(make_app(history_dir, data_dir=tmp_path).test_client(), "/")
    assert "Collector running" in text
    from datetime import datetime

    next_poll = datetime.fromtimestamp(state["next_slot"], CT).strftime("%H:%M %Z")
    assert f"Next poll: {next_poll}" in text
    assert "pid 4242" in text


def test_collector_stale(history_dir: Path, tmp_path: Path) -> None:
    beat(tmp_path, age=600)
    text = get_text(make_app(history_dir, data_dir=tmp_path).test_client(), "/")
    assert "Collector stale" in text and "10 min ago" in text
    assert "not scheduled" in text


# --- the numbers ---------------------------------------------------------------------------


def test_dashboard_numbers(history_client: FlaskClient, history_dir: Path) -> None:
    text = get_text(history_client, "/")
    with read_db(history_dir) as db:
        kept = dict(db.execute('SELECT "table", rows FROM row_count'))
        runs = db.execute("SELECT count(*) FROM import_run").fetchone()[0]
        last = db.execute(
            "SELECT id, status, started_at, readings_stored FROM import_run ORDER BY id DESC"
        ).fetchone()
        system = db.execute(
            "SELECT ts, load_kw FROM hourly_load WHERE area_id = 20 ORDER BY ts DESC"
        ).fetchone()
        subs = db.execute("SELECT count(*) FROM substation").fetchone()[0]
        oldest = db.execute("SELECT min(ts) FROM hourly_load").fetchone()[0]
    assert f"Hourly load values {kept['hourly_load']:,}" in text
    assert f"Substation readings {kept['substation_reading']:,}" in text
    assert f"Substations {subs:,}" in text and f"Import runs {runs:,}" in text
    assert f"Last run {last[1]} {local(int(last[2]))}" in text
    assert f"KAMO system load {mw(system[1])} MW hour of {local(system[0])}" in text
    assert f"Hourly load {local(oldest)} to {local(system[0])}" in text
    # all runs inside the last 24 hours; the partial one counts as a good poll
    assert f"24 h 100.0 % {runs} of {runs} · 1 partial" in text
    assert text.count(" manual success ") == min(runs, 20) - 1
    assert text.count(" manual partial ") == 1 and "SOEC: areagrid: HTTP 500" in text


def test_dashboard_gaps(history_client: FlaskClient, history_dir: Path) -> None:
    """The partial run left area 7 (SOEC) without some hours: one range, exact bounds."""
    with read_db(history_dir) as db:
        stored = {ts for (ts,) in db.execute("SELECT ts FROM hourly_load WHERE area_id = 7")}
        others = db.execute(
            "SELECT count(DISTINCT area_id) FROM hourly_load WHERE area_id != 7"
        ).fetchone()[0]
    import time

    current = int(time.time()) // 3600 * 3600
    missing = [ts for ts in range(min(stored), current, 3600) if ts not in stored]
    assert missing and missing == list(range(missing[0], missing[-1] + 3600, 3600))
    text = get_text(history_client, "/")
    assert f"{len(missing)} missing area-hours · no failed polls" in text
    row = f"{local(missing[0])} {local(missing[-1] + 3600)} {len(missing)} SOEC"
    assert row in text
    assert others == 19


def test_dashboard_partial_run_and_gaps(real_client: FlaskClient, real_dir: Path) -> None:
    """The captured day is months old: areas 1-9 miss every hour of the last 7 days, and
    the one run was partial with areas 10-20 failing."""
    text = get_text(real_client, "/")
    assert "Last run partial" in text
    for abbr in ("CREC", "KAMO", "MO.", "OK."):
        assert f"{abbr}: areagrid: HTTP 404" in text
    assert "1,512 missing area-hours" in text  # 9 areas x 168 hours
    assert "OZEC, LREC, BAEC, BCEC, NMEC, OVEC, SOEC, SWEC, WREC" in text


def _chart(html: str) -> tuple[int, int, int, int]:
    """(data-points, points drawn by the first line, data-start, data-end) of the page's chart."""
    svg = re.search(r'<svg class="chart"[^>]*data-points="(\d+)" data-start="(\d+)" '
                    r'data-end="(\d+)"', html)  # fmt: skip
    assert svg, "no chart"
    line = re.search(r'<path class="line s1"[^>]*d="([^"]*)"', html)
    drawn = path_points(line.group(1)) if line else 0
    return int(svg.group(1)), drawn, int(svg.group(2)), int(svg.group(3))


@pytest.mark.parametrize("range_key", ["24h", "48h", "7d", "30d", "1y"])
def test_inspector_chart_has_every_hour(
    history_client: FlaskClient, history_dir: Path, range_key: str
) -> None:
    html = history_client.get(f"/inspector?area=20&range={range_key}").get_data(as_text=True)
    points, drawn, start, end = _chart(html)
    with read_db(history_dir) as db:
        expected = db.execute(
            "SELECT count(*) FROM hourly_load WHERE area_id = 20 AND ts >= ? AND ts < ?",
            (start, end),
        ).fetchone()[0]
    assert expected > 0 and points == drawn == expected
    span = {"24h": 24, "48h": 48, "7d": 168, "30d": 720, "1y": 8760}[range_key] * 3600
    assert end - start == span


def test_inspector_area_numbers(history_client: FlaskClient, history_dir: Path) -> None:
    text = get_text(history_client, "/inspector?area=1&range=24h")
    with read_db(history_dir) as db:
        ts, kw = db.execute(
            "SELECT ts, load_kw FROM hourly_load WHERE area_id = 1 ORDER BY ts DESC"
        ).fetchone()
        low, avg, high = db.execute(
            "SELECT min(load_kw), avg(load_kw), max(load_kw) FROM hourly_load "
            "WHERE area_id = 1 AND ts > ? AND ts <= ?",
            (ts - 24 * 3600, ts),
        ).fetchone()
        slot = db.execute("SELECT max(ts) FROM substation_reading").fetchone()[0]
        subs = db.execute(
            "SELECT s.name, r.kw, r.kvar FROM substation_reading r JOIN substation s "
            "ON s.id = r.substation_id WHERE s.area_id = 1 AND r.ts = ? ORDER BY s.name",
            (slot,),
        ).fetchall()
    assert "Ozark Electric Cooperative OZEC" in text
    assert f"Current load {mw(kw)} MW hour of {local(ts)}" in text
    assert f"24 h minimum {mw(low)} MW" in text
    assert f"24 h average {mw(avg)} MW 24 hours" in text
    assert f"24 h maximum {mw(high)} MW" in text
    assert f"{local(ts)} {mw(kw, 2)} {kw:,.0f}" in text  # newest row of the hours table
    assert f"Substations reading of {local(slot)}" in text
    total_kw, total_kvar = sum(r[1] for r in subs), sum(r[2] for r in subs)
    assert f"Total ({len(subs)}) {num(total_kw)} {num(total_kvar)}" in text
    for name, sub_kw, kvar in subs:
        assert f"{name} {num(sub_kw)} {num(kvar)} " in text


def test_inspector_sorts_substations(history_client: FlaskClient) -> None:
    html = history_client.get("/inspector?area=1&sort=kw&dir=desc").get_data(as_text=True)
    values = [float(v) for v in re.findall(r'<td class="num" data-value="([-\d.]+)">', html)]
    kw = values[0::2]
    assert len(kw) > 5 and kw == sorted(kw, reverse=True)
    html = history_client.get("/inspector?area=1&sort=name").get_data(as_text=True)
    names = re.findall(r'substation=\d+&amp;range=24h">([^<]+)</a>', html)
    assert names == sorted(names, key=str.casefold)


def test_inspector_long_range_has_a_day_table(
    history_client: FlaskClient, history_dir: Path
) -> None:
    text = get_text(history_client, "/inspector?area=20&range=30d")
    assert "Days local days, newest first" in text
    with read_db(history_dir) as db:
        ts, kw = db.execute(
            "SELECT ts, load_kw FROM hourly_load WHERE area_id = 20 ORDER BY load_kw DESC"
        ).fetchone()
    assert mw(kw, 2) in text


def test_real_capture_pf_and_moved_window(real_client: FlaskClient, real_dir: Path) -> None:
    """2026-01-04 is long past: the range moves back to the newest data and says so.
    Battlefield's pf -0.86 is low; pf 0 with kVAR 0 reads "no reading"."""
    text = get_text(real_client, "/inspector?area=1")
    assert "Nothing stored in the last 24 h" in text
    assert "Battlefield 5,182 -3,025 -0.86 low" in text
    assert "1 with low PF" in text
    html = real_client.get("/inspector?area=5").get_data(as_text=True)
    with read_db(real_dir) as db:
        empty = db.execute(
            "SELECT s.name FROM substation_reading r JOIN substation s ON s.id = r.substation_id "
            "WHERE s.area_id = 5 AND r.kvar = 0 AND r.pf_centi = 0 ORDER BY s.name"
        ).fetchall()
    assert [n for (n,) in empty] == ["Anderson", "Diamond Grove"]
    text = text_of(html)
    for (name,) in empty:
        assert re.search(re.escape(name) + r" [\d,.]+ 0 no reading", text), name
    table = text.split("Substations", 1)[1].split("PF as KAMO")[0]
    assert not re.search(r"\blow\b", table)


def test_substation_detail(history_client: FlaskClient, history_dir: Path) -> None:
    with read_db(history_dir) as db:
        sid, name, area = db.execute(
            "SELECT id, name, area_id FROM substation WHERE area_id = 2 ORDER BY id"
        ).fetchone()
        # Usually one slot; two when the fixture's runs straddled a slot boundary.
        readings = db.execute(
            "SELECT ts, kw, kvar FROM substation_reading WHERE substation_id = ? ORDER BY ts",
            (sid,),
        ).fetchall()
    ts, kw, kvar = readings[-1]
    html = history_client.get(f"/inspector?substation={sid}&range=48h").get_data(as_text=True)
    text = text_of(html)
    assert f"LREC › {name}" in text
    assert f"Latest reading {kw:,.0f} kW {kvar:,.0f} kVAR" in text
    assert f"Minimum, 48 h {min(r[1] for r in readings):,.0f} kW" in text
    points, drawn, start, end = _chart(html)
    assert points == drawn == len(readings) and start <= readings[0][0] and ts < end


def test_imports_page_filters(history_client: FlaskClient, real_client: FlaskClient) -> None:
    text = get_text(history_client, "/imports?status=success&trigger=manual")
    assert " manual success " in text
    assert "No import runs yet" in get_text(history_client, "/imports?trigger=scheduled")
    assert "No import runs yet" in get_text(history_client, "/imports?status=failed")
    partial = get_text(real_client, "/imports?status=partial")
    assert " manual partial " in partial and "CREC: areagrid: HTTP 404" in partial


def _run_ids(html: str) -> list[int]:
    return [int(i) for i in re.findall(r'<tr class="run-\w+">\s*<td class="num">(\d+)', html)]


def test_imports_keyset_pages(
    history_client: FlaskClient, history_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Three runs a page: following "Older" walks every run once; "Newer" goes back."""
    import api.dashboard.imports

    monkeypatch.setattr(api.dashboard.imports, "RUNS_PAGE", 3)
    with read_db(history_dir) as db:
        ids = [i for (i,) in db.execute("SELECT id FROM import_run ORDER BY id DESC")]
    seen: list[int] = []
    url: str | None = "/imports"
    while url:
        html = history_client.get(url).get_data(as_text=True)
        seen += _run_ids(html)
        older = re.search(r'href="([^"]+)" rel="next"', html)
        url = older.group(1).replace("&amp;", "&") if older else None
    assert seen == ids
    back = history_client.get(f"/imports?after_id={ids[-1]}").get_data(as_text=True)
    assert _run_ids(back) == ids[-4:-1]
