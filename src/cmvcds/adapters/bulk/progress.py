"""A progress line on stderr: lines done, rate, and the ETA when the input's size is known."""

from __future__ import annotations

import time
from typing import TextIO

__all__ = ["Progress"]


class Progress:
    """Rewrites one stderr line at most every ``every`` seconds (``\\r``), then ends it."""

    def __init__(self, stream: TextIO | None, total_bytes: int | None, every: float = 0.5) -> None:
        self.stream = stream
        self.total = total_bytes or None
        self.every = every
        self.start = self.last = time.monotonic()

    def update(self, lines: int, done_bytes: int, final: bool = False) -> None:
        if self.stream is None:
            return
        now = time.monotonic()
        if not final and now - self.last < self.every:
            return
        self.last = now
        elapsed = max(now - self.start, 1e-9)
        text = f"{lines:,} cases, {lines / elapsed:,.0f}/s, {elapsed:,.1f} s"
        if self.total and not final:
            share = min(done_bytes / self.total, 1.0)
            eta = elapsed * (1 - share) / share if share > 0 else float("nan")
            text += f", {share:.0%}, ETA {eta:,.0f} s"
        self.stream.write(f"\r{text}   " + ("\n" if final else ""))
        self.stream.flush()
