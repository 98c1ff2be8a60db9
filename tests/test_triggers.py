"""Trigger files and the manual-request rule; the cause named for a failed write."""

from __future__ import annotations

import os
import sqlite3
import threading

from collector.outage import write_error_cause
from shared.triggers import MANUAL_GAP, expected_start, pending_triggers, write_trigger


def test_a_fifo_in_the_triggers_folder_does_not_block_the_collector(tmp_path):
    folder = tmp_path / "triggers"
    write_trigger(folder, "real-one")
    os.mkfifo(folder / "odd.json")  # reading it would wait for a writer forever
    found: list = []
    reader = threading.Thread(target=lambda: found.extend(pending_triggers(folder)), daemon=True)
    reader.start()
    reader.join(5)
    assert not reader.is_alive(), "pending_triggers blocked on a FIFO"
    assert [t.request_id for t in found] == ["real-one"]
    (folder / "odd.json").unlink()


def test_manual_requests_wait_for_the_gap_and_yield_to_a_close_slot():
    now = 1_000_000.0
    assert expected_start(now, None, now + 300, 15) == (now, "manual")
    assert expected_start(now, now - 20, now + 300, 15) == (now - 20 + MANUAL_GAP, "manual")
    assert expected_start(now, None, now + 10, 15) == (now + 10, "scheduled")
    # The gap ends after the next slot: that slot's cycle answers.
    assert expected_start(now, now - 5, now + 30, 15) == (now + 30, "scheduled")
    assert expected_start(now, now - 5, now + 30, 15, gap=0) == (now, "manual")


def test_the_cause_of_a_failed_commit_is_not_hidden_by_the_rollback_error():
    try:
        try:
            raise sqlite3.OperationalError("database or disk is full")
        except sqlite3.OperationalError:
            raise sqlite3.OperationalError("cannot rollback - no transaction is active") from None
    except sqlite3.OperationalError as exc:
        # `from None` hides it from tracebacks, but __context__ still holds the cause.
        assert write_error_cause(exc) == "database or disk is full"
    assert write_error_cause(OSError(28, "No space left on device")).endswith("device")
