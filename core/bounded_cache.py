"""A small least-recently-used map with a size bound, safe to share between threads.

Recipients repeat themselves: "menu", "1", "halo", "ya", and the same few questions in the same
words. The work a message costs (an embedding: ~15-25 ms of CPU) is kept for the last ``size``
distinct texts, so a repeat costs a dictionary lookup; the bound keeps memory flat however many
distinct messages arrive (4,096 embeddings of 384 floats: 6 MB). Standard library only: both
environments use it (the Rasa featurizer, the action server's encoder).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
DEFAULT_SIZE = 4096


class BoundedCache(Generic[K, V]):
    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        if size < 0:
            raise ValueError("size must be 0 (no caching) or more")
        self.size = size
        self.hits = 0
        self.misses = 0
        self._items: OrderedDict[K, V] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def get(self, key: K) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: K, value: V) -> None:
        if self.size == 0:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def get_or_make(self, key: K, make: Callable[[], V]) -> V:
        """The kept value, else ``make()`` (outside the lock: two threads may both make it once)."""
        value = self.get(key)
        if value is None:
            value = make()
            self.put(key, value)
        return value
