"""Push alerts through Apprise (ntfy, Gotify, Pushover, Telegram, ...), one target per URL.

Every alert condition the email path watches is also pushed, and its recovery too. Each
target keeps its own record of what it received (`push_delivery`), so a target that was
down gets the alert next cycle, and one that got it does not get it twice. Messages are
short plain text built from values that may come from KAMO (area errors quote its
answers): control characters and line breaks inside a value are flattened, every line and
the whole body are cut to a bound, and Apprise is told the body is plain text, so targets
that render HTML or Markdown escape it.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from peewee import PeeweeException

from collector.notify import NotifyError
from shared.config import ConfigError, Settings, load_settings
from shared.models import PushDelivery

log = logging.getLogger("collector")

TITLE_MAX = 120
LINE_MAX = 300
BODY_MAX = 1000  # Pushover's limit is 1024; ntfy and Gotify allow more
# Apprise's own network timeouts (seconds) and no retries inside one cycle: the next cycle
# is the retry, so a dead target costs at most a few seconds per cycle.
URL_OPTIONS = {"cto": "4", "rto": "4"}


class PushCondition(Protocol):
    """What collector.alert_conditions.Condition offers (kept structural: collector.alerts
    imports this module)."""

    key: str
    title: str
    since: float
    lines: list[str]


@dataclass(frozen=True)
class Target:
    id: str  # stored; a hash, since the URL holds tokens
    label: str  # the URL with its secrets masked, for logs and test-notify
    plugin: Any  # an apprise.plugins.NotifyBase


def _with_timeouts(url: str) -> str:
    present = {k for k in URL_OPTIONS if re.search(rf"[?&]{k}=", url)}
    extra = "&".join(f"{k}={v}" for k, v in URL_OPTIONS.items() if k not in present)
    if not extra:
        return url
    return url + ("&" if "?" in url else "?") + extra


def make_targets(urls: Iterable[str]) -> list[Target]:
    """One Apprise target per URL; ConfigError naming NOTIFY_URLS for one it cannot use."""
    found = []
    urls = list(urls)
    if not urls:
        return found
    # Imported only when push is configured: Apprise and its plugins cost about 17 MB of RSS,
    # a quarter of the collector's budget on a small board.
    import apprise

    for number, url in enumerate(urls, 1):
        plugin = apprise.Apprise.instantiate(_with_timeouts(url), suppress_exceptions=True)
        if plugin is None:
            scheme = url.split("://", 1)[0]
            raise ConfigError(
                "NOTIFY_URLS", f"URL {number} ({scheme}://...) is not a valid Apprise URL"
            )
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        found.append(Target(digest, plugin.url(privacy=True), plugin))
    return found


def load_collector_settings() -> Settings:
    """Settings plus the check that every NOTIFY_URLS entry is a service Apprise knows."""
    settings = load_settings()
    make_targets(settings.notify_urls)
    return settings


_CONTROL = re.compile(r"\s+")


def clean(text: str, limit: int) -> str:
    """One line of plain text: control and format characters out, whitespace runs (line
    breaks included) to one space, cut to `limit` characters."""
    kept = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in str(text)
    )
    flat = _CONTROL.sub(" ", kept).strip()
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def compose(settings: Settings, title: str, lines: Sequence[str]) -> tuple[str, str]:
    """(title, body): short plain text, bounded, with the dashboard's address when known."""
    link = f"Dashboard: {settings.public_url}" if settings.public_url else ""
    room = BODY_MAX - len(link) - 1
    body: list[str] = []
    used = 0
    for line in lines:
        text = clean(line, LINE_MAX)
        if not text:
            continue
        if used + len(text) + 1 > room:
            body.append("…")
            break
        body.append(text)
        used += len(text) + 1
    if link:
        body.append(link)
    return clean(f"KAMO Load Logger: {title}", TITLE_MAX), "\n".join(body)


class _Capture(logging.Handler):
    """Apprise logs why a send failed instead of raising; keep the last words."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def send(target: Target, title: str, body: str, kind: str = "info") -> None:
    """Deliver one message to one target; NotifyError with Apprise's reason when it fails.
    `kind` is an Apprise NotifyType value: info, success, warning or failure."""
    import apprise  # loaded already: a Target exists only after make_targets imported it

    capture = _Capture()
    apprise_log = logging.getLogger("apprise")
    apprise_log.addHandler(capture)
    try:
        ok = target.plugin.notify(
            body=body,
            title=title,
            notify_type=apprise.NotifyType(kind),
            body_format=apprise.NotifyFormat.TEXT,
        )
    except Exception as exc:  # a plugin bug must not reach the collector's loop
        raise NotifyError(f"{type(exc).__name__}: {exc}") from None
    finally:
        apprise_log.removeHandler(capture)
    if not ok:
        reason = clean(" / ".join(capture.messages[-2:]) or "refused", 300)
        raise NotifyError(reason)


def _duration(seconds: float) -> str:
    minutes = int(max(0, seconds) // 60)
    hours, minutes = divmod(minutes, 60)
    days, hours = divmod(hours, 24)
    parts = [f"{days} d"] if days else []
    parts += [f"{hours} h"] if hours or days else []
    return " ".join(parts + [f"{minutes} min"])


@dataclass(frozen=True)
class Held:
    """An alert a target received and has not yet seen recover."""

    title: str
    since: float


class PushAlerts:
    """Alerts and recoveries to every push target, each tracked on its own.

    The record lives in the database (a restart neither repeats nor forgets) and in memory
    (a database that refuses writes, disk full, must not make every cycle push again).
    """

    def __init__(self, settings: Settings, targets: list[Target] | None = None) -> None:
        self.settings = settings
        self.targets = make_targets(settings.notify_urls) if targets is None else targets
        self._held: dict[tuple[str, str], Held] | None = None

    def _load(self) -> dict[tuple[str, str], Held]:
        if self._held is None:
            self._held = {
                (row.target, row.key): Held(row.title, row.since) for row in PushDelivery.select()
            }
            known = {t.id for t in self.targets}
            gone = [k for k in self._held if k[0] not in known]
            for target_id, key in gone:  # a URL removed from NOTIFY_URLS: nowhere to recover
                del self._held[(target_id, key)]
                PushDelivery.delete().where(
                    (PushDelivery.target == target_id) & (PushDelivery.key == key)
                ).execute()
        return self._held

    def deliver(self, active: Sequence[PushCondition], now: float) -> None:
        """Push what each target has not had yet. A target that fails is skipped for the
        rest of this cycle (one timeout, not one per alert) and retried next cycle."""
        if not self.targets:
            return
        held = self._load()
        current = {c.key: c for c in active}
        for target in self.targets:
            try:
                self._deliver_to(target, held, current, now)
            except NotifyError as exc:
                log.error(
                    "push to %s failed (%s); collection goes on, retry next cycle",
                    target.label,
                    exc,
                )
            except PeeweeException as exc:  # sent; memory keeps it until the disk takes writes
                log.error("could not record the push to %s: %s", target.label, exc)

    def _deliver_to(self, target: Target, held, current: dict, now: float) -> None:
        for key, cond in current.items():
            if (target.id, key) in held:
                continue
            title, body = compose(self.settings, f"ALERT: {cond.title}", cond.lines)
            send(target, title, body, "failure")
            held[(target.id, key)] = Held(clean(cond.title, TITLE_MAX), cond.since)
            # An upsert both backends know (Peewee's replace() is SQLite's INSERT OR REPLACE).
            PushDelivery.insert(
                target=target.id, key=key, title=held[(target.id, key)].title,
                since=cond.since, sent_at=now,
            ).on_conflict(
                conflict_target=[PushDelivery.target, PushDelivery.key],
                preserve=[PushDelivery.title, PushDelivery.since, PushDelivery.sent_at],
            ).execute()  # fmt: skip
            log.info("push alert sent to %s: %s", target.label, cond.title)
        ended = [k for (t, k) in held if t == target.id and k not in current]
        for key in ended:
            was = held[(target.id, key)]
            outage = _duration(now - was.since)
            title, body = compose(
                self.settings,
                f"RECOVERED: {was.title} (after {outage})",
                [f"Recovered after {outage}: {was.title}."],
            )
            send(target, title, body, "success")
            del held[(target.id, key)]
            PushDelivery.delete().where(
                (PushDelivery.target == target.id) & (PushDelivery.key == key)
            ).execute()
            log.info("push recovery sent to %s: %s", target.label, was.title)


def send_tests(settings: Settings) -> list[tuple[str, str | None]]:
    """(label, None or the error) for a test message to every target (test-notify)."""
    title, body = compose(
        settings,
        "test message",
        ["This is a test message from KAMO Load Logger: push alerts reach this target."],
    )
    results = []
    for target in make_targets(settings.notify_urls):
        try:
            send(target, title, body)
            results.append((target.label, None))
        except NotifyError as exc:
            results.append((target.label, str(exc)))
    return results
