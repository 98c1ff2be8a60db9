"""Hostile answers for the KAMO simulator: what a broken or unfriendly upstream can send.

Two kinds. Transport modes write the answer themselves (slowly, enormously, in a loop, or
cut off with a reset); value modes put one impossible value into a well-formed answer. The
simulator's own work stays bounded: huge bodies are generated and streamed in chunks, never
built in memory, and every writer stops when the client goes away or the simulator stops.
Standard library only.
"""

from __future__ import annotations

import contextlib
import json
import socket
import struct
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler

TRANSPORT_MODES = ("trickle", "huge-body", "huge-chunked", "redirect-loop", "http429", "reset")
ABORTIVE_MODES = ("trickle", "huge-body", "huge-chunked", "reset")
VALUE_MODES = ("huge-number", "huger-number", "deep-nesting", "nan", "infinity", "out-of-range")
HOSTILE_MODES = TRANSPORT_MODES + VALUE_MODES

_PLACEHOLDER = "__kamo_sim_hostile_value__"
# The JSON text each value mode puts where one kW figure belongs.
VALUE_TEXT = {
    "huge-number": "9" * 400,  # an int that float() cannot hold (OverflowError)
    "huger-number": "9" * 5000,  # over Python's 4,300-digit int() limit (ValueError)
    "deep-nesting": "[" * 100_000 + "1" + "]" * 100_000,  # RecursionError in json.loads
    "nan": "NaN",
    "infinity": "Infinity",
    "out-of-range": "1e300",
}
STREAM_CHUNK = 64 * 1024
JSON_TYPE = "application/json; charset=utf-8"


def hostile_value_body(obj: dict, mode: str) -> bytes:
    """`obj` (an areagrid or arealoadtable answer) with one kW value replaced per `mode`."""
    rows = obj.get("areaLoadData")
    if rows:
        rows[0]["kw"] = _PLACEHOLDER
    else:
        for line in obj.get("chartLineData") or []:
            if str(line.get("label", "")).lower() == "actual":
                data = line["data"]
                filled = [i for i, v in enumerate(data) if v is not None]
                data[filled[-1] if filled else 0] = _PLACEHOLDER
    text = json.dumps(obj)
    return text.replace(json.dumps(_PLACEHOLDER), VALUE_TEXT[mode]).encode()


class HostileWriter:
    """Writes one transport-mode answer on `handler`; `stopping` is the simulator's event."""

    def __init__(self, handler: BaseHTTPRequestHandler, stopping: threading.Event) -> None:
        self.h = handler
        self.stopping = stopping

    def send(
        self, mode: str, body: bytes, trickle_ms: float, huge_mb: int, retry_after: int
    ) -> None:
        # The client giving up (broken pipe, reset) is what a hostile answer should cause.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError, TimeoutError):
            getattr(self, "_" + mode.replace("-", "_"))(body, trickle_ms, huge_mb, retry_after)
        if mode in ABORTIVE_MODES:  # the stream may be mid-answer: never reuse it
            self.h.close_connection = True

    def _headers(self, status: int, **headers: str) -> None:
        self.h.send_response(status)
        if status == 200:  # an abortive mode: tell the client this connection ends here
            self.h.send_header("Connection", "close")
        for name, value in headers.items():
            self.h.send_header(name.replace("_", "-"), value)
        self.h.end_headers()

    def _trickle(self, body: bytes, trickle_ms: float, *_: object) -> None:
        """The real answer, one byte every `trickle_ms`."""
        self._headers(200, Content_Type=JSON_TYPE, Content_Length=str(len(body)))
        for i in range(len(body)):
            self.h.wfile.write(body[i : i + 1])
            if self.stopping.wait(trickle_ms / 1000):
                return

    def _huge_body(self, body: bytes, trickle_ms: float, huge_mb: int, *_: object) -> None:
        size = huge_mb * 1024 * 1024
        self._headers(200, Content_Type=JSON_TYPE, Content_Length=str(size))
        for chunk in _padding(size):
            self.h.wfile.write(chunk)
            if self.stopping.is_set():
                return

    def _huge_chunked(self, body: bytes, trickle_ms: float, huge_mb: int, *_: object) -> None:
        self._headers(200, Content_Type=JSON_TYPE, Transfer_Encoding="chunked")
        for chunk in _padding(huge_mb * 1024 * 1024):
            self.h.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            if self.stopping.is_set():
                return
        self.h.wfile.write(b"0\r\n\r\n")

    def _redirect_loop(self, *_: object) -> None:
        """A -> A?r=1 -> A: the same two addresses for ever."""
        path = self.h.path
        target = path.split("?", 1)[0] if "?" in path else path + "?r=1"
        self._headers(302, Location=target, Content_Length="0")

    def _http429(self, body: bytes, trickle_ms: float, huge_mb: int, retry_after: int) -> None:
        message = b'{"Message": "Too many requests."}'
        self._headers(
            429,
            Content_Type=JSON_TYPE,
            Content_Length=str(len(message)),
            Retry_After=str(retry_after),
        )
        self.h.wfile.write(message)

    def _reset(self, body: bytes, *_: object) -> None:
        """Half the answer, then a TCP reset (SO_LINGER 0 makes close() send RST)."""
        self._headers(200, Content_Type=JSON_TYPE, Content_Length=str(len(body)))
        self.h.wfile.write(body[: len(body) // 2])
        sock: socket.socket = self.h.connection
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()


def _padding(size: int) -> Iterator[bytes]:
    """`size` bytes of a valid-looking JSON string, in STREAM_CHUNK pieces."""
    head, tail = b'{"Id": 1, "padding": "', b'"}'
    yield head
    left = size - len(head) - len(tail)
    block = b"x" * STREAM_CHUNK
    while left > 0:
        yield block[: min(left, STREAM_CHUNK)]
        left -= STREAM_CHUNK
    yield tail
