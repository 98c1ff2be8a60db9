"""The read-only REST API: `api:create_app()` is what gunicorn serves.

Settings come from shared.config (environment and `.env`); `test_config` overrides them
for tests. Each request opens the database read-only on first use and closes it at the
end (api.dbconn); nothing here writes except the request files for the collector (a manual
import, a backup, a test email: shared.triggers).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import Flask, Response

from api import collectors, dbconn
from api.errors import register_error_handlers
from shared.config import Settings, load_settings

__version__ = "0.1.0"

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": (
        "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "
        "form-action 'self'"
    ),
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    # Templates and static files belong to the dashboard blueprint (api/dashboard/).
    app = Flask(__name__, static_folder=None, template_folder=None)
    settings = load_settings()
    app.config.from_mapping(
        DATABASE_URL=settings.database_url,
        DATA_DIR=settings.data_dir,
        TZ=settings.tz_name,
        API_KEY=settings.api_key,
        POLL_INTERVAL_MINUTES=settings.poll_interval_minutes,
        PEAK_WATCH_AREAS=settings.peak_watch_areas,
        PEAK_WATCH_HOURS=settings.peak_watch_hours,
        PEAK_WATCH_PERCENT=settings.peak_watch_percent,
        JSON_SORT_KEYS=False,
    )
    if test_config:
        app.config.update(test_config)

    app.config["ZONE"] = ZoneInfo(app.config["TZ"])
    app.config["DATA_DIR"] = Path(app.config["DATA_DIR"])
    # Backups: BACKUP_DIR when set, else in DATA_DIR (which a test configuration may change).
    explicit = settings.backup_dir if "BACKUP_DIR" in settings.sources else None
    app.config.setdefault("BACKUP_DIR", explicit or app.config["DATA_DIR"] / "backups")
    # The API's effective settings for the Settings page, with what the configuration changed.
    app.config["SETTINGS"] = effective_settings(settings, app.config)
    app.json.sort_keys = False

    dbconn.init_app(app)
    collectors.init_app(app)
    register_error_handlers(app)
    _register_blueprints(app)

    @app.after_request
    def _security_headers(response: Response) -> Response:
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        return response

    return app


def effective_settings(settings: Settings, config: Any) -> Settings:
    """`settings` with the values `create_app`'s configuration overrides (tests, embedding)."""
    changed = {
        "database_url": config["DATABASE_URL"],
        "data_dir": config["DATA_DIR"],
        "tz_name": config["TZ"],
        "api_key": config.get("API_KEY"),
        "poll_interval_minutes": config["POLL_INTERVAL_MINUTES"],
        "backup_dir": Path(config["BACKUP_DIR"]),
    }
    return dataclasses.replace(settings, **changed)


def _register_blueprints(app: Flask) -> None:
    from api import metrics
    from api.rest import export, forecast, load, openapi, peak, status, substations, tasks

    for module in (status, load, peak, substations, forecast, export, tasks, openapi):
        app.register_blueprint(module.bp, url_prefix="/api")
    app.register_blueprint(metrics.bp)
    from api import dashboard

    app.register_blueprint(dashboard.bp)
    app.register_blueprint(dashboard.assets)
