"""Peewee models of the later features: requests the collector carries out (backups, test
emails), scale-out on PostgreSQL, KAMO's forecasts, the real-time estimate and peak watch.

Import them from shared.models, which re-exports them beside the core tables.
"""

from __future__ import annotations

from peewee import (
    SQL,
    AutoField,
    CompositeKey,
    DoubleField,
    IntegerField,
    SmallIntegerField,
    TextField,
)

from shared.model_base import BaseModel, EpochField

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
# Stored without a rowid on SQLite (shared.db), after the core tables (shared.models).
FEATURE_WITHOUT_ROWID_MODELS = (Forecast, ForecastScore, LoadEstimate)
