"""The API under load: slow-header clients against a real gunicorn (the config file's worker
class), and schemathesis over the OpenAPI document. Both run on a real SQLite file that a
real collector cycle filled from the simulator."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from .common import CaseResult
from sim_process import control, free_port, start_simulator
from support import REPO_ROOT

ANSWER_BOUND_MS = 1000  # the requirement for /api/health and / under slow clients
SLOW_HEADER_INTERVAL = 1.0  # seconds between two header lines of a slow client


def _importable(*folders: str) -> None:
    """Make scripts/ or tests/api/ modules importable, when a case runs (not on import)."""
    for folder in folders:
        path = str(REPO_ROOT / folder)
        if path not in sys.path:
            sys.path.insert(0, path)


def slow_clients(runs: list[dict[str, int]]) -> CaseResult:
    """`runs`: [{"clients": 50, "samples": 200}, ...]; each on a fresh gunicorn."""
    _importable("scripts")
    from slow_clients import (
        _demo_database,
        latency_under_slow_clients,
        sqlite_env,
        start_gunicorn,
        stop_gunicorn,
    )

    result = CaseResult(unit="ms", worst_label="slowest answer")
    with tempfile.TemporaryDirectory() as tmp:
        db_dir = _demo_database(Path(tmp))
        env = {k: v for k, v in sqlite_env(db_dir).items() if k != "WEB_CONCURRENCY"}
        for spec in runs:
            clients, samples = spec["clients"], spec["samples"]
            port = free_port()
            proc = start_gunicorn(env, port, Path(tmp) / f"gunicorn-{clients}.log")
            try:
                found = latency_under_slow_clients(port, clients, samples, SLOW_HEADER_INTERVAL)
            finally:
                stop_gunicorn(proc)
            result.figures[f"{clients} clients"] = _rounded(found)
            for what, expected in (("health", samples), ("dashboard", max(1, samples // 4))):
                summary = found[what]
                result.tried += expected
                label = f"{clients} slow clients, {'/api/health' if what == 'health' else '/'}"
                if summary["failed"]:
                    result.fail(f"{label}: {summary['failed']} answers not 200")
                if summary["max_ms"] > ANSWER_BOUND_MS:
                    result.fail(f"{label}: slowest {summary['max_ms']:.0f} ms, over 1 s")
                result.note_worst(round(summary["max_ms"], 1))
    return result


def _rounded(found: dict) -> dict:
    return {
        key: {k: round(v, 1) for k, v in value.items()} if isinstance(value, dict) else value
        for key, value in found.items()
    }


def schemathesis_cases(max_examples: int) -> CaseResult:
    _importable("tests/api")
    from api_support import API_KEY, SIM_NOW, check_ok, collector_once, make_app
    from schemathesis_run import run_schemathesis

    result = CaseResult(unit="cases", worst_label="generated")
    with tempfile.TemporaryDirectory() as tmp:
        data_dir = Path(tmp)
        # The same database as tests/api's sim_dir: two cycles, so hours get revised too.
        with start_simulator("--quiet", "--now", SIM_NOW) as sim:
            check_ok(collector_once(sim, data_dir))
            control(sim.base_url, now="2026-11-26T17:40:00Z")
            check_ok(collector_once(sim, data_dir))
        found = run_schemathesis(make_app(data_dir), max_examples, API_KEY)
    result.tried = found["cases"]
    result.worst = found["cases"]
    for failure in found["failures"]:
        result.fail(failure)
    if found["cases"] < max_examples:
        result.fail(f"only {found['cases']} cases generated, {max_examples} asked")
    return result
