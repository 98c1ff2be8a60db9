"""The HTTP client in isolation (requests-mock); end-to-end tests use the real simulator."""

import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from collector.client import USER_AGENT, Fetched, FetchError, Interrupted, KamoClient

BASE = "http://kamo.test/api"


def client(**kw) -> KamoClient:
    kw.setdefault("backoff_initial", 0.01)
    kw.setdefault("backoff_max", 0.02)
    return KamoClient(BASE, **kw)


def test_success_returns_body_date_and_user_agent(requests_mock):
    m = requests_mock.get(
        f"{BASE}/area", content=b"[]", headers={"Date": "Thu, 26 Nov 2026 16:05:00 GMT"}
    )
    got = client().get("area")
    assert isinstance(got, Fetched) and got.body == b"[]"
    assert got.server_date == 1795709100.0
    assert m.last_request.headers["User-Agent"] == USER_AGENT and "kamo-load-logger" in USER_AGENT


def test_retries_5xx_then_succeeds(requests_mock):
    m = requests_mock.get(
        f"{BASE}/areagrid/1", [{"status_code": 500}, {"status_code": 503}, {"content": b"{}"}]
    )
    assert client().get("areagrid/1").body == b"{}"
    assert m.call_count == 3


def test_gives_up_after_the_attempts_with_the_status(requests_mock):
    m = requests_mock.get(f"{BASE}/areagrid/1", status_code=502)
    with pytest.raises(FetchError, match="HTTP 502"):
        client(attempts=3).get("areagrid/1")
    assert m.call_count == 3


def test_retries_timeouts(requests_mock):
    m = requests_mock.get(
        f"{BASE}/areagrid/2", [{"exc": requests.exceptions.ReadTimeout}, {"content": b"{}"}]
    )
    assert client().get("areagrid/2").body == b"{}"
    assert m.call_count == 2
    requests_mock.get(f"{BASE}/areagrid/3", exc=requests.exceptions.ConnectTimeout)
    with pytest.raises(FetchError, match="timeout"):
        client().get("areagrid/3")


def test_retries_connection_errors(requests_mock):
    m = requests_mock.get(
        f"{BASE}/area",
        [{"exc": requests.exceptions.ConnectionError("Connection refused")}, {"content": b"[]"}],
    )
    assert client().get("area").body == b"[]"
    assert m.call_count == 2


@pytest.mark.parametrize("status", [400, 404, 410])
def test_no_retry_on_4xx(requests_mock, status):
    m = requests_mock.get(f"{BASE}/areagrid/99", status_code=status)
    with pytest.raises(FetchError, match=f"HTTP {status}"):
        client().get("areagrid/99")
    assert m.call_count == 1


class _CountingHandler(BaseHTTPRequestHandler):
    lock = threading.Lock()
    in_flight = 0
    peak = 0

    def do_GET(self):
        cls = type(self)
        with cls.lock:
            cls.in_flight += 1
            cls.peak = max(cls.peak, cls.in_flight)
        time.sleep(0.05)
        with cls.lock:
            cls.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args):
        pass


def test_concurrency_is_bounded_on_a_real_server():
    # requests-mock serialises all sends behind one lock, so count on a loopback server.
    server = ThreadingHTTPServer(("127.0.0.1", 0), _CountingHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        kamo = KamoClient(f"http://127.0.0.1:{server.server_port}/api", max_concurrency=3)
        results = kamo.get_many([f"areagrid/{i}" for i in range(1, 21)])
    finally:
        server.shutdown()
    assert len(results) == 20 and all(isinstance(r, Fetched) for r in results.values())
    assert _CountingHandler.peak == 3  # reached, never exceeded


def test_get_many_reports_failures_per_path(requests_mock):
    requests_mock.get(f"{BASE}/areagrid/1", content=b"{}")
    requests_mock.get(f"{BASE}/areagrid/2", status_code=404)
    got = client().get_many(["areagrid/1", "areagrid/2"])
    assert isinstance(got["areagrid/1"], Fetched)
    assert isinstance(got["areagrid/2"], FetchError) and str(got["areagrid/2"]) == "HTTP 404"


def test_abort_abandons_requests_in_flight(requests_mock):
    abort, release = threading.Event(), threading.Event()

    def hang(request, context):
        release.wait(3)  # released below: requests-mock holds a global lock meanwhile
        return b"{}"

    requests_mock.get(f"{BASE}/areagrid/1", content=hang)
    threading.Timer(0.2, abort.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        client(abort=abort).get_many(["areagrid/1"])
    elapsed = time.monotonic() - started
    release.set()
    assert elapsed < 1.0


def test_abort_stops_retry_backoff(requests_mock):
    abort = threading.Event()
    requests_mock.get(f"{BASE}/areagrid/1", status_code=500)
    threading.Timer(0.2, abort.set).start()
    started = time.monotonic()
    with pytest.raises(Interrupted):
        KamoClient(BASE, attempts=10, backoff_initial=5, backoff_max=5, abort=abort).get(
            "areagrid/1"
        )
    assert time.monotonic() - started < 1.0
