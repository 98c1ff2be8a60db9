"""Settings from the environment (and a `.env` file), validated once at start.

Every process reads its configuration through `load_settings()`; nothing else
looks at `os.environ` for these names. A bad value raises `ConfigError` with a
message naming the variable and what it accepts; entry points print that one
line and exit with status 2 (`exit_on_config_error`).
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

from shared.config_checks import (
    ConfigError,
    check_clock,
    check_http_url,
    check_mqtt_url,
    check_peak_watch_areas,
    check_topic,
    check_url,
    split_urls,
)

ALLOWED_INTERVALS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60)
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
SMTP_SECURITY_MODES = ("starttls", "ssl", "none")
ON_OFF = ("on", "off", "true", "false", "1", "0")

T = TypeVar("T")


def cycle_deadline_seconds(interval_minutes: int) -> float:
    """How long one whole import cycle may fetch before it is cut off and recorded as failed.

    Half the poll interval, at most four minutes: well under the interval, so the next slot
    always starts on time, and long enough for KAMO's slow days (a normal cycle takes 1-3 s).
    """
    return min(interval_minutes * 60 / 2, 240.0)


@dataclass(frozen=True)
class Settings:
    kamo_base_url: str
    database_url: str
    data_dir: Path
    poll_interval_minutes: int
    tz_name: str
    api_key: str | None
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_from: str | None
    smtp_security: str
    notification_email: str | None
    alert_after_failures: int
    backup_dir: Path
    backup_keep_daily: int
    backup_keep_weekly: int
    kamo_timeout_seconds: float
    kamo_max_concurrency: int
    log_level: str
    host: str
    port: int
    retention_days: int | None = None
    low_disk_mb: int = 1024
    manual_gap_seconds: int = 60  # between the starts of two manual import cycles
    notify_urls: tuple[str, ...] = ()  # Apprise URLs: push alerts
    public_url: str | None = None  # the dashboard's address, linked from alerts
    mqtt_url: str | None = None
    mqtt_prefix: str = "kamo"
    mqtt_discovery: bool = True
    mqtt_discovery_prefix: str = "homeassistant"
    backup_time: str | None = None  # "HH:MM" local (TZ): the collector's daily backup
    peak_watch_areas: tuple[int, ...] = (20,)  # KAMO's system load always, then the listed
    peak_watch_hours: int = 3
    peak_watch_percent: float = 97.0
    # Where each variable that was set came from: "environment" or ".env" (unset: default).
    sources: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def alerts_enabled(self) -> bool:
        return bool(self.smtp_host and self.notification_email)

    @property
    def cycle_deadline_seconds(self) -> float:
        return cycle_deadline_seconds(self.poll_interval_minutes)

    @property
    def triggers_dir(self) -> Path:
        return self.data_dir / "triggers"

    @property
    def heartbeat_path(self) -> Path:
        return self.data_dir / "collector.heartbeat"

    @property
    def lock_path(self) -> Path:
        return self.data_dir / "collector.lock"


def _read_environment(
    environ: Mapping[str, str] | None, env_file: str | Path | None
) -> tuple[dict[str, str], dict[str, str]]:
    """(values, origin of each): the environment wins over `.env`."""
    merged: dict[str, str] = {}
    if env_file is not None and Path(env_file).is_file():
        merged.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
    origin = dict.fromkeys(merged, ".env")
    process = os.environ if environ is None else environ
    merged.update(process)
    origin.update(dict.fromkeys(process, "environment"))
    return merged, origin


class _Reader:
    """Typed accessors over the merged environment; each raises ConfigError. Remembers the
    names it was asked for, so the settings can say where each one came from."""

    def __init__(self, values: Mapping[str, str], origin: Mapping[str, str]) -> None:
        self.values = values
        self.origin = origin
        self.asked: set[str] = set()

    def raw(self, name: str) -> str | None:
        self.asked.add(name)
        return self.values.get(name)

    def sources(self) -> dict[str, str]:
        return {n: self.origin[n] for n in sorted(self.asked) if (self.values.get(n) or "").strip()}

    def text(self, name: str, default: str | None = None) -> str | None:
        value = self.raw(name)
        if value is None or value.strip() == "":
            return default
        return value.strip()

    def integer(self, name: str, default: int, low: int, high: int) -> int:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise ConfigError(name, f"{raw!r} is not a whole number ({low}-{high})") from None
        if not low <= value <= high:
            raise ConfigError(name, f"{value} is out of range: use {low}-{high}")
        return value

    def number(self, name: str, default: float, low: float, high: float) -> float:
        raw = self.text(name)
        if raw is None:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise ConfigError(name, f"{raw!r} is not a number ({low:g}-{high:g})") from None
        if not low <= value <= high:
            raise ConfigError(name, f"{raw} is out of range: use {low:g}-{high:g}")
        return value

    def choice(self, name: str, default: str, choices: tuple[str, ...], upper: bool) -> str:
        raw = self.text(name, default)
        value = raw.upper() if upper else raw.lower()
        if value not in choices:
            raise ConfigError(name, f"{raw!r} is not one of {', '.join(choices)}")
        return value


def load_settings(
    environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env"
) -> Settings:
    """Read and validate every setting. Environment variables win over `.env`."""
    r = _Reader(*_read_environment(environ, env_file))

    base_url = check_url(
        "KAMO_BASE_URL",
        r.text("KAMO_BASE_URL", "https://kamofamilyload.kamopower.com/api"),
        ("http", "https"),
    ).rstrip("/")
    data_dir = Path(r.text("DATA_DIR", "data"))
    # The database lives in DATA_DIR unless DATABASE_URL says otherwise (default: data/...).
    database_url = check_url(
        "DATABASE_URL",
        r.text("DATABASE_URL", f"sqlite:///{data_dir / 'kamo_load.db'}"),
        # peewee's *ext schemes still work, but the error names only what the docs teach.
        ("sqlite", "postgres", "postgresql", "postgresext", "postgresqlext"),
        ("sqlite:///", "postgresql://", "postgres://"),
    )

    interval = r.integer("POLL_INTERVAL_MINUTES", 5, 1, 60)
    if interval not in ALLOWED_INTERVALS:
        allowed = ", ".join(map(str, ALLOWED_INTERVALS))
        raise ConfigError("POLL_INTERVAL_MINUTES", f"{interval} is not a divisor of 60 ({allowed})")

    tz_name = r.text("TZ", "America/Chicago").lstrip(":")
    try:
        ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError("TZ", f"{tz_name!r} is not an IANA time zone name") from None

    backup_dir = r.text("BACKUP_DIR")
    return Settings(
        kamo_base_url=base_url,
        database_url=database_url,
        data_dir=data_dir,
        poll_interval_minutes=interval,
        tz_name=tz_name,
        api_key=r.text("API_KEY"),
        smtp_host=r.text("SMTP_HOST"),
        smtp_port=r.integer("SMTP_PORT", 587, 1, 65535),
        smtp_user=r.text("SMTP_USER"),
        smtp_password=r.raw("SMTP_PASSWORD") or None,
        smtp_from=r.text("SMTP_FROM"),
        smtp_security=r.choice("SMTP_SECURITY", "starttls", SMTP_SECURITY_MODES, upper=False),
        notification_email=r.text("NOTIFICATION_EMAIL"),
        alert_after_failures=r.integer("ALERT_AFTER_FAILURES", 3, 1, 1000),
        backup_dir=Path(backup_dir) if backup_dir else data_dir / "backups",
        backup_keep_daily=r.integer("BACKUP_KEEP_DAILY", 7, 0, 3650),
        backup_keep_weekly=r.integer("BACKUP_KEEP_WEEKLY", 4, 0, 520),
        kamo_timeout_seconds=r.number("KAMO_TIMEOUT_SECONDS", 10.0, 0.1, 300.0),
        kamo_max_concurrency=r.integer("KAMO_MAX_CONCURRENCY", 4, 1, 38),
        log_level=r.choice("LOG_LEVEL", "INFO", LOG_LEVELS, upper=True),
        host=r.text("HOST", "0.0.0.0"),
        port=r.integer("PORT", 8080, 1, 65535),
        retention_days=r.integer("RETENTION_DAYS", 0, 1, 36500) or None,
        low_disk_mb=r.integer("LOW_DISK_MB", 1024, 1, 10_000_000),
        manual_gap_seconds=r.integer("MANUAL_MIN_GAP_SECONDS", 60, 0, 3600),
        notify_urls=split_urls("NOTIFY_URLS", r.raw("NOTIFY_URLS")),
        public_url=check_http_url("PUBLIC_URL", r.text("PUBLIC_URL")),
        mqtt_url=check_mqtt_url(r.text("MQTT_URL")),
        mqtt_prefix=check_topic("MQTT_PREFIX", r.text("MQTT_PREFIX", "kamo")),
        mqtt_discovery=r.choice("MQTT_DISCOVERY", "on", ON_OFF, upper=False) in ("on", "true", "1"),
        mqtt_discovery_prefix=check_topic(
            "MQTT_DISCOVERY_PREFIX", r.text("MQTT_DISCOVERY_PREFIX", "homeassistant")
        ),
        backup_time=check_clock("BACKUP_TIME", r.text("BACKUP_TIME")),
        peak_watch_areas=check_peak_watch_areas(r.raw("PEAK_WATCH_AREAS")),
        peak_watch_hours=r.integer("PEAK_WATCH_HOURS", 3, 0, 24),
        peak_watch_percent=r.number("PEAK_WATCH_PERCENT", 97.0, 50.0, 100.0),
        sources=r.sources(),
    )


@contextmanager
def exit_on_config_error(program: str) -> Iterator[None]:
    """Turn a ConfigError into one line on stderr and exit status 2."""
    try:
        yield
    except ConfigError as exc:
        print(f"{program}: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


def settings_or_exit(program: str, loader: Callable[[], T] = load_settings) -> T:
    with exit_on_config_error(program):
        return loader()
