"""Request latency through the Flask test client, shared by the API and dashboard benches.

Each URL is fetched a few times first (page cache, templates, code paths), then `repeat`
times; figures are milliseconds: median, p95 and the spread (min-max).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable
from pathlib import Path


def measure_urls(
    db_path: Path,
    cases: Iterable[tuple[str, str, float | None]],
    repeat: int,
    database_url: str | None = None,
) -> list[dict]:
    """`database_url` (PostgreSQL) instead of the SQLite file at `db_path` when given."""
    from api import create_app

    url = database_url or f"sqlite:///{db_path.resolve()}"
    app = create_app({"DATABASE_URL": url, "DATA_DIR": str(db_path.parent)})
    client = app.test_client()
    results = []
    for label, url, target in cases:
        for _ in range(3):
            response = client.get(url)
            assert response.status_code == 200, (url, response.get_data(as_text=True)[:300])
        samples = []
        for _ in range(repeat):
            began = time.perf_counter()
            client.get(url).get_data()
            samples.append((time.perf_counter() - began) * 1000)
        samples.sort()
        results.append(
            {
                "label": label,
                "p50": statistics.median(samples),
                "p95": samples[max(0, int(len(samples) * 0.95) - 1)],
                "min": samples[0],
                "max": samples[-1],
                "target": target,
                "bytes": len(response.get_data()),
            }
        )
    return results
