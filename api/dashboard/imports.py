"""The import log page (`/imports`): every collector run, newest first, with filters.

Pages are keyset pages over the run id (before_id / after_id), never OFFSET.
"""

from __future__ import annotations

from flask import render_template, request

from api import params
from api.dashboard.blueprint import bp
from api.dashboard.overview import area_names, decode_run
from api.dbconn import get_db
from api.errors import BadParameter
from api.queries import dashboard as dq

RUN_STATUSES = ("running", "success", "partial", "failed")
TRIGGERS = ("scheduled", "manual", "startup")
RUNS_PAGE = 50


def _filter(name: str, choices: tuple[str, ...]) -> str | None:
    """A filter from a form: empty or `any` means no filter."""
    raw = (request.args.get(name) or "").strip()
    if raw in ("", "any"):
        return None
    if raw not in choices:
        raise BadParameter(name, f"{name} must be one of {', '.join(choices)} (or any)")
    return raw


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
