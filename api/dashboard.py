"""The server-rendered dashboard: `/`, `/inspector`, `/tables`, `/imports` (one blueprint).

Pages read the same read-only database as the REST API, through its queries. They work
without JavaScript (pickers and ranges are links and GET forms); the one script of the
app only adds the "Trigger import" call and small conveniences. Every link is built with
url_for, so the pages keep working under a sub-path (SCRIPT_NAME). Bad query parameters
answer a 400 page naming the parameter; a database that cannot serve answers a 503 page,
except on `/`, whose job is to show that state.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, render_template, request, stream_with_context
from werkzeug.exceptions import HTTPException

from api import dashboard_format, params
from api.dashboard_inspect import (
    RANGE_LABELS,
    RANGES,
    SUB_SORTS,
    area_choices,
    area_view,
    substation_table,
    substation_view,
)
from api.dashboard_status import area_names, collector, decode_run, overview
from api.dashboard_tables import (
    DEFAULT_PAGE,
    MAX_PAGE,
    PAGE_SIZES,
    catalogue,
    page,
    parse_edge,
    row_counts,
)
from api.dbconn import database_problem, get_db
from api.errors import ApiError, BadParameter
from api.queries import dashboard as dq
from api.queries import load as load_q
from api.writers import stream
from shared.timeutil import iso, local_text, now_ts

log = logging.getLogger("api")
bp = Blueprint("dashboard", __name__, template_folder="templates")
RUN_STATUSES = ("running", "success", "partial", "failed")
TRIGGERS = ("scheduled", "manual", "startup")
RUNS_PAGE = 50


@bp.record_once
def _setup(state) -> None:
    dashboard_format.register(state.app)


@bp.context_processor
def _page_context() -> dict:
    now = now_ts()
    zone = current_app.config["ZONE"]
    return {
        "now": now,
        "zone_name": current_app.config["TZ"],
        "zone_abbr": local_text(now, zone, "%Z"),
        "active": request.endpoint.rsplit(".", 1)[-1] if request.endpoint else "",
    }


def _error_page(status: int, title: str, message: str, parameter: str | None = None):
    html = render_template(
        "error.html", status=status, title=title, message=message, parameter=parameter
    )
    response = Response(html, status=status, mimetype="text/html")
    if status == 503:
        response.headers["Retry-After"] = "30"
    return response


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    titles = {400: "Bad request", 404: "Not found", 503: "Database not available"}
    return _error_page(exc.status, titles.get(exc.status, "Error"), exc.message, exc.parameter)


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error_page(exc.code or 500, exc.name, exc.description or exc.name)


@bp.errorhandler(Exception)
def _unexpected(exc: Exception):
    log.exception("dashboard page failed")
    return _error_page(500, "Internal error", "The page could not be built; see the API log.")


def _filter(name: str, choices: tuple[str, ...]) -> str | None:
    """A filter from a form: empty or `any` means no filter."""
    raw = (request.args.get(name) or "").strip()
    if raw in ("", "any"):
        return None
    if raw not in choices:
        raise BadParameter(name, f"{name} must be one of {', '.join(choices)} (or any)")
    return raw


@bp.get("/")
def index():
    db, problem = database_problem(current_app)
    data = overview(db, now_ts()) if problem is None else None
    return render_template(
        "dashboard.html",
        collector=collector(),
        problem=problem,
        data=data,
        trigger_ready=bool(current_app.config.get("API_KEY")),
        poll_minutes=current_app.config["POLL_INTERVAL_MINUTES"],
    )


@bp.get("/inspector")
def inspector():
    db = get_db()
    zone = current_app.config["ZONE"]
    range_key = params.choice("range", "24h", tuple(RANGES))
    sort = params.choice("sort", "name", tuple(SUB_SORTS))
    direction = params.choice("dir", "asc", ("asc", "desc"))
    sub_id = params.integer("substation", None, 1, 2**62)
    area_param = params.integer("area", None, 1, 20)
    areas = load_q.cooperatives(db)
    sub = None
    if sub_id is not None:
        sub = dq.substation(db, sub_id)
        if sub is None:
            raise BadParameter("substation", f"there is no substation {sub_id}")
        area_id = sub[1]
    else:
        area_id = area_param if area_param is not None else load_q.SYSTEM_AREA
    area = next((a for a in areas if a[0] == area_id), None)
    now = now_ts()
    view = subs = detail = None
    if area is not None and sub is None:
        view = area_view(db, area, range_key, now, zone)
        if not area[3]:
            subs = substation_table(db, area_id, sort, direction == "desc")
    elif sub is not None:
        interval = current_app.config["POLL_INTERVAL_MINUTES"] * 60
        detail = substation_view(db, sub, range_key, now, zone, interval)
    return render_template(
        "inspector.html",
        areas=area_choices(areas),
        area=area,
        area_id=area_id,
        range_key=range_key,
        ranges=RANGE_LABELS,
        sort=sort,
        direction=direction,
        view=view,
        subs=subs,
        sub=sub,
        detail=detail,
    )


def _table_request(db):
    """The table browser's parameters, checked: (tables, table, sort, desc, size, after,
    before). table is None on the overview."""
    tables = catalogue(db)
    name = params.text("table", 64)
    if name is None:
        return tables, None, None, False, DEFAULT_PAGE, None, None
    if name not in tables:
        raise BadParameter("table", f"there is no table {name!r}; pick one from the list")
    table = tables[name]
    sort = params.text("sort", 64) or table.default_sort
    if sort is not None and sort not in table.sorts:
        allowed = ", ".join(table.sorts) or "none"
        raise BadParameter("sort", f"{name} can be sorted by {allowed} only")
    descending = params.choice("dir", "asc" if table.small else "desc", ("asc", "desc")) == "desc"
    size = params.integer("size", DEFAULT_PAGE, 1, MAX_PAGE)
    order = table.sorts.get(sort, ()) if sort else ()
    after = parse_edge("after", params.text("after", 2000), table, order)
    before = parse_edge("before", params.text("before", 2000), table, order)
    if after is not None and before is not None:
        raise BadParameter("before", "give after or before, not both")
    return tables, table, sort, descending, size, after, before


@bp.get("/tables")
def tables():
    db = get_db()
    tables, table, sort, descending, size, after, before = _table_request(db)
    counts = row_counts(db, tables, current_app.config["POLL_INTERVAL_MINUTES"])
    shown = page(db, table, sort, descending, size, after, before) if table else None
    return render_template(
        "tables.html",
        tables=tables,
        counts=counts,
        table=table,
        sort=sort,
        descending=descending,
        size=size,
        sizes=PAGE_SIZES,
        page=shown,
        after=request.args.get("after"),
        before=request.args.get("before"),
    )


@bp.get("/tables/csv")
def tables_csv():
    """The rows of one table page as CSV (same parameters as the page)."""
    db = get_db()
    _tables, table, sort, descending, size, after, before = _table_request(db)
    if table is None:
        raise BadParameter("table", "table is required for CSV")
    shown = page(db, table, sort, descending, size, after, before)
    zone = current_app.config["ZONE"]
    times = [c.time for c in table.columns]

    def convert(row: tuple) -> list:
        return [
            iso(v, zone) if t and isinstance(v, int | float) and v > 0 else v
            for v, t in zip(row, times, strict=True)
        ]

    body = stream("csv", [c.name for c in table.columns], shown["rows"], convert)
    response = Response(stream_with_context(body), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{table.name}.csv"'
    return response


@bp.get("/imports")
def imports():
    db = get_db()
    status = _filter("status", RUN_STATUSES)
    trigger = _filter("trigger", TRIGGERS)
    before = params.integer("before_id", None, 1, 2**62)
    after = params.integer("after_id", None, 1, 2**62)
    if before is not None and after is not None:
        raise BadParameter("after_id", "give before_id or after_id, not both")
    runs = dq.runs_page(
        db, RUNS_PAGE, before_id=before, after_id=after, status=status, trigger=trigger
    )
    names = area_names(db)
    filters = {"status": status, "trigger": trigger}
    newer = older = None
    if runs:
        if dq.run_exists(db, newer_than=runs[0]["id"], **filters):
            newer = runs[0]["id"]
        if dq.run_exists(db, older_than=runs[-1]["id"], **filters):
            older = runs[-1]["id"]
    return render_template(
        "imports.html",
        runs=[decode_run(r, names) for r in runs],
        status=status,
        trigger=trigger,
        statuses=RUN_STATUSES,
        triggers=TRIGGERS,
        newer=newer,
        older=older,
        paged=before is not None or after is not None,
    )
