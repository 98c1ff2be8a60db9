"""Reading one KAMO answer within a total deadline and a size cap.

requests' `timeout` bounds each socket read, not the whole answer: a server that sends one
byte a second never times out. Here every attempt gets a watchdog that shuts the socket down
at the deadline (that also covers headers sent slowly), the body is streamed in chunks with
the deadline checked between them, and the bytes are counted as they arrive, so memory stays
at most the cap whatever the server sends.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import zlib

import requests
import urllib3
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ReadTimeoutError

# KAMO's real answers are 0.7-6 KB (scripts/kamo_fixtures/real-2026-01-04); 4 MiB leaves a
# margin of several hundred times and still bounds memory at 4 concurrent answers to ~16 MiB.
MAX_ANSWER_BYTES = 4 * 1024 * 1024
CHUNK_BYTES = 64 * 1024


class AnswerTooLarge(Exception):
    """The answer is bigger than MAX_ANSWER_BYTES; `str()` is the reason for the run."""


class DeadlinePassed(Exception):
    """The attempt's deadline passed while connecting or reading."""


def size_reason(limit: int) -> str:
    mib = 1024 * 1024
    return f"answer over {limit // mib} MiB" if limit % mib == 0 else f"answer over {limit} bytes"


class _Watch:
    """One attempt's socket and deadline; the timer shuts the socket down when time is up."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.done = False
        self.fired = False

    def expire(self) -> None:
        with self.lock:
            if self.done:
                return
            self.fired = True
            if self.sock is not None:
                # shutdown() wakes a recv() blocked in another thread; close() would not.
                with contextlib.suppress(OSError):
                    self.sock.shutdown(socket.SHUT_RDWR)

    def finish(self) -> None:
        with self.lock:
            self.done = True


_current = threading.local()  # the _Watch of the attempt running on this thread


class _WatchedMixin:
    def getresponse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        watch = getattr(_current, "watch", None)
        if watch is not None:
            with watch.lock:
                watch.sock = self.sock  # type: ignore[attr-defined]
                if watch.fired:
                    raise DeadlinePassed()
        return super().getresponse(*args, **kwargs)  # type: ignore[misc]


class _WatchedHTTPConnection(_WatchedMixin, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_WatchedMixin, HTTPSConnection):
    pass


class _WatchedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _WatchedHTTPConnection


class _WatchedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _WatchedHTTPSConnection


def watched_adapter(pool_maxsize: int) -> HTTPAdapter:
    """An adapter whose connections report their socket to the attempt's watchdog."""
    adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_maxsize, max_retries=0)
    adapter.poolmanager.pool_classes_by_scheme = {
        "http": _WatchedHTTPPool,
        "https": _WatchedHTTPSPool,
    }
    return adapter


class Watchdog:
    """`with Watchdog(deadline):` shuts this thread's request socket down at `deadline`
    (time.monotonic()); `expired` says afterwards whether it did."""

    def __init__(self, deadline: float) -> None:
        self.watch = _Watch()
        self.timer = threading.Timer(max(0.0, deadline - time.monotonic()), self.watch.expire)
        self.timer.daemon = True

    @property
    def expired(self) -> bool:
        return self.watch.fired

    def __enter__(self) -> Watchdog:
        _current.watch = self.watch
        self.timer.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.watch.finish()
        self.timer.cancel()
        _current.watch = None


def read_body(response: requests.Response, deadline: float, limit: int = MAX_ANSWER_BYTES) -> bytes:
    """The whole body, streamed: raises AnswerTooLarge past `limit` bytes (decoded) and
    DeadlinePassed when `deadline` (time.monotonic()) passes between chunks."""
    declared = response.headers.get("Content-Length", "").strip()
    if declared.isdigit() and int(declared) > limit:
        raise AnswerTooLarge(size_reason(limit))
    inflater = _inflater(response.headers.get("Content-Encoding", ""))
    chunks: list[bytes] = []
    total = 0
    while True:
        if time.monotonic() >= deadline:
            raise DeadlinePassed()
        # One recv at most per call (read1): a trickle returns often, so the check above runs.
        try:
            data = response.raw.read1(CHUNK_BYTES, decode_content=False)
        except ReadTimeoutError:
            raise DeadlinePassed() from None
        except urllib3.exceptions.HTTPError as exc:  # reset, closed early: what requests says
            raise requests.ConnectionError(str(exc)) from None
        if not data:
            break
        if inflater is not None:
            data = inflater.decompress(data, limit - total + 1)  # never inflates past the cap
        total += len(data)
        if total > limit:
            raise AnswerTooLarge(size_reason(limit))
        chunks.append(data)
    return b"".join(chunks)


def _inflater(encoding: str) -> zlib._Decompress | None:  # type: ignore[name-defined]
    encoding = encoding.strip().lower()
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(wbits=47)  # 32 + 15: gzip or zlib header, detected
    raise requests.exceptions.ContentDecodingError(f"unsupported Content-Encoding {encoding}")
