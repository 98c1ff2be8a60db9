"""HTTP client for KAMO's public API: keep-alive, timeouts, retries, bounded concurrency.

Retries (with exponential backoff and jitter) cover connection errors, timeouts and
5xx answers; a 4xx is KAMO telling us something definite and is not retried. At most
`max_concurrency` requests are on the wire at once, across all threads.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

import requests
from requests.adapters import HTTPAdapter
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential_jitter,
)

from collector import __version__
from shared.timeutil import parse_http_date

USER_AGENT = f"kamo-load-logger/{__version__} (self-hosted load logger; polite polling)"


class FetchError(Exception):
    """A request failed for good. `str()` is a short reason for logs: `timeout`, `HTTP 500`."""

    def __init__(self, reason: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Interrupted(Exception):
    """The fetch was abandoned because the process is shutting down."""


@dataclass(frozen=True)
class Fetched:
    path: str
    status: int
    body: bytes
    content_type: str
    server_date: float | None  # the `Date` header, epoch seconds
    received_at: float  # our clock when the answer arrived


class KamoClient:
    def __init__(
        self,
        base_url: str,
        timeout: float = 10.0,
        max_concurrency: int = 4,
        attempts: int = 3,
        backoff_initial: float = 0.5,
        backoff_max: float = 4.0,
        abort: threading.Event | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.abort = abort or threading.Event()
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self.session = requests.Session()
        self.session.headers.update({"User-Agent": USER_AGENT, "Accept": "application/json"})
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=max_concurrency, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def _attempt(self, path: str) -> Fetched:
        if self.abort.is_set():
            raise Interrupted()
        url = f"{self.base_url}/{path.lstrip('/')}"
        with self._slots:
            try:
                response = self.session.get(url, timeout=self.timeout)
                body = response.content
            except requests.Timeout:
                raise FetchError("timeout", retryable=True) from None
            except requests.ConnectionError as exc:
                raise FetchError(_connection_reason(exc), retryable=True) from None
            except requests.RequestException as exc:
                raise FetchError(f"request failed: {type(exc).__name__}") from None
        received = time.time()
        if response.status_code >= 500:
            raise FetchError(f"HTTP {response.status_code}", retryable=True)
        if response.status_code >= 400:
            raise FetchError(f"HTTP {response.status_code}")
        return Fetched(
            path=path,
            status=response.status_code,
            body=body,
            content_type=response.headers.get("Content-Type", ""),
            server_date=parse_http_date(response.headers.get("Date")),
            received_at=received,
        )

    def _stop(self, state: RetryCallState) -> bool:
        return self.abort.is_set() or stop_after_attempt(self.attempts)(state)

    def get(self, path: str) -> Fetched:
        """GET one path below the base URL, retrying transient failures."""
        retrying = Retrying(
            stop=self._stop,
            wait=wait_exponential_jitter(
                multiplier=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
            ),
            retry=retry_if_exception(lambda e: isinstance(e, FetchError) and e.retryable),
            sleep=self.abort.wait,
            reraise=True,
        )
        try:
            result = retrying(self._attempt, path)
        except FetchError:
            if self.abort.is_set():  # retries stopped because we are shutting down
                raise Interrupted() from None
            raise
        if self.abort.is_set():
            raise Interrupted()
        return result

    def get_many(self, paths: Iterable[str]) -> dict[str, Fetched | FetchError]:
        """Fetch paths concurrently (bounded by the semaphore). Raises Interrupted on abort.

        Worker threads are daemons, so a shutdown never waits for a hung request.
        """
        paths = list(paths)
        done: queue.Queue[tuple[str, Fetched | FetchError]] = queue.Queue()

        def work(p: str) -> None:
            try:
                done.put((p, self.get(p)))
            except (FetchError, Interrupted) as exc:
                done.put((p, exc if isinstance(exc, FetchError) else FetchError("interrupted")))
            except Exception as exc:  # a bug must not hang the cycle
                done.put((p, FetchError(f"unexpected {type(exc).__name__}: {exc}")))

        for p in paths:
            threading.Thread(target=work, args=(p,), daemon=True, name=f"fetch {p}").start()
        results: dict[str, Fetched | FetchError] = {}
        while len(results) < len(paths):
            if self.abort.is_set():
                raise Interrupted()
            try:
                p, outcome = done.get(timeout=0.1)
            except queue.Empty:
                continue
            results[p] = outcome
        return results


def _connection_reason(exc: requests.ConnectionError) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "getaddrinfo" in text or "resolve" in text:
        return "DNS lookup failed"
    if "reset" in text or "aborted" in text:
        return "connection reset"
    return "connection error"
