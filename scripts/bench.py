"""`make bench`: run every benchmark section and print one table of figures.

python scripts/bench.py [--only pg]   (sections whose script name contains the word)
"""

from __future__ import annotations

import argparse
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Each section prints a JSON list of [figure, value, target] rows on its last line.
SECTIONS = [
    "bench_collector.py",
    "bench_forecast.py",
    "bench_api.py",
    "bench_dashboard.py",
    "bench_pg.py",
    "bench_estimate.py",
]
BENCH_DB = HERE.parent / "data" / "bench.db"  # one year at 5 minutes, made once (~4 min)


def _bench_db_current() -> bool:
    """The database exists and has this program's schema (an older one answers 503)."""
    if not BENCH_DB.is_file():
        return False
    sys.path.insert(0, str(HERE.parent))
    from shared.schema import SCHEMA_VERSION

    try:
        with sqlite3.connect(f"file:{BENCH_DB}?mode=ro", uri=True) as conn:
            found = conn.execute("SELECT max(version) FROM schema_version").fetchone()[0]
    except sqlite3.Error:
        return False
    return found == SCHEMA_VERSION


def ensure_bench_db() -> None:
    if _bench_db_current():
        return
    print(f"generating {BENCH_DB} (one year, ~31 million readings; a few minutes, once)")
    subprocess.run(
        [sys.executable, str(HERE / "gen_bench_db.py"), "--out", str(BENCH_DB)], check=True
    )


def run_section(script: str) -> list[list[str]]:
    path = HERE / script
    if not path.exists():
        return [[f"({script})", "not built yet", ""]]
    done = subprocess.run([sys.executable, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["no output"]
        return [[f"({script})", f"failed: {tail[0]}", ""]]
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="run the sections whose script name contains this")
    args = parser.parse_args()
    sections = [s for s in SECTIONS if args.only is None or args.only in s]
    ensure_bench_db()
    rows = [row for script in sections for row in run_section(script)]
    widths = [max(len(str(r[i])) for r in rows + [["figure", "value", "target"]]) for i in range(3)]
    line = "  ".join(f"{{:<{w}}}" for w in widths)
    print(line.format("figure", "value", "target"))
    print(line.format(*("-" * w for w in widths)))
    for row in rows:
        print(line.format(*row))


if __name__ == "__main__":
    main()
