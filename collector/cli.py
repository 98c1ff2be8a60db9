"""Command line: `python -m collector [once | healthcheck] [--version]`."""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from pathlib import Path

from peewee import PeeweeException, SqliteDatabase

from collector import __version__
from collector.client import Interrupted, KamoClient
from collector.cycle import Cycle, format_cycle_line
from collector.daemon import Daemon
from collector.health import healthcheck
from collector.lease import open_lease
from collector.lock import LockHeld
from collector.notify import NotifyError, send_mail, test_mail
from collector.notify_check import test_notify
from collector.outage import WriteFailed
from collector.push import load_collector_settings
from collector.runs import close_orphaned_runs
from shared.config import ConfigError, Settings, exit_on_config_error, settings_or_exit
from shared.db import bind, is_sqlite_url, open_writer, sqlite_path
from shared.schema import SchemaTooNew, migrate
from shared.timeutil import iso

PROGRAM = "collector"
log = logging.getLogger("collector")


class ZoneFormatter(logging.Formatter):
    """`2026-11-26T10:05:00-06:00 message`, in the display zone; level shown unless INFO."""

    def __init__(self, zone) -> None:
        super().__init__()
        self.zone = zone

    def format(self, record: logging.LogRecord) -> str:
        stamp = iso(getattr(record, "at", record.created), self.zone)
        level = "" if record.levelno == logging.INFO else f"{record.levelname} "
        text = f"{stamp} {level}{record.getMessage()}"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def setup_logging(settings: Settings) -> None:
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(ZoneFormatter(settings.tz))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # urllib3 logs every retry at WARNING; our own line per cycle says what matters.
    logging.getLogger("urllib3").setLevel(logging.ERROR)


def test_email(settings: Settings) -> int:
    where = f"{settings.smtp_host}:{settings.smtp_port} ({settings.smtp_security})"
    try:
        reply = send_mail(settings, test_mail(settings))
    except NotifyError as exc:
        print(f"test email failed: {exc}", file=sys.stderr)
        return 1
    print(f"sent to {settings.notification_email} via {where}; the server answered: {reply}")
    return 0


def new_database_path(url: str) -> Path | None:
    """The absolute path of the SQLite file the collector is about to create; None when it
    exists or the database is not SQLite. Only DATA_DIR is created (by run_writer): any other
    missing directory is a typo in DATABASE_URL, stopped as a configuration error."""
    if not is_sqlite_url(url):
        return None
    try:
        path = sqlite_path(url).resolve()
    except ValueError as exc:
        raise ConfigError("DATABASE_URL", str(exc)) from None
    if not path.parent.is_dir():
        raise ConfigError(
            "DATABASE_URL", f"the directory {path.parent} does not exist: create it or fix the URL"
        )
    return None if path.exists() else path


def run_writer(settings: Settings, mode: str) -> int:
    """Take the lock, open and migrate the database, then run `once` or the daemon."""
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with exit_on_config_error(PROGRAM):
        new_file = new_database_path(settings.database_url)
    stop = threading.Event()
    # Handlers only set the flag; fetchers and the loop check it (see collector.daemon).
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    lease = open_lease(
        settings.database_url, settings.data_dir, settings.lock_path, settings.heartbeat_path
    )
    with lease:  # SQLite: the DATA_DIR lock, or LockHeld; PostgreSQL: taken below
        db = bind(open_writer(settings.database_url))
        db.connect(reuse_if_open=True)
        applied = migrate(db)
        if new_file is not None:  # after migrate: the file is now a whole, empty database
            log.info("created a new database at %s", new_file)
        if applied:
            log.info("database schema migrated to version %d", applied[-1])
        if mode != "daemon" and not lease.try_acquire():
            raise LockHeld(f"another collector ({lease.holder()}) is writing this database")
        if mode != "daemon" or not lease.shared:  # a standby sweeps when it takes over
            orphans = close_orphaned_runs()
            if orphans:
                log.warning("closed %d import run(s) left running by a stopped process", orphans)
        client = KamoClient(
            settings.kamo_base_url,
            timeout=settings.kamo_timeout_seconds,
            max_concurrency=settings.kamo_max_concurrency,
            abort=stop,
            zone=settings.tz,
        )
        cycle = Cycle(db, client, settings.poll_interval_minutes, settings.retention_days)
        try:
            if mode == "daemon":
                return Daemon(settings, cycle, stop, lease).run()
            try:
                result = cycle.run("manual")
            except WriteFailed as exc:  # once: nothing keeps it, so say it and fail
                log.error("import manual failed: %s", exc)
                return 1
            line = format_cycle_line(result, "manual", settings.tz, None)
            log.info(line, extra={"at": result.started_at})
            return 0 if result.status in ("success", "partial") else 1
        finally:
            client.close()
            _checkpoint(db)
            db.close()


def _checkpoint(db) -> None:
    """Fold the WAL into the database on the way out, so a stopped collector leaves one file
    (plus an empty WAL) behind. Readers may hold it open: best effort, never fatal."""
    if isinstance(db, SqliteDatabase):
        try:
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        except PeeweeException as exc:
            log.debug("final checkpoint skipped: %s", exc)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m collector",
        description="Poll KAMO Power's load data into the database (the only writer).",
        epilog="Settings come from environment variables and from a .env file in the "
        "working directory; the environment wins. .env.example in the repository describes "
        "each setting and its default: copy it to .env and edit it.",
    )
    parser.add_argument("--version", action="version", version=f"kamo-load-logger {__version__}")
    parser.add_argument(
        "command",
        nargs="?",
        default="daemon",
        choices=["daemon", "once", "healthcheck", "test-email", "test-notify"],
        help="daemon (default): poll on every slot; once: one manual cycle now; "
        "healthcheck: exit 0 while the daemon's heartbeat is fresh; "
        "test-email: send a test alert and print the SMTP server's answer; "
        "test-notify: a test to every channel (email, NOTIFY_URLS, MQTT), one line each",
    )
    args = parser.parse_args(argv)
    settings = settings_or_exit(PROGRAM, load_collector_settings)
    if args.command == "healthcheck":
        return healthcheck(settings)
    if args.command == "test-email":
        return test_email(settings)
    if args.command == "test-notify":
        return test_notify(settings)
    setup_logging(settings)
    try:
        return run_writer(settings, args.command)
    except LockHeld as exc:
        print(f"{PROGRAM}: {exc}", file=sys.stderr)
        return 1
    except SchemaTooNew as exc:
        print(f"{PROGRAM}: {exc}; upgrade the collector", file=sys.stderr)
        return 1
    except Interrupted:
        return 1
    except (OSError, PeeweeException) as exc:
        print(f"{PROGRAM}: cannot open {settings.database_url}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
