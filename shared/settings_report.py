"""The effective settings of a process, as the Settings page shows them: each variable's
value and where it came from (environment, `.env` or default). Secrets only as set/unset.

The collector puts its report in its heartbeat; the API builds its own; the page sets
them side by side and flags those that must agree (`MUST_AGREE`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from shared.config import Settings
from shared.db import is_sqlite_url, sqlite_path

SECRET = "secret"  # only set / unset
URL_PASSWORD = "url"  # shown with its password replaced

# (variable, Settings attribute, how it is shown)
VARIABLES: tuple[tuple[str, str, str], ...] = (
    ("KAMO_BASE_URL", "kamo_base_url", ""),
    ("DATABASE_URL", "database_url", URL_PASSWORD),
    ("DATA_DIR", "data_dir", ""),
    ("POLL_INTERVAL_MINUTES", "poll_interval_minutes", ""),
    ("TZ", "tz_name", ""),
    ("API_KEY", "api_key", SECRET),
    ("SMTP_HOST", "smtp_host", ""),
    ("SMTP_PORT", "smtp_port", ""),
    ("SMTP_USER", "smtp_user", ""),
    ("SMTP_PASSWORD", "smtp_password", SECRET),
    ("SMTP_FROM", "smtp_from", ""),
    ("SMTP_SECURITY", "smtp_security", ""),
    ("NOTIFICATION_EMAIL", "notification_email", ""),
    ("ALERT_AFTER_FAILURES", "alert_after_failures", ""),
    ("NOTIFY_URLS", "notify_urls", SECRET),
    ("PUBLIC_URL", "public_url", ""),
    ("MQTT_URL", "mqtt_url", URL_PASSWORD),
    ("MQTT_PREFIX", "mqtt_prefix", ""),
    ("MQTT_DISCOVERY", "mqtt_discovery", ""),
    ("MQTT_DISCOVERY_PREFIX", "mqtt_discovery_prefix", ""),
    ("BACKUP_DIR", "backup_dir", ""),
    ("BACKUP_TIME", "backup_time", ""),
    ("BACKUP_KEEP_DAILY", "backup_keep_daily", ""),
    ("BACKUP_KEEP_WEEKLY", "backup_keep_weekly", ""),
    ("PEAK_WATCH_AREAS", "peak_watch_areas", ""),
    ("PEAK_WATCH_HOURS", "peak_watch_hours", ""),
    ("PEAK_WATCH_PERCENT", "peak_watch_percent", ""),
    ("RETENTION_DAYS", "retention_days", ""),
    ("LOW_DISK_MB", "low_disk_mb", ""),
    ("MANUAL_MIN_GAP_SECONDS", "manual_gap_seconds", ""),
    ("KAMO_TIMEOUT_SECONDS", "kamo_timeout_seconds", ""),
    ("KAMO_MAX_CONCURRENCY", "kamo_max_concurrency", ""),
    ("LOG_LEVEL", "log_level", ""),
    ("HOST", "host", ""),
    ("PORT", "port", ""),
)
# Both processes must use the same value of these, or the dashboard misleads.
MUST_AGREE = ("POLL_INTERVAL_MINUTES", "TZ", "DATABASE_URL")


def hide_password(url: str) -> str:
    """The URL with its password (if any) replaced by a marker; user and host stay."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return "(set; not a URL that can be shown safely)"
    if not password:
        return url
    host = parts.hostname or ""
    if parts.port is not None:
        host = f"{host}:{parts.port}"
    netloc = f"{parts.username or ''}:(password set)@{host}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def database_identity(url: str) -> str:
    """What says two processes use the same database: the SQLite file's absolute path, or
    PostgreSQL's host, port and database (the roles may differ, on purpose)."""
    if is_sqlite_url(url):
        try:
            return f"sqlite:{sqlite_path(url).resolve()}"
        except ValueError:
            return url
    try:
        parts = urlsplit(url)
        return f"postgresql://{parts.hostname}:{parts.port or 5432}{parts.path}"
    except ValueError:
        return hide_password(url)


def _shown(value: Any, how: str) -> str:
    if how == SECRET:
        return "set" if value else "unset"
    if value is None or value == ():
        return ""
    if how == URL_PASSWORD:
        return hide_password(str(value))
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def settings_report(settings: Settings) -> dict[str, dict[str, str]]:
    """{variable: {"value", "source"[, "identity"]}}; JSON-ready, no secret in it."""
    report = {}
    for name, attr, how in VARIABLES:
        entry = {
            "value": _shown(getattr(settings, attr), how),
            "source": settings.sources.get(name, "default"),
        }
        report[name] = entry
    report["DATABASE_URL"]["identity"] = database_identity(settings.database_url)
    return report


def disagreements(
    collector: dict[str, dict[str, str]] | None, api: dict[str, dict[str, str]]
) -> list[str]:
    """The MUST_AGREE variables whose values differ between the two reports."""
    if not collector:
        return []
    found = []
    for name in MUST_AGREE:
        mine, theirs = api.get(name) or {}, collector.get(name) or {}
        key = "identity" if name == "DATABASE_URL" else "value"
        if theirs and mine.get(key) != theirs.get(key):
            found.append(name)
    return found
