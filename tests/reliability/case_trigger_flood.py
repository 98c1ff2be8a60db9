"""Trigger flood: many POST /api/import/trigger against the real API (gunicorn, API_KEY set)
while a real collector daemon (POLL_INTERVAL_MINUTES=1, manual gap 60 s) polls the simulator,
both on one DATA_DIR.

Asserted: pending request files never exceed MAX_PENDING; every answer is 202 or 429 with
Retry-After; manual runs start at least the gap apart; every scheduled slot of the period
has its run; every request id answered 202 ends in a finished run that names it; the
requests to KAMO per minute stay within a few cycles' worth. Worst figure: the most KAMO
requests in any 60 s window.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from .common import CaseResult, query
from sim_process import free_port, start_simulator
from support import REPO_ROOT, collector_env, wait_for

API_KEY = "flood-key-0123456789"
MAX_PENDING = 20
MANUAL_GAP = 60.0
SLOT = 60
CYCLES_PER_MINUTE = 3  # one scheduled, one manual, and one late: anything above is a flood
ANSWER_DEADLINE = 150.0  # seconds after the last request for every accepted id to be answered


def trigger_flood(requests_total: int, seconds: float) -> CaseResult:
    if str(REPO_ROOT / "scripts") not in sys.path:
        sys.path.insert(0, str(REPO_ROOT / "scripts"))
    from slow_clients import sqlite_env, start_gunicorn, stop_gunicorn

    result = CaseResult(unit="req/min", worst_label="KAMO requests in a minute, at most")
    with tempfile.TemporaryDirectory() as tmp, start_simulator() as sim:
        data = Path(tmp) / "data"
        data.mkdir()
        env = collector_env(
            sim.base_url,
            data,
            POLL_INTERVAL_MINUTES="1",
            MANUAL_MIN_GAP_SECONDS=str(int(MANUAL_GAP)),
            KAMO_TIMEOUT_SECONDS="5",
            PYTHONPATH=str(REPO_ROOT),
        )
        log_path = Path(tmp) / "collector.log"
        with open(log_path, "w") as log:
            daemon = subprocess.Popen(
                [sys.executable, "-m", "collector"], cwd=data, env=env, stdout=log, stderr=log
            )
        port = free_port()
        api_env = {k: v for k, v in sqlite_env(data).items() if k != "WEB_CONCURRENCY"}
        api = start_gunicorn({**api_env, "API_KEY": API_KEY}, port, Path(tmp) / "api.log")
        try:
            db = data / "kamo.db"
            if not wait_for(lambda: _runs(db, "status != 'running'"), 60, 0.2):
                result.fail("the startup run did not finish in 60 s: " + _tail(log_path))
                return result
            per_cycle = _sim_requests(sim)
            watch = _Watch(data / "triggers", sim)
            began = time.time()
            answers = _fire(port, requests_total, seconds)
            fired = time.time()
            accepted = [a["request_id"] for a in answers if a["status"] == 202]
            answered = wait_for(
                lambda: _all_answered(db, accepted), ANSWER_DEADLINE + seconds / 4, 0.5
            )
            ended = time.time()
            watch.stop()
            _judge(result, answers, accepted, answered, db, began, ended, watch, per_cycle)
            result.figures.update(
                requests=len(answers),
                accepted=len(accepted),
                refused_429=sum(1 for a in answers if a["status"] == 429),
                firing_seconds=round(fired - began, 1),
                pending_max=watch.pending_max,
                kamo_requests_per_cycle=per_cycle,
                kamo_requests_total=watch.kamo_total(),
            )
        finally:
            stop_gunicorn(api)
            daemon.terminate()
            try:
                daemon.wait(30)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
    return result


class _Watch:
    """Samples the pending files and the simulator's request count every 0.2 s."""

    def __init__(self, triggers: Path, sim) -> None:
        self.triggers, self.sim = triggers, sim
        self.pending_max = 0
        self.kamo: list[tuple[float, int]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.2):
            try:
                pending = sum(1 for p in self.triggers.iterdir() if p.suffix == ".json")
            except FileNotFoundError:
                pending = 0
            self.pending_max = max(self.pending_max, pending)
            self.kamo.append((time.monotonic(), _sim_requests(self.sim)))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def kamo_total(self) -> int:
        return self.kamo[-1][1] - self.kamo[0][1] if self.kamo else 0

    def worst_minute(self) -> int:
        """The most simulator requests within any 60 s window of the samples."""
        worst, start = 0, 0
        for at, count in self.kamo:
            while self.kamo[start][0] < at - 60:
                start += 1
            worst = max(worst, count - self.kamo[start][1])
        return worst


def _fire(port: int, total: int, seconds: float) -> list[dict]:
    """`total` requests spread over `seconds` (0: a burst), 8 at a time."""
    url = f"http://127.0.0.1:{port}/api/import/trigger"
    started = time.monotonic()

    def one(index: int) -> dict:
        if seconds:
            time.sleep(max(0.0, started + index * seconds / total - time.monotonic()))
        try:
            answer = requests.post(url, headers={"X-API-Key": API_KEY}, timeout=30)
        except requests.RequestException as exc:
            return {"status": 0, "error": str(exc)[:120]}
        body = answer.json() if "json" in answer.headers.get("Content-Type", "") else {}
        return {
            "status": answer.status_code,
            "request_id": body.get("request_id"),
            "retry_after": answer.headers.get("Retry-After"),
        }

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, range(total)))


def _judge(result, answers, accepted, answered, db, began, ended, watch, per_cycle) -> None:
    result.tried = len(answers)
    for a in answers:
        if a["status"] == 429 and not (a["retry_after"] or "").isdigit():
            result.fail(f"429 without a Retry-After in seconds: {a}")
        elif a["status"] not in (202, 429):
            result.fail(f"answer {a['status']}: {a}")
    if watch.pending_max > MAX_PENDING:
        result.fail(f"{watch.pending_max} request files pending, over {MAX_PENDING}")
    if not answered:
        missing = _unanswered(db, accepted)
        result.lost = len(missing)
        result.fail(f"{len(missing)} accepted request ids never named by a run: {missing[:5]}")
    manual = [
        r[0]
        for r in query(
            db,
            "select started_at from import_run where trigger='manual'"
            " and started_at >= ? order by started_at",
            began,
        )
    ]
    for first, second in zip(manual, manual[1:], strict=False):
        if second - first < MANUAL_GAP - 0.5:
            result.fail(f"manual runs {second - first:.1f} s apart (gap {MANUAL_GAP:g} s)")
    result.figures["manual_runs"] = len(manual)
    scheduled = {
        r[0]
        for r in query(
            db,
            "select slot_ts from import_run where trigger='scheduled' and started_at >= ?",
            began - SLOT,
        )
    }
    first_full = (int(began) // SLOT + 1) * SLOT
    slots = range(first_full, int(ended) - 20, SLOT)  # each slot's run has had 20 s to start
    missing_slots = [s for s in slots if s not in scheduled]
    if missing_slots:
        result.fail(f"scheduled slots without a run: {missing_slots}")
    result.figures["scheduled_slots"] = len(slots)
    worst = watch.worst_minute()
    result.note_worst(worst)
    if worst > CYCLES_PER_MINUTE * max(per_cycle, 1):
        result.fail(f"{worst} KAMO requests in a minute ({per_cycle} per cycle)")


def _runs(db: Path, where: str) -> list[tuple]:
    try:
        return query(db, f"select id from import_run where {where}")
    except Exception:
        return []


def _named_ids(db: Path) -> set[str]:
    named: set[str] = set()
    for (ids,) in query(
        db,
        "select request_ids from import_run where status != 'running' and request_ids is not null",
    ):
        named.update(json.loads(ids))
    return named


def _unanswered(db: Path, accepted: list[str]) -> list[str]:
    named = _named_ids(db)
    return [i for i in accepted if i not in named]


def _all_answered(db: Path, accepted: list[str]) -> bool:
    try:
        return not _unanswered(db, accepted)
    except Exception:
        return False


def _sim_requests(sim) -> int:
    """Requests the simulator has logged so far (one stderr line each, without --quiet)."""
    return sum(1 for line in sim.stderr().splitlines() if line.startswith("GET /api/"))


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-1500:]
