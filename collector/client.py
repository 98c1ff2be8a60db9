"""HTTP client for KAMO's public API: deadlines, size cap, retries, bounded concurrency.

Every attempt has a total deadline (`timeout`, connect plus the whole body) and a size cap
(collector.http_stream). Retries (exponential backoff with jitter) cover connection errors,
timeouts and 5xx answers, and stop at the cycle's deadline; a 4xx is KAMO telling us
something definite and is not retried. A 429 or 503 with Retry-After defers that path (see
collector.deferrals). At most `max_concurrency` requests are on the wire at once.
"""

from __future__ import annotations

import queue
import threading
import time
import zlib
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_exponential_jitter

from collector import __version__
from collector.deferrals import Deferrals, retry_after_seconds
from collector.http_stream import (
    MAX_ANSWER_BYTES,
    AnswerTooLarge,
    DeadlinePassed,
    Watchdog,
    read_body,
    watched_adapter,
)
from shared.timeutil import KAMO_ZONE, now_ts, parse_http_date

USER_AGENT = f"kamo-load-logger/{__version__} (self-hosted load logger; polite polling)"
MAX_REDIRECTS = 3
REDIRECT_CODES = (301, 302, 303, 307, 308)


class FetchError(Exception):
    """A request failed for good. `str()` is a short reason for logs: `timeout`, `HTTP 500`."""

    def __init__(self, reason: str, retryable: bool = False) -> None:
        super().__init__(reason)
        self.retryable = retryable


class Interrupted(Exception):
    """The fetch was abandoned because the process is shutting down."""


@dataclass(frozen=True)
class Deadline:
    """A point on the monotonic clock, and the budget it was set from (for the reason)."""

    at: float
    seconds: float

    @classmethod
    def after(cls, seconds: float) -> Deadline:
        return cls(time.monotonic() + seconds, seconds)

    def remaining(self) -> float:
        return self.at - time.monotonic()

    def reason(self) -> str:
        return f"cycle deadline ({self.seconds:g} s) exceeded"


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
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        zone: ZoneInfo = KAMO_ZONE,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.attempts = attempts
        self.backoff_initial = backoff_initial
        self.backoff_max = backoff_max
        self.abort = abort or threading.Event()
        self.max_answer_bytes = max_answer_bytes
        self.deferrals = Deferrals(zone)
        self._origin = _origin(self.base_url)
        self._slots = threading.BoundedSemaphore(max_concurrency)
        self.session = requests.Session()
        self.session.headers.update(
            # identity: a compressed answer could hide a huge body behind a small one
            {"User-Agent": USER_AGENT, "Accept": "application/json", "Accept-Encoding": "identity"}
        )
        adapter = watched_adapter(max_concurrency)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def _attempt(self, path: str, deadline: Deadline | None, defer_limit: float | None) -> Fetched:
        if self.abort.is_set():
            raise Interrupted()
        # Waiting for a free connection is bounded by the cycle deadline only: queueing behind
        # our own requests must not eat into this request's own time.
        slot_wait = None if deadline is None else max(0.0, deadline.remaining())
        if not self._slots.acquire(timeout=slot_wait):
            raise FetchError(deadline.reason())
        try:
            until = time.monotonic() + self.timeout
            if deadline is not None:
                until = min(until, deadline.at)
                if deadline.remaining() <= 0:
                    raise FetchError(deadline.reason())
            with Watchdog(until) as dog:
                try:
                    response, body = self._follow(path, until)
                    if dog.expired:  # a body ended by close: the watchdog's shutdown looks like EOF
                        raise DeadlinePassed()
                except (DeadlinePassed, requests.Timeout):
                    raise _timeout(deadline) from None
                except requests.ConnectionError as exc:
                    if dog.expired:
                        raise _timeout(deadline) from None
                    raise FetchError(_connection_reason(exc), retryable=True) from None
                except AnswerTooLarge as exc:
                    raise FetchError(str(exc)) from None
                except (requests.exceptions.ContentDecodingError, zlib.error) as exc:
                    raise FetchError(f"undecodable body: {exc}") from None
                except requests.RequestException as exc:
                    if dog.expired:
                        raise _timeout(deadline) from None
                    raise FetchError(f"request failed: {type(exc).__name__}") from None
        finally:
            self._slots.release()
        received = time.time()
        status = response.status_code
        if status in (429, 503) and "Retry-After" in response.headers:
            seconds = retry_after_seconds(response.headers["Retry-After"], now_ts())
            if seconds is not None and seconds > 0:
                detail = f"HTTP {status} Retry-After {seconds:.0f} s"
                raise FetchError(self.deferrals.defer(path, seconds, detail, defer_limit))
        if status >= 500:
            raise FetchError(f"HTTP {status}", retryable=True)
        if status >= 400:
            raise FetchError(f"HTTP {status}")
        return Fetched(
            path=path,
            status=status,
            body=body,
            content_type=response.headers.get("Content-Type", ""),
            server_date=parse_http_date(response.headers.get("Date")),
            received_at=received,
        )

    def _follow(self, path: str, until: float) -> tuple[requests.Response, bytes]:
        """GET with at most MAX_REDIRECTS same-origin redirects, the body read in full."""
        url = f"{self.base_url}/{path.lstrip('/')}"
        for _hop in range(MAX_REDIRECTS + 1):
            left = max(0.01, until - time.monotonic())
            with self.session.get(
                url, timeout=(left, left), stream=True, allow_redirects=False
            ) as response:
                if response.status_code not in REDIRECT_CODES:
                    return response, read_body(response, until, self.max_answer_bytes)
                target = urljoin(url, response.headers.get("Location", ""))
            if _origin(target) != self._origin:
                raise FetchError(f"redirect to another site refused ({_origin(target)})")
            url = target
        raise FetchError(f"more than {MAX_REDIRECTS} redirects (a redirect loop?)")

    def get(
        self, path: str, deadline: Deadline | None = None, defer_limit: float | None = None
    ) -> Fetched:
        """GET one path below the base URL, retrying transient failures until `deadline`.

        A deferred path (an earlier Retry-After) fails at once without a request;
        `defer_limit` (epoch seconds) caps how long a new Retry-After defers it."""
        deferred = self.deferrals.reason(path)
        if deferred is not None:
            raise FetchError(deferred)

        def stop(state: RetryCallState) -> bool:
            if self.abort.is_set() or state.attempt_number >= self.attempts:
                return True
            # No point sleeping into the deadline: keep the last real reason instead.
            return deadline is not None and deadline.remaining() <= state.upcoming_sleep

        retrying = Retrying(
            stop=stop,
            wait=wait_exponential_jitter(
                multiplier=self.backoff_initial, max=self.backoff_max, jitter=self.backoff_initial
            ),
            retry=retry_if_exception(lambda e: isinstance(e, FetchError) and e.retryable),
            sleep=self.abort.wait,
            reraise=True,
        )
        try:
            result = retrying(self._attempt, path, deadline, defer_limit)
        except FetchError:
            if self.abort.is_set():  # retries stopped because we are shutting down
                raise Interrupted() from None
            raise
        if self.abort.is_set():
            raise Interrupted()
        return result

    def get_many(
        self,
        paths: Iterable[str],
        deadline: Deadline | None = None,
        defer_limit: float | None = None,
    ) -> dict[str, Fetched | FetchError]:
        """Fetch paths concurrently (bounded by the semaphore). Raises Interrupted on abort.

        Returns by `deadline`: a path still unfinished then gets a FetchError naming the
        deadline. Its worker (a daemon thread) stops by itself at the deadline, since every
        wait inside `get` is bounded by it, and so gives its connection slot back."""
        paths = list(dict.fromkeys(paths))
        done: queue.Queue[tuple[str, Fetched | FetchError]] = queue.Queue()

        def work(p: str) -> None:
            try:
                done.put((p, self.get(p, deadline, defer_limit)))
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
            if deadline is not None and deadline.remaining() <= 0:
                for p in paths:
                    results.setdefault(p, FetchError(deadline.reason()))
                break
            wait = 0.1 if deadline is None else min(0.1, max(0.0, deadline.remaining()))
            try:
                p, outcome = done.get(timeout=wait)
            except queue.Empty:
                continue
            results[p] = outcome
        return results


def _timeout(deadline: Deadline | None) -> FetchError:
    """A timed-out attempt: the cycle's deadline when that is what ran out."""
    if deadline is not None and deadline.remaining() <= 0:
        return FetchError(deadline.reason())
    return FetchError("timeout", retryable=True)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme)
    return f"{parts.scheme}://{(parts.hostname or '').lower()}:{port}"


def _connection_reason(exc: requests.ConnectionError) -> str:
    text = str(exc).lower()
    if "refused" in text:
        return "connection refused"
    if "name or service" in text or "getaddrinfo" in text or "resolve" in text:
        return "DNS lookup failed"
    if "reset" in text or "aborted" in text:
        return "connection reset"
    if "broken" in text or "incomplete" in text:
        return "connection closed mid-answer"
    return "connection error"
