"""The status page of a backup or test-email request (`/requests/<id>`), and what the pages
that make such requests share: the form's key check and the labels of a request.

Without JavaScript, "Back up now" and "Send test email" post their form to the page, which
redirects (303) here; this page reloads itself every 2 s while the request is queued or
running. With JavaScript, static/tasks.js follows the request in place instead.
"""

from __future__ import annotations

from flask import current_app, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from api.auth import key_matches
from api.collector_requests import queue_request, task_state
from api.dashboard.blueprint import bp
from api.errors import ApiError
from shared.backups import human_size
from shared.triggers import REQUEST_ID

MADE_BY = {
    "hand": "by hand",
    "schedule": "on schedule",
    "pre-restore": "safety copy (restore)",
    "pre-import": "safety copy (import)",
}
BACK = {
    "backup": ("dashboard.backups", "Backups"),
    "test_email": ("dashboard.settings", "Settings"),
}


def require_key() -> None:
    """The form's `api_key` field, compared in constant time; 503 while no key is set."""
    if not current_app.config.get("API_KEY"):
        raise ApiError(503, "API key not configured: set API_KEY for the API to use this")
    if not key_matches(request.form.get("api_key")):
        raise ApiError(401, "missing or wrong API key")


def queue_from_form(kind: str) -> Response:
    """The no-JavaScript path: check the key, queue, then POST-redirect-GET to the status."""
    require_key()
    request_id = queue_request(kind)
    return redirect(url_for("dashboard.request_status", request_id=request_id), code=303)


def task_label(task: dict) -> str:
    if task["kind"] == "test_email":
        return "Test email"
    if task["request_id"].startswith("scheduled-"):
        return "Scheduled backup"
    return "Backup by hand"


def task_badge(status: str) -> str:
    return {"done": "success", "failed": "failed", "running": "running"}.get(status, "never")


def render_page(template: str, **context) -> str:
    return render_template(
        template,
        task_label=task_label,
        task_badge=task_badge,
        size=human_size,
        made_by_text=lambda made_by: MADE_BY.get(made_by, made_by or "not recorded"),
        **context,
    )


@bp.get("/requests/<request_id>")
def request_status(request_id: str):
    task = task_state(request_id) if REQUEST_ID.match(request_id) else None
    if task is None:
        raise ApiError(404, f"no backup or test email request {request_id[:80]!r}")
    back_endpoint, back_label = BACK.get(task["kind"], BACK["backup"])
    pending = task["status"] in ("queued", "running")
    return render_page(
        "request.html",
        task=task,
        pending=pending,
        back_endpoint=back_endpoint,
        back_label=back_label,
    )
