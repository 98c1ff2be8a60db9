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

from .case_clock import clock_steps
from .case_crash import crash_while_writing
from .case_disk_full import disk_full
from .case_long_run import long_run
from .case_readers import readers_during_writes
from .case_timeutil import time_properties
from .common import CaseResult


@dataclass(frozen=True)
class Case:
    name: str
    run: Callable[..., CaseResult] | None
    short: dict[str, Any] = field(default_factory=dict)
    long: dict[str, Any] = field(default_factory=dict)
    wired: bool = True
    slow: bool = True  # starts subprocesses (pytest marker `slow`)


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

# Cases that come from other branches. The lead wires each one after merging: drop its name
# here and register it with a runner, for example (tests/ is on sys.path):
#
#   from hostile_cases import run_hostile_case
#
#   def hostile(mode: str, rounds: int) -> CaseResult:
#       with tempfile.TemporaryDirectory() as tmp:
#           return result_from_dict(run_hostile_case(mode, Path(tmp)))  # once per round
#
#   register(Case("hostile: trickle", hostile, {"mode": "trickle", "rounds": 1}, {...}))
PLACEHOLDERS = [
    "hostile: trickle",
    "hostile: huge body (Content-Length)",
    "hostile: huge body (chunked)",
    "hostile: redirect loop",
    "hostile: 429 Retry-After",
    "hostile: HTML with 200",
    "hostile: truncated JSON",
    "hostile: huge and deep numbers",
    "hostile: NaN and Infinity",
    "hostile: out-of-range values",
    "hostile: reset mid-body",
    "trigger flood",
    "slow clients",
    "schemathesis",  # 1,000 cases short, 10,000 long
]
for _name in PLACEHOLDERS:
    register(Case(_name, None, wired=False))


def run_case(case: Case, size: str) -> CaseResult:
    """Run `case` with its "short" or "long" parameters."""
    if not case.wired or case.run is None:
        return _not_wired()
    return case.run(**(case.short if size == "short" else case.long))
