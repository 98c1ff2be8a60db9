"""The client's limits against hostile servers: total deadline, size cap, redirects, resets,
Retry-After. Transport behaviour runs on a real loopback server; answers that need no real
socket use requests-mock."""

from __future__ import annotations

import contextlib
import gzip
import socket
import struct
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from collector.client import Deadline, Fetched, FetchError, KamoClient
from collector.deferrals import MAX_ENTRIES, Deferrals
from shared.timeutil import KAMO_ZONE, clock_label, now_ts

BASE = "http://kamo.test/api"
BODY = b'{"Id": 1, "areaLoadData": []}' * 10


class Hostile(BaseHTTPRequestHandler):
    """Behaviour by path: /api/<mode>/..."""

    protocol_version = "HTTP/1.1"
    requests_seen = 0

    def do_GET(self):
        type(self).requests_seen += 1
        mode = self.path.split("/")[2]
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            getattr(self, "mode_" + mode)()

    def mode_ok(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY)

    def mode_trickle(self):  # every byte well inside any per-read timeout, never finishing
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        for i in range(len(BODY)):
            self.wfile.write(BODY[i : i + 1])
            time.sleep(0.2)

    def mode_trickleclose(self):  # no length, no chunks: the body ends when the socket closes
        self.send_response(200)
        self.send_header("Connection", "close")
        self.end_headers()
        for i in range(len(BODY)):
            self.wfile.write(BODY[i : i + 1])
            time.sleep(0.2)
        self.close_connection = True

    def mode_slowheaders(self):
        self.wfile.write(b"HTTP/1.1 200 OK\r\n")
        for _ in range(200):
            self.wfile.write(b"X")
            time.sleep(0.2)

    def mode_hang(self):
        time.sleep(8)

    def mode_chunked(self):  # 64 MiB without Content-Length
        self.send_response(200)
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        block = b"x" * 65536
        for _ in range(1024):
            self.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
        self.wfile.write(b"0\r\n\r\n")

    def mode_reset(self):
        self.send_response(200)
        self.send_header("Content-Length", str(len(BODY)))
        self.end_headers()
        self.wfile.write(BODY[:20])
        self.wfile.flush()
        time.sleep(0.05)
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Hostile)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{httpd.server_port}/api"
    httpd.shutdown()


def fast(base: str = BASE, **kw) -> KamoClient:
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.02)
    return KamoClient(base, **kw)


def timed(fn, *args, **kw):
    started = time.monotonic()
    try:
        return fn(*args, **kw), time.monotonic() - started
    except FetchError as exc:
        return exc, time.monotonic() - started


# --- deadlines ----------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["trickle", "trickleclose", "slowheaders"])
def test_a_trickling_answer_fails_as_timeout_at_the_total_deadline(server, mode):
    # 290 bytes at 5 a second would take a minute; each read is far inside the timeout.
    got, elapsed = timed(fast(server, timeout=1.0, attempts=1).get, f"{mode}/1")
    assert isinstance(got, FetchError) and str(got) == "timeout" and got.retryable
    assert elapsed < 6.0  # 1 s plus slack for a busy machine; unbounded before


def test_get_many_returns_by_the_cycle_deadline_and_frees_its_slots(server):
    client = fast(server, timeout=30.0, max_concurrency=2)
    paths = [f"hang/{i}" for i in range(4)] + ["ok/1"]
    got, elapsed = timed(client.get_many, paths, Deadline.after(1.0))
    assert elapsed < 5.0
    assert {str(got[p]) for p in paths[:4]} == {"cycle deadline (1 s) exceeded"}
    # ok/1 waited for a slot held by a hanging request, never longer than the deadline.
    # (or it got a slot at the very last moment, and its own time ran out at once).
    assert str(got["ok/1"]) in ("cycle deadline (1 s) exceeded", "timeout")
    # The abandoned workers stop at the deadline and give both connection slots back.
    assert client._slots.acquire(timeout=5) and client._slots.acquire(timeout=5)
    client._slots.release()
    client._slots.release()
    assert isinstance(client.get("ok/2"), Fetched)


def test_retries_stop_at_the_cycle_deadline(requests_mock):
    m = requests_mock.get(f"{BASE}/areagrid/1", status_code=500)
    client = KamoClient(BASE, attempts=10, backoff_initial=2, backoff_max=2)
    got, elapsed = timed(client.get, "areagrid/1", Deadline.after(1.0))
    assert str(got) == "HTTP 500" and elapsed < 1.5  # the last real reason, not "deadline"
    assert m.call_count == 1  # the 2 s backoff would have passed the deadline


# --- size ---------------------------------------------------------------------------------


def test_content_length_over_the_cap_is_refused_before_reading(requests_mock):
    requests_mock.get(f"{BASE}/areagrid/1", content=b"x" * 5000)
    got, _ = timed(fast(max_answer_bytes=4096).get, "areagrid/1")
    assert str(got) == "answer over 4096 bytes" and not got.retryable


def test_chunked_answer_is_cut_off_at_the_cap(server):
    got, elapsed = timed(fast(server).get, "chunked/1")
    assert str(got) == "answer over 4 MiB" and elapsed < 10.0


def test_an_answer_at_the_cap_is_accepted(requests_mock):
    requests_mock.get(f"{BASE}/areagrid/1", content=b"x" * 4096)
    assert len(fast(max_answer_bytes=4096).get("areagrid/1").body) == 4096


def test_a_compressed_answer_is_capped_by_its_inflated_size(requests_mock):
    # We ask for identity; a server that compresses anyway is decoded within the cap.
    small = gzip.compress(b'{"Id": 1}')
    requests_mock.get(f"{BASE}/areagrid/1", content=small, headers={"Content-Encoding": "gzip"})
    assert fast().get("areagrid/1").body == b'{"Id": 1}'
    bomb = gzip.compress(b"0" * (64 * 1024 * 1024))  # 64 MiB in about 64 KB
    requests_mock.get(f"{BASE}/areagrid/2", content=bomb, headers={"Content-Encoding": "gzip"})
    assert str(timed(fast().get, "areagrid/2")[0]) == "answer over 4 MiB"


# --- redirects and resets -----------------------------------------------------------------


def test_a_redirect_loop_fails_with_a_clear_reason(requests_mock):
    m = requests_mock.get(
        f"{BASE}/areagrid/1", status_code=302, headers={"Location": f"{BASE}/areagrid/1?x"}
    )
    requests_mock.get(
        f"{BASE}/areagrid/1?x", status_code=302, headers={"Location": f"{BASE}/areagrid/1"}
    )
    got, _ = timed(fast().get, "areagrid/1")
    assert "redirect loop" in str(got) and not got.retryable
    assert m.call_count <= 4


def test_same_origin_redirect_is_followed_other_sites_are_not(requests_mock):
    requests_mock.get(f"{BASE}/areagrid/1", status_code=301, headers={"Location": "/api/v2/a1"})
    requests_mock.get("http://kamo.test/api/v2/a1", content=b"{}")
    assert fast().get("areagrid/1").body == b"{}"
    other = requests_mock.get("http://elsewhere.test/x", content=b"{}")
    requests_mock.get(
        f"{BASE}/areagrid/2", status_code=302, headers={"Location": "http://elsewhere.test/x"}
    )
    got, _ = timed(fast().get, "areagrid/2")
    assert "another site refused" in str(got) and other.call_count == 0


def test_connection_reset_mid_body_is_retried_then_named(server):
    before = Hostile.requests_seen
    got, _ = timed(fast(server, attempts=2).get, "reset/1")
    assert str(got) == "connection reset" and got.retryable
    assert Hostile.requests_seen - before == 2


# --- Retry-After --------------------------------------------------------------------------


@pytest.mark.parametrize("status", [429, 503])
def test_retry_after_defers_the_path_without_retrying(requests_mock, status):
    m = requests_mock.get(f"{BASE}/areagrid/1", status_code=status, headers={"Retry-After": "120"})
    client = fast()
    started = now_ts()
    got, _ = timed(client.get, "areagrid/1")
    until = clock_label(started + 120, KAMO_ZONE)
    assert str(got) == f"deferred until {until} (HTTP {status} Retry-After 120 s)"
    assert m.call_count == 1
    again, _ = timed(client.get, "areagrid/1")  # a later cycle: skipped, no request
    assert str(again) == str(got) and m.call_count == 1


def test_retry_after_as_http_date_and_capped_by_the_limit(requests_mock):
    when = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 600))
    requests_mock.get(f"{BASE}/areagrid/1", status_code=429, headers={"Retry-After": when})
    client = fast()
    limit = now_ts() + 0.5  # e.g. the next slot: the poll there must not be lost
    got = client.get_many(["areagrid/1"], defer_limit=limit)["areagrid/1"]
    assert "HTTP 429 Retry-After" in str(got) and "deferred until" in str(got)
    deadline = time.monotonic() + 5
    while client.deferrals.reason("areagrid/1") is not None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert client.deferrals.reason("areagrid/1") is None and len(client.deferrals) == 0


def test_deferral_map_is_bounded():
    deferrals = Deferrals(KAMO_ZONE)
    for i in range(MAX_ENTRIES + 50):
        deferrals.defer(f"areagrid/{i}", 60 + i, "HTTP 429 Retry-After 60 s")
    assert len(deferrals) == MAX_ENTRIES
    assert deferrals.reason(f"areagrid/{MAX_ENTRIES + 49}") is not None
    assert deferrals.reason("areagrid/0") is None  # the soonest to expire made room
