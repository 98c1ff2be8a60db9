"""Peewee models: the tables both processes read and only the collector writes.

The models bind to `shared.db.database`, a proxy initialised at start, so the same
classes work on SQLite (the default) and PostgreSQL. The core tables are here; the later
features' tables (tasks, scale-out, forecasts, estimate and peak watch) are in
shared.feature_models, re-exported here so `from shared.models import X` finds every model.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BooleanField,
    CompositeKey,
    DoubleField,
    IntegerField,
    SmallIntegerField,
    TextField,
)

from shared.feature_models import (
    FEATURE_WITHOUT_ROWID_MODELS,
    PEAK_MODELS,
    SCALE_OUT_MODELS,
    CollectorState,
    CollectorTask,
    Forecast,
    ForecastScore,
    ImportRequest,
    LoadEstimate,
    PeakWatch,
)
from shared.model_base import BaseModel, EpochField

__all__ = [
    "AGGREGATE_AREA_IDS",
    "ALL_MODELS",
    "PEAK_MODELS",
    "ROLLUP_MODELS",
    "SCALE_OUT_MODELS",
    "WITHOUT_ROWID_MODELS",
    "AlertState",
    "Area",
    "BaseModel",
    "CollectorState",
    "CollectorTask",
    "EpochField",
    "Forecast",
    "ForecastScore",
    "HourlyLoad",
    "ImportRequest",
    "ImportRun",
    "LoadEstimate",
    "PeakWatch",
    "PushDelivery",
    "RollupState",
    "RowCount",
    "SchemaVersion",
    "Substation",
    "SubstationHourly",
    "SubstationReading",
    "pf_to_columns",
    "reading_pf",
]


class Area(BaseModel):
    """KAMO's areas: 17 member cooperatives and three aggregates (18, 19, 20)."""

    id = IntegerField(primary_key=True)
    name = TextField()
    abbreviation = TextField()
    is_aggregate = BooleanField(default=False)

    class Meta:
        table_name = "area"


class HourlyLoad(BaseModel):
    """One row per (area, hour); `ts` is the UTC instant KAMO's label names."""

    area_id = IntegerField()
    ts = EpochField()
    load_kw = DoubleField()
    first_seen = EpochField()
    last_changed = EpochField()
    revisions = IntegerField(default=0)

    class Meta:
        table_name = "hourly_load"
        primary_key = CompositeKey("area_id", "ts")
        without_rowid = True


class Substation(BaseModel):
    id = AutoField()
    area_id = IntegerField()
    name = TextField()
    first_seen = EpochField()
    last_seen = EpochField()

    class Meta:
        table_name = "substation"
        indexes = ((("area_id", "name"), True),)


class SubstationReading(BaseModel):
    """One row per (poll slot, substation), keyed time-first so a poll appends.

    pf is kept exactly as KAMO sent it in the fewest bytes: `pf_centi` holds it in
    hundredths when it has at most two decimals (always so far; 1 byte on disk),
    otherwise `pf_exact` holds the float. Read it through `reading_pf()`.
    """

    ts = EpochField()
    substation_id = IntegerField()
    kw = DoubleField()
    kvar = DoubleField()
    pf_centi = SmallIntegerField(null=True)
    pf_exact = DoubleField(null=True)
    quality = BooleanField()
    quality_now = BooleanField()

    class Meta:
        table_name = "substation_reading"
        primary_key = CompositeKey("ts", "substation_id")
        without_rowid = True


class ImportRun(BaseModel):
    """Every poll attempt, including failed and interrupted ones."""

    id = AutoField()
    trigger = TextField()  # scheduled | manual | startup
    request_id = TextField(null=True, index=True)  # the first request a run answers
    request_ids = TextField(null=True)  # JSON list of every request id the run answers
    slot_ts = EpochField()
    started_at = DoubleField()
    finished_at = DoubleField(null=True)
    status = TextField(index=True)  # running | success | partial | failed
    areas_total = IntegerField(default=0)
    areas_ok = IntegerField(default=0)
    load_new = IntegerField(default=0)
    load_revised = IntegerField(default=0)
    load_unchanged = IntegerField(default=0)
    readings_stored = IntegerField(default=0)
    substations_new = IntegerField(default=0)
    # Forecast vintages written (schema 9); a DEFAULT in SQL too, for raw INSERTs.
    forecasts_stored = IntegerField(default=0, constraints=[SQL("DEFAULT 0")])
    area_errors = TextField(default="{}")  # JSON {"7": "timeout", ...}
    warnings = TextField(default="[]")  # JSON list of strings
    message = TextField(null=True)
    clock_skew_seconds = DoubleField(null=True)

    class Meta:
        table_name = "import_run"


class RowCount(BaseModel):
    """Row counts the collector keeps as it writes, so no reader counts big tables."""

    table = TextField(primary_key=True)
    rows = IntegerField(default=0)

    class Meta:
        table_name = "row_count"


class SchemaVersion(BaseModel):
    version = IntegerField(primary_key=True)
    applied_at = DoubleField()

    class Meta:
        table_name = "schema_version"


ALL_MODELS = [Area, HourlyLoad, Substation, SubstationReading, ImportRun, RowCount, SchemaVersion]

WITHOUT_ROWID_MODELS = (HourlyLoad, SubstationReading)

AGGREGATE_AREA_IDS = frozenset({18, 19, 20})


def pf_to_columns(pf: float) -> tuple[int | None, float | None]:
    """Split KAMO's pf into (pf_centi, pf_exact) without losing a digit."""
    centi = round(pf * 100)
    if -32768 <= centi <= 32767 and centi / 100 == pf:
        return centi, None
    return None, pf


def reading_pf(pf_centi: int | None, pf_exact: float | None) -> float | None:
    """KAMO's pf as sent; None where no pf was stored."""
    if pf_exact is not None:
        return pf_exact
    return None if pf_centi is None else pf_centi / 100


# --- rollups (schema version 2) ---------------------------------------------------------


class SubstationHourly(BaseModel):
    """Per substation and complete UTC hour: sums and extremes of its readings.

    Built once per hour by the collector (collector.rollup), keyed area first so one
    area's history is contiguous and an hour's build appends a few pages per area.
    Averages are sums / counts; pf leaves out the "no reactive reading" placeholders.
    """

    area_id = IntegerField()
    ts = EpochField()  # start of the UTC hour
    substation_id = IntegerField()
    samples = IntegerField()
    kw_min = DoubleField()
    kw_max = DoubleField()
    kw_sum = DoubleField()
    kvar_min = DoubleField()
    kvar_max = DoubleField()
    kvar_sum = DoubleField()
    pf_samples = IntegerField()
    pf_sum = DoubleField(null=True)

    class Meta:
        table_name = "substation_hourly"
        primary_key = CompositeKey("area_id", "ts", "substation_id")
        without_rowid = True


class RollupState(BaseModel):
    """How far a rollup is built: every hour before `built_until` (UTC epoch) is final.

    The demo database also holds a row named `simulated_history` (scripts/seed_demo.py):
    its data is simulated, up to `built_until`. A real database never has it.
    """

    name = TextField(primary_key=True)
    built_until = EpochField()

    class Meta:
        table_name = "rollup_state"


ROLLUP_MODELS = [SubstationHourly, RollupState]
WITHOUT_ROWID_MODELS = (*WITHOUT_ROWID_MODELS, SubstationHourly)


# --- alerts (schema version 3) -----------------------------------------------------------


class AlertState(BaseModel):
    """One row per alert condition the collector watches; it survives restarts.

    `active`: the condition holds now. `notified`: its alert email went out (so a restart
    neither repeats it nor forgets the outage). `since`: when the condition began.
    """

    key = TextField(primary_key=True)  # failures | area:7 | stale-load | frozen:7 | disk
    active = BooleanField(default=False)
    notified = BooleanField(default=False)
    since = DoubleField(null=True)
    updated_at = DoubleField()
    detail = TextField(default="")

    class Meta:
        table_name = "alert_state"


# --- push alerts (schema version 5) ------------------------------------------------------


class PushDelivery(BaseModel):
    """An alert one push target (one Apprise URL) has received and not yet seen recover.

    Kept apart from `alert_state` so each channel tracks its own delivery: a push that
    failed is retried next cycle while email, which got through, is not repeated. `target`
    is a hash of the URL (URLs hold tokens; the database never does).
    """

    target = TextField()
    key = TextField()  # alert_state's key
    title = TextField()
    since = DoubleField()
    sent_at = DoubleField()

    class Meta:
        table_name = "push_delivery"
        primary_key = CompositeKey("target", "key")


WITHOUT_ROWID_MODELS = (*WITHOUT_ROWID_MODELS, *FEATURE_WITHOUT_ROWID_MODELS)
