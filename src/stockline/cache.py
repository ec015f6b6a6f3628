"""A small in-process cache with a time-to-live and a size bound (oldest entries go first).

One per process: with several workers each keeps its own, so anything that must be fresh
across workers puts a shared version number in its keys or keeps its TTL short.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from typing import Generic, TypeVar

V = TypeVar("V")


class TtlCache(Generic[V]):
    def __init__(self, ttl_seconds: float, max_entries: int = 10_000) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self._entries: OrderedDict[object, tuple[float, V]] = OrderedDict()
        self.discards = 0  # how many discards so far: a reader started before one may hold stale data

    def get(self, key: object) -> V | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        expires, value = entry
        if expires <= time.monotonic():
            self._entries.pop(key, None)
            return None
        return value

    def set(self, key: object, value: V) -> None:
        self._entries[key] = (time.monotonic() + self.ttl, value)
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def discard(self, key: object) -> None:
        self._entries.pop(key, None)
        self.discards += 1
