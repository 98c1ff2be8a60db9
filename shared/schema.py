"""Schema version and forward migrations. Only the collector migrates; the API only checks."""

from __future__ import annotations

import time
from collections.abc import Callable

from peewee import Database, OperationalError, ProgrammingError, SqliteDatabase

from shared.channel import serialize_migrations
from shared.models import ALL_MODELS, RowCount, SchemaVersion

COUNTED_TABLES = ("hourly_load", "substation_reading")


def _v1_initial(db: Database) -> None:
    db.create_tables(ALL_MODELS, safe=True)
    for table in COUNTED_TABLES:
        RowCount.insert(table=table, rows=0).on_conflict_ignore().execute()


def _v2_rollups(db: Database) -> None:
    """Hourly substation rollup (filled by the collector) and an index for run windows."""
    from shared.models import ROLLUP_MODELS

    db.create_tables(ROLLUP_MODELS, safe=True)
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "import_run_started_at" ON "import_run" ("started_at")'
    )


def _v3_alerts(db: Database) -> None:
    """Alert state kept by the collector (what was sent, since when)."""
    from shared.models import AlertState

    db.create_tables([AlertState], safe=True)


EPOCH_COLUMNS = {
    "hourly_load": ("ts", "first_seen", "last_changed"),
    "substation": ("first_seen", "last_seen"),
    "substation_reading": ("ts",),
    "import_run": ("slot_ts",),
    "substation_hourly": ("ts",),
    "rollup_state": ("built_until",),
}


def _v4_epoch_bigint(db: Database) -> None:
    """Epoch columns to 64 bits on PostgreSQL (its INTEGER ends in 2038). SQLite already
    stores any INTEGER in up to 8 bytes, so there is nothing to change there."""
    if isinstance(db, SqliteDatabase):
        return
    for table, columns in EPOCH_COLUMNS.items():
        changes = ", ".join(f'ALTER COLUMN "{c}" TYPE BIGINT' for c in columns)
        db.execute_sql(f'ALTER TABLE "{table}" {changes}')


def _v5_request_ids(db: Database) -> None:
    """One run answers every manual request pending when it starts (they coalesce).
    A fresh database already has the column: version 1 creates tables from the models."""
    if "request_ids" in {c.name for c in db.get_columns("import_run")}:
        return
    db.execute_sql('ALTER TABLE "import_run" ADD COLUMN "request_ids" TEXT')


def _v6_push_delivery(db: Database) -> None:
    """What each push target was sent (collector.push): every channel tracks its own."""
    from shared.models import PushDelivery

    db.create_tables([PushDelivery], safe=True)


def _v7_collector_tasks(db: Database) -> None:
    """Backups and test emails the collector carried out, for the dashboard (collector.tasks).
    Self-contained: the table is created here, whatever version comes before."""
    from shared.models import CollectorTask

    db.create_tables([CollectorTask], safe=True)
    db.execute_sql(
        'CREATE INDEX IF NOT EXISTS "collector_task_requested_at" '
        'ON "collector_task" ("requested_at")'
    )


def _v8_scale_out(db: Database) -> None:
    """Manual requests and collector heartbeats in tables, for PostgreSQL deployments with
    no shared data directory (SQLite keeps using files; the tables stay empty there)."""
    from shared.models import SCALE_OUT_MODELS

    db.create_tables(SCALE_OUT_MODELS, safe=True)


def _v9_forecast(db: Database) -> None:
    """KAMO's forecast series, kept per vintage (collector.forecasts), their daily error
    sums (collector.forecast_scores), and how many vintages each run wrote. A fresh
    database has the column already (version 1 creates import_run from the model)."""
    from shared.models import Forecast, ForecastScore

    db.create_tables([Forecast, ForecastScore], safe=True)
    if "forecasts_stored" not in {c.name for c in db.get_columns("import_run")}:
        db.execute_sql(
            'ALTER TABLE "import_run" ADD COLUMN "forecasts_stored" INTEGER NOT NULL DEFAULT 0'
        )


READING_COLUMNS_PG = (
    # Widest first, so no byte pads the row: 8+8+8 (+ pf_exact, NULL when pf_centi holds pf)
    # +4+2+1+1 = 32 bytes of data after the 24-byte tuple header, where the model's order
    # (ts, substation_id, kw, ...) needs 36, padded to 40.
    ('"ts"', "BIGINT NOT NULL"),
    ('"kw"', "DOUBLE PRECISION NOT NULL"),
    ('"kvar"', "DOUBLE PRECISION NOT NULL"),
    ('"pf_exact"', "DOUBLE PRECISION"),
    ('"substation_id"', "INTEGER NOT NULL"),
    ('"pf_centi"', "SMALLINT"),
    ('"quality"', "BOOLEAN NOT NULL"),
    ('"quality_now"', "BOOLEAN NOT NULL"),
)


def _v10_pg_reading_layout(db: Database) -> None:
    """PostgreSQL only: the readings table rewritten with its columns in alignment order,
    and its primary key packed full (fillfactor 100: keys only ever append at the right
    end, so the default 90 leaves a tenth of every leaf page empty for nothing). From about
    100 to about 88 bytes per reading, table plus index; values stay exactly as stored.
    SQLite packs rows without alignment, so there is nothing to change there."""
    if isinstance(db, SqliteDatabase):
        return
    names = ", ".join(name for name, _ in READING_COLUMNS_PG)
    columns = ", ".join(f"{name} {kind}" for name, kind in READING_COLUMNS_PG)
    db.execute_sql(f'CREATE TABLE "substation_reading_v10" ({columns})')
    db.execute_sql(
        f'INSERT INTO "substation_reading_v10" ({names}) SELECT {names} '
        'FROM "substation_reading" ORDER BY "ts", "substation_id"'
    )
    db.execute_sql('DROP TABLE "substation_reading"')
    db.execute_sql('ALTER TABLE "substation_reading_v10" RENAME TO "substation_reading"')
    db.execute_sql(
        'ALTER TABLE "substation_reading" ADD CONSTRAINT "substation_reading_pkey" '
        'PRIMARY KEY ("ts", "substation_id") WITH (fillfactor = 100)'
    )


def _v11_peak_watch(db: Database) -> None:
    """The real-time estimate's hourly calibration and the peak watch history."""
    from shared.models import PEAK_MODELS

    db.create_tables(PEAK_MODELS, safe=True)


# version -> migration that brings the schema from version-1 to version
MIGRATIONS: dict[int, Callable[[Database], None]] = {
    1: _v1_initial,
    2: _v2_rollups,
    3: _v3_alerts,
    4: _v4_epoch_bigint,
    5: _v5_request_ids,
    6: _v6_push_delivery,
    7: _v7_collector_tasks,
    8: _v8_scale_out,
    9: _v9_forecast,
    10: _v10_pg_reading_layout,
    11: _v11_peak_watch,
}
SCHEMA_VERSION = max(MIGRATIONS)


def current_version(db: Database) -> int | None:
    """The schema version stored in `db`; None when the database holds no schema yet."""
    if not db.table_exists(SchemaVersion._meta.table_name):
        return None
    try:
        return (
            SchemaVersion.select(SchemaVersion.version)
            .order_by(SchemaVersion.version.desc())
            .scalar()
        )
    except (OperationalError, ProgrammingError):
        return None


class SchemaTooNew(RuntimeError):
    pass


def migrate(db: Database) -> list[int]:
    """Apply every missing migration in order; returns the versions applied."""
    applied = []
    with db.atomic():
        serialize_migrations(db)
        found = current_version(db) or 0
        if found > SCHEMA_VERSION:
            raise SchemaTooNew(
                f"database schema is version {found}, this program knows up to {SCHEMA_VERSION}"
            )
        for version in sorted(v for v in MIGRATIONS if v > found):
            MIGRATIONS[version](db)
            SchemaVersion.create(version=version, applied_at=time.time())
            applied.append(version)
    return applied
