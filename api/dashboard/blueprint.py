"""The dashboard's blueprints: page context, error pages, template filters, static files.

The pages themselves are one module each (overview, inspector, tables, imports), all
registered on this one blueprint, so endpoint names stay `dashboard.<page>`.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, render_template, request
from werkzeug.exceptions import HTTPException

from api.dashboard import formatting
from api.dbconn import get_db
from api.errors import ApiError
from api.queries import status as status_q
from shared.timeutil import local_text, now_ts

log = logging.getLogger("api")
bp = Blueprint("dashboard", __name__, template_folder="templates")
# The stylesheet, script and icon under /static. A blueprint of their own, so a missing
# file answers the app's JSON 404 as before, not the pages' HTML error page.
assets = Blueprint("assets", __name__, static_folder="static", static_url_path="/static")


@bp.record_once
def _setup(state) -> None:
    formatting.register(state.app)


@bp.context_processor
def _page_context() -> dict:
    now = now_ts()
    zone = current_app.config["ZONE"]
    return {
        "now": now,
        "zone_name": current_app.config["TZ"],
        "zone_abbr": local_text(now, zone, "%Z"),
        "active": request.endpoint.rsplit(".", 1)[-1] if request.endpoint else "",
        "simulated_until": _simulated_until(),
    }


def _simulated_until() -> int | None:
    """End of the demo's simulated history when this is the demo database (every page says
    so). Error pages are built from here too, so a database that cannot answer is no error."""
    try:
        return status_q.simulated_until(get_db())
    except Exception:  # noqa: BLE001 - the page shows its own error, if any
        return None


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
