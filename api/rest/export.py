"""Protected bulk exports of hourly load and substation readings, streamed."""

from __future__ import annotations

import re
from collections.abc import Iterator

from flask import Blueprint, Response, current_app, stream_with_context

from api import params
from api.auth import protected
from api.dbconn import get_db
from api.queries import export as q
from api.queries.common import area_row
from api.rest.present import when
from api.writers import FORMATS, batched, stream
from shared.db import open_reader
from shared.timeutil import to_zone

bp = Blueprint("export", __name__)

MAX_DAYS = 366
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")


def _area(db, value: str) -> tuple[int | None, str]:
    """(area id or None for all, label for the file name)."""
    if value == "all":
        return None, "all"
    area_id = params.area_id(db, value)
    abbr = area_row(db, area_id)[2]
    return area_id, _UNSAFE.sub("_", abbr) or str(area_id)


def _respond(kind: str, area: str) -> Response:
    db = get_db()
    area_id, label = _area(db, area)
    fmt = params.choice("format", "csv", tuple(FORMATS))
    win = params.window(span_name="days", span_unit=86400, default_span=7, max_span=MAX_DAYS)
    zone = current_app.config["ZONE"]
    first, last = to_zone(win.start, zone).date(), to_zone(win.end - 1, zone).date()
    filename = f"kamo-{kind}-{label}-{first.isoformat()}_{last.isoformat()}.{fmt}"
    if kind == "load":
        header, query = q.LOAD_HEADER, q.load_rows

        def convert(row: tuple) -> tuple:
            return (when(row[0]), *row[1:])
    else:
        header, query = q.READING_HEADER, q.reading_rows

        def convert(row: tuple) -> tuple:
            return (when(row[0]), *row[1:-2], bool(row[-2]), bool(row[-1]))

    def generate() -> Iterator[str]:
        # The request's connection closes when the view returns; the stream has its own.
        reader = open_reader(current_app.config["DATABASE_URL"])
        reader.connect()
        try:
            cursor = query(reader, area_id, win.start, win.end)
            yield from stream(fmt, header, batched(cursor), convert)
        finally:
            reader.close()

    body = stream_with_context(generate())
    response = Response(body, mimetype=FORMATS[fmt].split(";")[0])
    response.headers["Content-Type"] = FORMATS[fmt]
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@bp.get("/export/load/<area>")
@protected
def export_load(area: str) -> Response:
    return _respond("load", area)


@bp.get("/export/substations/<area>")
@protected
def export_substations(area: str) -> Response:
    return _respond("substations", area)
