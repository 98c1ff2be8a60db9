"""Peewee models: the tables both processes read and only the collector writes.

The models bind to `shared.db.database`, a proxy initialised at start, so the same
classes work on SQLite (the default) and PostgreSQL.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    BigIntegerField,
    BooleanField,
    CompositeKey,
    DoubleField,
    IntegerField,
    Model,
    SmallIntegerField,
    TextField,
)

from shared.db import database


class EpochField(BigIntegerField):
    """UTC epoch seconds. 64-bit so PostgreSQL's INTEGER does not end in 2038 (on SQLite
    every INTEGER is already up to 8 bytes, stored in as few as the value needs)."""


class BaseModel(Model):
    class Meta:
        database = database
        legacy_table_names = False


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


# --- requests the collector carries out (schema version 7) -------------------------------


class CollectorTask(BaseModel):
    """A request other than an import that the collector carried out: a backup (by hand
    or scheduled) or a test email. The API shows its progress: queued, running, done or
    failed, with the collector's message (and the SMTP server's answer for a test email)."""

    request_id = TextField(primary_key=True)  # the trigger's id; scheduled-YYYY-MM-DD
    kind = TextField()  # backup | test_email
    requested_at = DoubleField()
    started_at = DoubleField(null=True)
    finished_at = DoubleField(null=True)
    status = TextField()  # queued | running | done | failed
    message = TextField(default="")
    detail = TextField(default="")  # JSON: the backup's file name, the SMTP answer

    class Meta:
        table_name = "collector_task"


# --- scale-out on PostgreSQL (schema version 8) --------------------------------------------


class ImportRequest(BaseModel):
    """A manual request queued through the database (PostgreSQL; SQLite uses trigger files).

    The only table the API's role may write (INSERT). The key is the request id, so an
    insert needs no sequence. `status`: pending -> claimed (a cycle took it) -> done (a run
    row names it); a claimed request of a dead collector becomes pending again.
    """

    request_id = TextField(primary_key=True)
    # Defaults in the table too: a plain INSERT by another client needs only the id and time.
    kind = TextField(default="import", constraints=[SQL("DEFAULT 'import'")])
    requested_at = DoubleField()
    status = TextField(default="pending", index=True, constraints=[SQL("DEFAULT 'pending'")])
    claimed_by = TextField(null=True)  # collector instance
    claimed_at = DoubleField(null=True)
    done_at = DoubleField(null=True)

    class Meta:
        table_name = "import_request"


class CollectorState(BaseModel):
    """One row per collector instance: its heartbeat where every API can read it.

    `lock_pid` is the server process of the instance's lock session: the session ends with
    the process (kill -9) or after TCP keepalives give up (lost network), freeing the lock.
    """

    instance = TextField(primary_key=True)
    host = TextField()
    pid = IntegerField()
    role = TextField()  # active | standby | stopped
    since = DoubleField()  # when it took this role
    lock_pid = IntegerField(null=True)
    heartbeat = TextField()  # the heartbeat JSON, as the file protocol writes it
    updated_at = DoubleField()

    class Meta:
        table_name = "collector_state"


SCALE_OUT_MODELS = [ImportRequest, CollectorState]


# --- forecasts (schema version 9) --------------------------------------------------------


class Forecast(BaseModel):
    """KAMO's non-`Actual` areagrid series, one row per vintage: a value is stored when it
    differs from the latest stored one for its (area, series, target hour), so the table
    holds every distinct forecast a target hour got, each with the poll slot that saw it.

    Keyed area and series first so a series' history is contiguous and an hourly forecast
    update appends to one leaf page per (area, series) instead of touching many.
    """

    area_id = IntegerField()
    series = TextField()  # the label as KAMO sent it
    target_ts = EpochField()  # UTC instant the label names (as hourly_load.ts)
    issued_ts = EpochField()  # start of the poll slot that first saw this value
    value_kw = DoubleField()

    class Meta:
        table_name = "forecast"
        primary_key = CompositeKey("area_id", "series", "target_ts", "issued_ts")
        without_rowid = True


WITHOUT_ROWID_MODELS = (*WITHOUT_ROWID_MODELS, Forecast)


class ForecastScore(BaseModel):
    """Forecast error summed per (area, series, UTC day of the target hour, lead hours).

    Built by the collector once a UTC day is over and its actuals can no longer change
    (KAMO's window reaches 12 hours back), so the API's accuracy reads a few thousand of
    these rows a year instead of joining every vintage with its actual. Averages are sums
    over counts; `rel_count` counts the hours whose actual was above 0 (MAPE's hours).
    """

    area_id = IntegerField()
    series = TextField()
    day_ts = EpochField()  # UTC midnight of the target hours' day
    lead = SmallIntegerField()
    count = IntegerField()
    abs_sum = DoubleField()
    rel_sum = DoubleField()
    rel_count = IntegerField()

    class Meta:
        table_name = "forecast_score"
        primary_key = CompositeKey("area_id", "series", "day_ts", "lead")
        without_rowid = True


WITHOUT_ROWID_MODELS = (*WITHOUT_ROWID_MODELS, ForecastScore)

# --- real-time estimate and peak watch (schema version 11) -------------------------------


class LoadEstimate(BaseModel):
    """Per member or aggregate area and complete UTC hour: the substation snapshots of that
    hour against its hourly actual. Written by the collector once the hour is complete.

    `readings_kw`: mean over the hour's snapshots of the sum of the area's substations
    (a missing snapshot only shortens the mean). `ratio` = actual / readings_kw calibrates
    that sum; `estimate_kw` is what the estimate said for the hour with the ratio known
    before it, so `estimate_kw` vs `actual_kw` is the estimate's measured error.
    """

    area_id = IntegerField()
    ts = EpochField()  # start of the UTC hour
    readings_kw = DoubleField(null=True)
    slots = IntegerField(default=0)
    substations = IntegerField(default=0)
    actual_kw = DoubleField(null=True)
    ratio = DoubleField(null=True)
    estimate_kw = DoubleField(null=True)

    class Meta:
        table_name = "load_estimate"
        primary_key = CompositeKey("area_id", "ts")
        without_rowid = True


class PeakWatch(BaseModel):
    """A peak watch (`kind` watch) or a new-monthly-peak event (`kind` new-peak).

    A watch opens when the estimate or a forecast comes within PEAK_WATCH_PERCENT of the
    month's peak so far and closes once its expected hour has passed, with an outcome:
    `hit` (the load came within the percentage), `new peak`, or `false alarm`.
    `notified` holds bits of what went out (collector.peak_notify).
    """

    id = AutoField()
    area_id = IntegerField()
    kind = TextField(default="watch")  # watch | new-peak
    opened_at = DoubleField()
    expected_ts = EpochField()  # the hour (UTC start) expected to come near the peak
    expected_kw = DoubleField()
    peak_kw = DoubleField()  # the month's peak so far when the watch opened
    peak_ts = EpochField()
    margin_pct = DoubleField()  # (peak - expected) / peak, in percent; negative above it
    source = TextField()  # estimate | forecast:<series> | actual
    closed_at = DoubleField(null=True)
    outcome = TextField(null=True)  # hit | false alarm | new peak
    actual_kw = DoubleField(null=True)  # highest actual over the watched hours
    notified = IntegerField(default=0)

    class Meta:
        table_name = "peak_watch"
        indexes = ((("area_id", "opened_at"), False), (("closed_at",), False))


PEAK_MODELS = [LoadEstimate, PeakWatch]
WITHOUT_ROWID_MODELS = (*WITHOUT_ROWID_MODELS, LoadEstimate)
