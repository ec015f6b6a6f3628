"""A bound on how much of one kind of costly work a worker does at once."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TypeVar

from stockline.errors import ServiceUnavailable

T = TypeVar("T")


class ConcurrencyLimit:
    """At most `slots` calls at once in this process, each on a thread. A caller waits up
    to `wait_seconds` for a slot, then is refused (503 busy_retry with Retry-After), so a
    flood of requests queues briefly instead of taking every core and all memory."""

    def __init__(self, slots: int, wait_seconds: float, what: str) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._wait_seconds = wait_seconds
        self._what = what

    async def run(self, work: Callable[..., T], *args: object) -> T:
        if self._slots.locked():  # no free slot: queue, but not for long
            try:
                await asyncio.wait_for(self._slots.acquire(), self._wait_seconds)
            except TimeoutError:
                raise ServiceUnavailable(f"Too many {self._what} at once; try again in a moment",
                                         code="busy_retry", headers={"Retry-After": "1"}) from None
        else:
            await self._slots.acquire()
        try:
            return await asyncio.to_thread(work, *args)
        finally:
            self._slots.release()
