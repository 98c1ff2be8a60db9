"""The registry: each case is one function, run with short parameters under pytest and long
ones by `make reliability` (scripts/reliability.py).

A case returns a CaseResult. A case that another branch provides is registered with
`wired=False`: it shows as "not wired yet" in the table, never as passing. To wire one, give
it a function and set `wired=True` (see PLACEHOLDERS below).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .case_api import schemathesis_cases, slow_clients
from .case_clock import clock_steps
from .case_crash import crash_while_writing
from .case_disk_full import disk_full
from .case_hostile import hostile
from .case_long_run import long_run
from .case_readers import readers_during_writes
from .case_timeutil import time_properties
from .case_trigger_flood import trigger_flood
from .common import CaseResult


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[..., CaseResult] | None
    short: dict[str, Any] = field(default_factory=dict)
    long: dict[str, Any] = field(default_factory=dict)
    wired: bool = True
    slow: bool = True  # starts subprocesses (pytest marker `slow`)
    # The short form is already an existing test of `make test` (named here): pytest leaves
    # it out rather than run it twice; `scripts/reliability.py --short` still runs it.
    short_covered_by: str | None = None


def _not_wired(**_params: Any) -> CaseResult:
    return CaseResult(status="not wired yet")


CASES: dict[str, Case] = {}


def register(case: Case) -> None:
    CASES[case.name] = case


register(Case("crash while writing", crash_while_writing, {"kills": 5}, {"kills": 50}))
register(Case("readers during writes", readers_during_writes, {"seconds": 30}, {"seconds": 600}))
register(
    Case("disk full", disk_full, {"size_kb": 8192, "outages": 1}, {"size_kb": 8192, "outages": 5})
)
register(Case("clock steps", clock_steps, {"scenarios": 3}, {"scenarios": 30}, slow=False))
register(
    Case(
        "time module properties",
        time_properties,
        {"examples": 300, "exhaustive": False},
        {"examples": 5000, "exhaustive": True},
        slow=False,
    )
)
register(Case("long run", long_run, short={"days": 1}, long={"days": 30}))

# Hostile upstream: one case per group of simulator fault modes (tests/hostile_cases.py).
HOSTILE_GROUPS = {
    "hostile: trickle": ["trickle"],
    "hostile: huge body (Content-Length)": ["huge-body"],
    "hostile: huge body (chunked)": ["huge-chunked"],
    "hostile: redirect loop": ["redirect-loop"],
    "hostile: 429 Retry-After": ["http429"],
    "hostile: HTML with 200": ["html"],
    "hostile: truncated JSON": ["truncated"],
    "hostile: huge and deep numbers": ["huge-number", "huger-number", "deep-nesting"],
    "hostile: NaN and Infinity": ["nan", "infinity"],
    "hostile: out-of-range values": ["out-of-range"],
    "hostile: reset mid-body": ["reset"],
    "hostile: nulls": ["nulls"],
}
HOSTILE_TEST = "tests/test_hostile_upstream.py (every mode once)"
for _name, _modes in HOSTILE_GROUPS.items():
    register(
        Case(
            _name,
            hostile,
            {"modes": _modes, "rounds": 1},
            {"modes": _modes, "rounds": 3},
            short_covered_by=HOSTILE_TEST,
        )
    )
register(
    Case(
        "trigger flood",
        trigger_flood,
        {"requests_total": 200, "seconds": 15},
        {"requests_total": 1000, "seconds": 150},
    )
)
register(
    Case(
        "slow clients",
        slow_clients,
        {"runs": [{"clients": 50, "samples": 20}]},
        {"runs": [{"clients": 50, "samples": 200}, {"clients": 200, "samples": 200}]},
        short_covered_by="tests/api/test_slow_clients.py (50 clients, 3 s bound)",
    )
)
register(
    Case(
        "schemathesis",
        schemathesis_cases,
        {"max_examples": 1000},
        {"max_examples": 10000},
        short_covered_by="tests/api/test_api_schemathesis.py (1,000 cases)",
    )
)

# Cases another branch will provide: registered with wired=False, they show as "not wired
# yet", never as passing. To wire one, drop its name here and register it with a runner.
PLACEHOLDERS: list[str] = []
for _name in PLACEHOLDERS:
    register(Case(_name, None, wired=False))


def run_case(case: Case, size: str) -> CaseResult:
    """Run `case` with its "short" or "long" parameters."""
    if not case.wired or case.run is None:
        return _not_wired()
    return case.run(**(case.short if size == "short" else case.long))
