"""A token bucket for the Cloud API throughput tier, shared by a worker's sending threads.

``rate`` tokens a second, at most ``burst`` saved up. When Meta answers 429 (throughput reached),
``hold`` stops every thread of the worker until the backoff ends, not only the one that was refused:
the limit is the business number's, so all sends of the worker wait together.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

_EPSILON = 1e-9


class TokenBucket:
    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if rate <= 0:
            raise ValueError("rate must be positive")
        self.rate = rate
        self.burst = burst if burst is not None else max(1.0, rate / 10)  # ~100 ms of traffic at most
        self._tokens = self.burst
        self._clock = clock
        self._sleep = sleep
        self._updated = clock()
        self._held_until = 0.0
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for one token; returns how long it waited (seconds)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                if now < self._held_until:
                    delay = self._held_until - now
                else:
                    self._tokens = min(self.burst, self._tokens + (now - self._updated) * self.rate)
                    self._updated = now
                    if self._tokens >= 1 - _EPSILON:  # float rounding must not leave a thread spinning
                        self._tokens = max(0.0, self._tokens - 1)
                        return waited
                    delay = (1 - self._tokens) / self.rate
            self._sleep(delay)
            waited += delay

    def hold(self, seconds: float) -> None:
        """No token for anyone for ``seconds`` (a 429's backoff); a longer hold already set stands."""
        with self._lock:
            now = self._clock()
            self._held_until = max(self._held_until, now + seconds)
            self._tokens = 0
            self._updated = max(self._updated, self._held_until)
