"""A bound on how much of one kind of costly work a worker does at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from stockline.errors import ServiceUnavailable


class ConcurrencyLimit:
    """At most `slots` holders at once in this process. A caller waits up to `wait_seconds`
    for a slot, then is refused (503 busy_retry with Retry-After), so a flood of requests
    queues briefly instead of taking every core and all memory."""

    def __init__(self, slots: int, wait_seconds: float, what: str) -> None:
        self._slots = asyncio.Semaphore(slots)
        self._wait_seconds = wait_seconds
        self._what = what

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if not self._slots.locked():
            await self._slots.acquire()  # free: no wait (wait_for with no time to wait would refuse)
        else:
            try:
                await asyncio.wait_for(self._slots.acquire(), self._wait_seconds)
            except TimeoutError:
                raise ServiceUnavailable(f"Too many {self._what} at once; try again in a moment",
                                         code="busy_retry", headers={"Retry-After": "1"}) from None
        try:
            yield
        finally:
            self._slots.release()
