"""Checks of single setting values for shared.config: each returns the value it accepts or
raises ConfigError naming the variable and what it accepts."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

URL_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*://\S+$")
# MQTT topic words: no wildcards (+ #), no empty levels, no leading or trailing slash.
TOPIC_PREFIX = re.compile(r"^[A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*$")
CLOCK_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class ConfigError(ValueError):
    """A setting has a value the program cannot use."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(f"{name}: {message}")
        self.name = name


def check_url(
    name: str, value: str, schemes: tuple[str, ...], shown: tuple[str, ...] | None = None
) -> str:
    """`shown`: the forms named in the error, when `schemes` also holds ones users never write."""
    scheme, sep, rest = value.partition("://")
    if not sep or scheme.lower() not in schemes or not rest:
        forms = shown or tuple(f"{s}://" for s in schemes)
        listed = " or ".join(forms) if len(forms) < 3 else f"{', '.join(forms[:-1])} or {forms[-1]}"
        raise ConfigError(name, f"{value!r} is not a URL starting with {listed}")
    return value


def check_http_url(name: str, value: str | None) -> str | None:
    if value is None:
        return None
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(name, f"{value!r} is not an http:// or https:// URL with a host")
    return value.rstrip("/")


def split_urls(name: str, value: str | None) -> tuple[str, ...]:
    """Comma or whitespace separated URLs; each needs a scheme. The collector checks them
    against Apprise's services at start (collector.push.check_notify_urls)."""
    urls = tuple(u for u in re.split(r"[\s,]+", value or "") if u)
    for url in urls:
        if not URL_SCHEME.match(url):
            raise ConfigError(name, f"{url[:40]!r} is not a URL such as ntfy://host/topic")
    return urls


def check_mqtt_url(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        parts = None
    if parts is None or parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise ConfigError("MQTT_URL", "not mqtt://[user:password@]host[:port] or mqtts://... (TLS)")
    return value


def check_topic(name: str, value: str) -> str:
    if not TOPIC_PREFIX.match(value):
        raise ConfigError(name, f"{value!r}: use letters, digits, _ - and / between words")
    return value


def check_clock(name: str, value: str | None) -> str | None:
    match = CLOCK_TIME.match(value) if value is not None else None
    if value is not None and match is None:
        raise ConfigError(name, f"{value!r} is not a time of day HH:MM (00:00-23:59)")
    return f"{int(match[1]):02d}:{match[2]}" if match else None


def check_peak_watch_areas(value: str | None) -> tuple[int, ...]:
    """Area 20 (KAMO's system load) is always watched; PEAK_WATCH_AREAS adds to it."""
    found = [20]
    for part in (p.strip() for p in (value or "").split(",")):
        if not part:
            continue
        if not part.isdigit() or not 1 <= int(part) <= 20:
            raise ConfigError(
                "PEAK_WATCH_AREAS", f"{part[:20]!r} is not an area id 1-20 (use e.g. 3,7,18)"
            )
        if int(part) not in found:
            found.append(int(part))
    return tuple(found)
