"""`make reliability`: every reliability case in its long form, then one table.

    python scripts/reliability.py [--short] [--cases "crash while writing,long run"]
        [--skip NAMES] [--json FILE]

Columns: case, cases tried, failures, rows lost, and the case's worst figure with its unit
(longest cycle, peak RSS, largest WAL, worst API latency). A case another branch has not
wired in yet shows "not wired yet", never a pass. Exit status 1 when any case that ran has
failures or lost rows. The cases live in tests/reliability/ (one implementation, two sizes).
"""

from __future__ import annotations

import argparse
import json
import logging
import platform
import sqlite3
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# tests/ first: its `reliability` package, not this script, is what `import reliability` means.
sys.path[:0] = [str(REPO / "tests"), str(REPO)]

from reliability.cases import CASES, run_case  # noqa: E402
from reliability.common import CaseResult  # noqa: E402

HEADER = ["case", "tried", "failures", "rows lost", "worst figure", "time"]


def machine() -> str:
    import os

    return (
        f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"SQLite {sqlite3.sqlite_version}"
    )


def worst_text(result: CaseResult) -> str:
    if result.worst is None:
        return ""
    value = f"{result.worst:.3f}".rstrip("0").rstrip(".")
    return f"{result.worst_label} {value} {result.unit}".strip()


def row(name: str, result: CaseResult, seconds: float) -> list[str]:
    if result.status != "ran":
        return [name, result.status, "", "", "", ""]
    return [
        name,
        str(result.tried),
        str(result.failures),
        str(result.lost),
        worst_text(result),
        f"{seconds:.0f} s",
    ]


def table(rows: list[list[str]]) -> str:
    """A Markdown table, readable in a terminal and pasteable into docs/reliability.md."""
    widths = [max(len(r[i]) for r in [HEADER, *rows]) for i in range(len(HEADER))]
    lines = ["| " + " | ".join(c.ljust(w) for c, w in zip(HEADER, widths, strict=True)) + " |"]
    lines.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    for r in rows:
        lines.append("| " + " | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="the short form (as in make test)")
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--skip", help="comma-separated case names to leave out")
    parser.add_argument("--json", help="also write every result, with details, to this file")
    args = parser.parse_args(argv)
    size = "short" if args.short else "long"
    names = list(CASES) if not args.cases else [n.strip() for n in args.cases.split(",")]
    skip = [n.strip() for n in args.skip.split(",")] if args.skip else []
    unknown = [n for n in names + skip if n not in CASES]
    names = [n for n in names if n not in skip]
    if unknown:
        parser.error(f"unknown case(s) {unknown}; known: {', '.join(CASES)}")
    logging.basicConfig(level=logging.ERROR)  # cases provoke warnings on purpose
    started = datetime.now(UTC)
    print(f"reliability ({size} form), {started:%Y-%m-%d %H:%M} UTC, {machine()}", flush=True)
    rows, records, bad = [], {}, False
    for name in names:
        print(f"... {name}", flush=True)
        began = time.monotonic()
        try:
            result = run_case(CASES[name], size)
        except Exception:
            result = CaseResult(tried=0)
            result.fail("the case itself crashed: " + traceback.format_exc(limit=3))
        seconds = time.monotonic() - began
        rows.append(row(name, result, seconds))
        records[name] = {**result.__dict__, "seconds": round(seconds, 1)}
        bad = bad or (result.status == "ran" and (result.failures > 0 or result.lost > 0))
        for line in result.details[:10]:
            print(f"    FAILED: {line}", flush=True)
        if result.figures:
            print(f"    figures: {json.dumps(result.figures)}", flush=True)
    print()
    print(table(rows))
    if args.json:
        Path(args.json).write_text(json.dumps(records, indent=2, default=str))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
