"""The collector as the API sees it, and the way to send it requests: through the
deployment's channel (shared.channel). SQLite: the heartbeat file and trigger files in
DATA_DIR. PostgreSQL: the `collector_state` rows and `import_request`, read and written
through the request's pooled session, so every replica on any machine sees the same."""

from __future__ import annotations

import logging

from flask import Flask, current_app
from peewee import PeeweeException

from api.dbconn import get_db
from api.errors import Unavailable
from shared.channel import Channel, CollectorView, open_channel

EXTENSION = "kamo_channel"
log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    app.extensions[EXTENSION] = open_channel(
        app.config["DATABASE_URL"], app.config["DATA_DIR"], db=get_db
    )


def channel() -> Channel:
    return current_app.extensions[EXTENSION]


def collectors() -> CollectorView:
    """running | stale | never, the active collector's heartbeat and the standbys. A
    database that cannot be read says "never": /api/health reports the database itself."""
    try:
        return channel().collectors()
    except (Unavailable, PeeweeException) as exc:
        log.debug("collector state not read: %s", exc)
        return CollectorView("never", None)
