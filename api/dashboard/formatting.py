"""How the dashboard writes values: local times with the zone's abbreviation, MW, kW, pf.

Registered as Jinja filters by api.dashboard.blueprint. Every function takes None and returns an
empty-value marker, so templates never test for missing values themselves.
"""

from __future__ import annotations

from flask import Flask, current_app

from shared.timeutil import iso, local_text, now_ts

NONE = "—"
# A power factor with |pf| below this is flagged as low (KAMO signs pf: negative = leading).
LOW_PF = 0.90


def _zone():
    return current_app.config["ZONE"]


def when(ts: float | None) -> str:
    """`2026-11-26 11:05 CST`: the display zone, its abbreviation at that instant."""
    return local_text(ts, _zone()) or NONE


def when_iso(ts: float | None) -> str:
    return iso(ts, _zone()) or ""


def clock(ts: float | None) -> str:
    """`11:05 CST` for instants of today's page (next poll, heartbeat)."""
    return local_text(ts, _zone(), "%H:%M %Z") or NONE


def day(ts: float | None) -> str:
    """`Thu 2026-11-26` for rows that stand for a whole local day."""
    return local_text(ts, _zone(), "%a %Y-%m-%d") or NONE


def ago(ts: float | None) -> str:
    """`42 s ago`, `5 min ago`, `3 h ago`, `12 days ago`."""
    if ts is None:
        return NONE
    seconds = max(0, now_ts() - float(ts))
    if seconds < 120:
        return f"{seconds:.0f} s ago"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172800:
        return f"{seconds / 3600:.0f} h ago"
    return f"{seconds / 86400:.0f} days ago"


def mw(kw: float | None, digits: int = 1) -> str:
    """kW -> `1,234.5` MW."""
    return NONE if kw is None else f"{kw / 1000:,.{digits}f}"


def num(value: float | None, digits: int = 2) -> str:
    """A stored number as sent: whole values without decimals, others with up to `digits`."""
    if value is None:
        return NONE
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".")


def count(value: int | None) -> str:
    return NONE if value is None else f"{value:,}"


def pf(value: float | None) -> str:
    """KAMO's pf as sent (two decimals so far; more are kept when present)."""
    if value is None:
        return NONE
    text = f"{value:.2f}"
    return text if float(text) == value else f"{value:g}"


def low_pf(value: float | None) -> bool:
    return value is not None and abs(value) < LOW_PF


def percent(share: float | None) -> str:
    return NONE if share is None else f"{share * 100:.1f} %"


def size(n_bytes: float | None) -> str:
    """Bytes in decimal units: `965.1 MB`."""
    if n_bytes is None:
        return NONE
    value = float(n_bytes)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1000 or unit == "GB":
            return f"{value:,.0f} {unit}" if unit == "B" else f"{value:,.1f} {unit}"
        value /= 1000
    return NONE  # not reached


def seconds(value: float | None) -> str:
    return NONE if value is None else f"{value:.1f} s"


FILTERS = {
    "when": when,
    "when_iso": when_iso,
    "clock": clock,
    "day": day,
    "ago": ago,
    "mw": mw,
    "num": num,
    "count": count,
    "pf": pf,
    "percent": percent,
    "size": size,
    "seconds": seconds,
}


def register(app: Flask) -> None:
    for name, function in FILTERS.items():
        app.add_template_filter(function, name)
    app.add_template_test(low_pf, "low_pf")
