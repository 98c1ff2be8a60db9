"""A progress bar on standard error: redrawn in place on a terminal, a line every 10% (or
every 30 s) when standard error is a file or a pipe, so logs stay readable."""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30


class Bar:
    def __init__(self, label: str, total: int, done: int = 0, stream: TextIO | None = None):
        self.label, self.total, self.done = label, max(total, 0), done
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.began = time.monotonic()
        self.start_done = done
        self.drawn_at = 0.0
        self.decile = -1
        self._draw(force=True)

    def advance(self, rows: int) -> None:
        self.done += rows
        self._draw()

    def rate(self) -> float:
        elapsed = time.monotonic() - self.began
        return (self.done - self.start_done) / elapsed if elapsed > 0 else 0.0

    def _line(self) -> str:
        share = min(self.done / self.total, 1.0) if self.total else 1.0
        filled = int(share * WIDTH)
        rate = self.rate()
        left = (self.total - self.done) / rate if rate > 0 and self.total > self.done else 0
        eta = f", {left:.0f} s left" if left else ""
        return (
            f"{self.label} [{'#' * filled}{'.' * (WIDTH - filled)}] {share * 100:5.1f}% "
            f"{self.done:,}/{self.total:,} rows, {rate:,.0f} rows/s{eta}"
        )

    def _draw(self, force: bool = False) -> None:
        now = time.monotonic()
        if self.tty:
            if force or now - self.drawn_at >= 0.1:
                self.stream.write("\r" + self._line() + "\033[K")
                self.stream.flush()
                self.drawn_at = now
            return
        decile = int(10 * self.done / self.total) if self.total else 10
        if force or decile > self.decile or now - self.drawn_at >= 30:
            self.stream.write(self._line() + "\n")
            self.stream.flush()
            self.drawn_at, self.decile = now, decile

    def close(self) -> float:
        """Draw the final state; returns the rows per second of this run."""
        rate = self.rate()
        if self.tty:
            self.stream.write("\r" + self._line() + "\033[K\n")
        elif self.decile < 10:
            self.stream.write(self._line() + "\n")
        self.stream.flush()
        return rate
