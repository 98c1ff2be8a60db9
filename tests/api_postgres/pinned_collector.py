"""`python -m collector ARGS` with the process clock pinned: `pinned_collector.py INSTANT ARGS`.

The collector stamps import runs, reading slots and substation sightings with its own
clock. Two databases filled at different real moments would differ in those columns, so
to compare SQLite and PostgreSQL row for row both are filled with the clock frozen at the
instant the simulator serves (`--now`). The collector's own `__main__` runs unchanged.
"""

from __future__ import annotations

import runpy
import sys

import time_machine


def main() -> None:
    instant, *args = sys.argv[1:]
    sys.argv = ["collector", *args]
    with time_machine.travel(instant, tick=False):
        runpy.run_module("collector", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
