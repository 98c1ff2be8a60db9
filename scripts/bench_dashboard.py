"""Dashboard page render times on a generated database (scripts/gen_bench_db.py).

    python scripts/bench_dashboard.py --db data/bench.db [--repeat 40]

Each page is requested through the Flask test client (in process: the app, the templates
and SQLite, not the network), warmed up three times, then timed `--repeat` times; p50 and
p95 with the min-max spread. The last stdout line is the JSON list of [figure, value,
target] rows that `make bench` (scripts/bench.py) collects.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench_latency import measure_urls  # noqa: E402

# (label, url, target p95 in ms; None for figures shown without a target)
CASES = [
    ("/", "/", 50),
    ("/tables", "/tables", 50),
    ("/inspector area 1, 30 d", "/inspector?area=1&range=30d", 300),
    ("/inspector area 20, 1 year", "/inspector?area=20&range=1y", None),
    ("/inspector substation, 30 d", "/inspector?substation=1&range=30d", None),
    ("/tables readings, a page", "/tables?table=substation_reading", None),
    ("/imports", "/imports", None),
]


def measure(db_path: Path, repeat: int) -> list[dict]:
    return measure_urls(db_path, CASES, repeat)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=REPO / "data" / "bench.db")
    parser.add_argument("--repeat", type=int, default=40)
    args = parser.parse_args(argv)
    if not args.db.is_file():
        print(f"{args.db} not found: run scripts/gen_bench_db.py --out {args.db} first")
        return 1
    rows = measure(args.db, args.repeat)
    print(f"{'page':32} {'p50 ms':>8} {'p95 ms':>8} {'spread ms':>14} {'kB':>6} {'target':>8}")
    table = []
    for r in rows:
        spread = f"{r['min']:.1f}-{r['max']:.1f}"
        goal = f"p95 <= {r['target']} ms" if r["target"] else ""
        verdict = "" if not r["target"] else "ok" if r["p95"] <= r["target"] else "OVER"
        print(
            f"{r['label']:32} {r['p50']:8.1f} {r['p95']:8.1f} {spread:>14} "
            f"{r['bytes'] / 1000:6.0f} {'<=' + str(r['target']) if r['target'] else '':>8} "
            f"{verdict}"
        )
        table.append(
            [
                f"Dashboard {r['label']}",
                f"p50 {r['p50']:.1f} ms, p95 {r['p95']:.1f} ms ({spread})",
                goal,
            ]
        )
    print(json.dumps(table))  # the last line: what `make bench` collects
    return 0


if __name__ == "__main__":
    sys.exit(main())
