"""The hourly substation rollup (collector.rollup) and the API reading through it."""

from __future__ import annotations

from pathlib import Path

from api_support import Store, make_app
from peewee import Database

from collector.rollup import build_completed_hours
from shared.models import (
    Area,
    RollupState,
    Substation,
    SubstationHourly,
    SubstationReading,
    pf_to_columns,
)

T0 = 1793541600  # 2026-11-01T14:00:00Z, an hour boundary
SLOT = 300


def _fill(db: Database) -> Database:
    with db.atomic():
        Area.create(id=1, name="Ozark", abbreviation="OZEC", is_aggregate=False)
        for sid, name in ((1, "Ash Grove"), (2, "Billings")):
            Substation.create(id=sid, area_id=1, name=name, first_seen=T0, last_seen=T0)
        rows = []
        for i in range(36):  # three hours of 5-minute slots
            for sid in (1, 2):
                kw = 1000.0 + 10 * i + sid
                kvar = 0.0 if i % 6 == 0 else -100.0 - i
                pf = 0.0 if kvar == 0 else -0.95
                centi, exact = pf_to_columns(pf)
                rows.append(
                    dict(
                        ts=T0 + i * SLOT,
                        substation_id=sid,
                        kw=kw,
                        kvar=kvar,
                        pf_centi=centi,
                        pf_exact=exact,
                        quality=False,
                        quality_now=False,
                    )
                )
        SubstationReading.insert_many(rows).execute()
    return db


def test_builds_complete_hours_once(writer_db: Database) -> None:
    db = _fill(writer_db)
    with db.atomic():
        assert build_completed_hours(T0 + 3600 + 600) == 1  # only hour 0 is complete
        assert build_completed_hours(T0 + 3600 + 900) == 0  # nothing new
    row = SubstationHourly.get((SubstationHourly.ts == T0) & (SubstationHourly.substation_id == 1))
    assert (row.samples, row.kw_min, row.kw_max) == (12, 1001.0, 1111.0)
    assert row.kw_sum == sum(1000.0 + 10 * i + 1 for i in range(12))
    assert row.pf_samples == 10  # two pf-0-with-kvar-0 placeholders left out
    with db.atomic():
        assert build_completed_hours(T0 + 3 * 3600 + 5) == 2
        assert build_completed_hours(T0 + 10 * 3600) == 7  # empty hours still advance
    assert RollupState.get().built_until == T0 + 10 * 3600
    assert SubstationHourly.select().count() == 6


def test_max_hours_limits_a_backfill(writer_db: Database) -> None:
    db = _fill(writer_db)
    with db.atomic():
        assert build_completed_hours(T0 + 3 * 3600, max_hours=1) == 1
        assert build_completed_hours(T0 + 3 * 3600, max_hours=1) == 1
    assert RollupState.get().built_until == T0 + 2 * 3600


def test_history_is_the_same_with_or_without_rollup(
    writer_db: Database, db_url: str, tmp_path: Path
) -> None:
    """Rolled-up hours and raw hours give identical buckets: the rollup is an index, not data."""
    db = _fill(writer_db)
    client = make_app(Store(db_url, tmp_path)).test_client()
    query = "start=2026-11-01T14:00Z&end=2026-11-01T17:00Z"
    before = {
        res: client.get(f"/api/substations/history/1?{query}&resolution={res}").get_json()
        for res in ("1h", "3h", "15m")
    }
    with db.atomic():
        build_completed_hours(T0 + 2 * 3600)  # hours 0 and 1 rolled up, hour 2 still raw
    for res, body in before.items():
        after = client.get(f"/api/substations/history/1?{query}&resolution={res}").get_json()
        assert after == body, res
    hourly = before["1h"]["substations"][0]["points"]
    assert [p["samples"] for p in hourly] == [12, 12, 12]
    assert hourly[0]["pf_avg"] == -0.95
