"""A per-key request limit over fixed one-minute windows, kept in the process's memory.

Each API worker process counts on its own, so with N workers a key may make up to N times the
limit: enough to stop a runaway script, not a quota. Off unless RATE_LIMIT_PER_MINUTE > 0.
"""
from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class FixedWindowLimiter:
    """Allow `limit` hits per key in each window of `window_seconds`."""

    def __init__(self, limit: int, window_seconds: float = 60,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if limit < 1:
            raise ValueError("the limit must be at least 1")
        self.limit = limit
        self.window_seconds = window_seconds
        self._clock = clock
        self._lock = threading.Lock()
        # key -> (start of its current window, hits in it)
        self._windows: dict[str, tuple[float, int]] = {}

    def hit(self, key: str) -> int | None:
        """Count one request of `key`; return None if allowed, else the seconds to wait."""
        now = self._clock()
        with self._lock:
            start, hits = self._windows.get(key, (now, 0))
            if now - start >= self.window_seconds:
                start, hits = now, 0
            if hits >= self.limit:
                return max(1, math.ceil(start + self.window_seconds - now))
            self._windows[key] = (start, hits + 1)
            return None
