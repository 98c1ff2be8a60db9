"""GET /metrics: Prometheus text built per request from the database (a fresh registry).

A registry per request keeps workers stateless: any gunicorn worker answers with the
same figures, read from the database and the heartbeat at scrape time.
"""

from __future__ import annotations

from flask import Blueprint, Response, current_app
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Gauge, generate_latest

from api.collectors import collectors
from api.dbconn import database_problem
from api.queries import load as load_q
from api.queries import peak as peak_q
from api.queries import status as status_q

bp = Blueprint("metrics", __name__)


@bp.get("/metrics")
def metrics() -> Response:
    registry = CollectorRegistry(auto_describe=True)
    up = Gauge("kamo_database_up", "1 when the API can read the database", registry=registry)
    collector = Gauge(
        "kamo_collector_up", "1 while the collector heartbeat is fresh", registry=registry
    )
    db, problem = database_problem(current_app)
    collector.set(1 if collectors().state == "running" else 0)
    up.set(0 if problem else 1)
    if problem is None:
        _database_metrics(db, registry)
    return Response(generate_latest(registry), headers={"Content-Type": CONTENT_TYPE_LATEST})


def _database_metrics(db, registry: CollectorRegistry) -> None:
    runs = Gauge(
        "kamo_import_runs", "Import runs recorded, by status", ["status"], registry=registry
    )
    for status in ("success", "partial", "failed", "running"):
        runs.labels(status).set(0)
    for status, count in status_q.runs_by_status(db).items():
        runs.labels(status).set(count)
    last = Gauge(
        "kamo_last_success_timestamp_seconds",
        "Start of the newest successful or partial import run (UTC epoch)",
        registry=registry,
    )
    success = status_q.last_success(db)
    last.set(success["started_at"] if success else 0)
    load = Gauge(
        "kamo_area_load_kw", "Newest hourly load per area", ["area_id", "area"], registry=registry
    )
    hour = Gauge(
        "kamo_area_load_timestamp_seconds",
        "Hour of the newest load per area (UTC epoch)",
        ["area_id", "area"],
        registry=registry,
    )
    for area_id, abbr, ts, kw in load_q.latest_loads(db):
        load.labels(str(area_id), abbr).set(kw)
        hour.labels(str(area_id), abbr).set(ts)
    rows = Gauge("kamo_rows_stored", "Rows stored per table", ["table"], registry=registry)
    for table, count in {**status_q.kept_counts(db), **status_q.small_counts(db)}.items():
        rows.labels(table).set(count)
    _peak_watch_metrics(db, registry)


def _peak_watch_metrics(db, registry: CollectorRegistry) -> None:
    active = Gauge(
        "kamo_peak_watch_active",
        "1 while a peak watch is open for the area (PEAK_WATCH_AREAS and 20)",
        ["area"],
        registry=registry,
    )
    margin = Gauge(
        "kamo_peak_watch_margin_percent",
        "Open watch: how far the expected load is below the month's peak so far, in percent",
        ["area"],
        registry=registry,
    )
    watches = {w["area_id"]: w for w in peak_q.open_watches(db)}
    for area_id in current_app.config["PEAK_WATCH_AREAS"]:
        active.labels(str(area_id)).set(1 if area_id in watches else 0)
        if area_id in watches:
            margin.labels(str(area_id)).set(watches[area_id]["margin_pct"])
