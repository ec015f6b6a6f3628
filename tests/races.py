"""Races made deterministic.

A race test takes a lock in a rival transaction, sets the competing request going, and lets
the rival go on only once it *knows* that the request is waiting for that lock. Sleeping a
while and hoping the request got there is a guess: on a slow or busy machine the rival may
commit first and the test then passes without having tested the race (or fails for no
reason). PostgreSQL names who waits for whom (`pg_blocking_pids`), so the test asks it.

This gives the ordering that Saleor's `race_condition` test helpers give (run this code at
exactly that point of the other transaction), seen from the database's side, so the
application needs no hook for it. The wait is bounded: a request that never gets to the
lock fails the test loudly after `DEADLINE_SECONDS`, and one that finishes without waiting
fails it at once.

    with psycopg.connect(url) as rival:
        rival.execute("SELECT 1 FROM Product_SKUs WHERE sku_id = 2 FOR NO KEY UPDATE")
        request = asyncio.create_task(client.post("/api/checkout", headers=headers))
        await wait_until_blocked(url, rival.info.backend_pid, request)
        ...  # the rival's change, then its commit
        response = await request
"""

from __future__ import annotations

import asyncio

import psycopg

DEADLINE_SECONDS = 10.0

# backends waiting for a heavyweight lock (a row lock is one: the waiter waits for the
# holder's transaction id) that the given session holds
_BLOCKED = ("SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND %s = ANY(pg_blocking_pids(pid)) ORDER BY pid LIMIT 1")


async def wait_until_blocked(url: str, holder_pid: int, request: asyncio.Future | None = None, *,
                             seconds: float = DEADLINE_SECONDS) -> int:
    """Returns as soon as a backend waits for a lock that the session `holder_pid` holds (its
    pid is the answer). `request` is the task expected to end up waiting: if it finishes
    first, the test fails at once, showing what it answered."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    # an async connection: polling must not block the event loop the request runs on
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as watcher:
        while True:
            row = await (await watcher.execute(_BLOCKED, (holder_pid,))).fetchone()
            if row is not None:
                return row[0]
            if request is not None and request.done():
                answer = request.result()  # an exception from the request is raised here as it is
                raise AssertionError("the request finished without waiting for the lock: "
                                     f"{answer!r} {getattr(answer, 'text', '')}")
            if loop.time() > deadline:
                raise AssertionError(f"nothing waited for a lock of session {holder_pid} within {seconds:g} s")
            await asyncio.sleep(0.01)


_WAITING = ("SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
            "AND datname = current_database()")


async def wait_until_waiting(url: str, count: int, requests: tuple[asyncio.Future, ...] = (), *,
                             seconds: float = DEADLINE_SECONDS) -> None:
    """Returns as soon as `count` backends of this database wait for a lock: for several
    requests queued behind one holder (the second in the queue waits for the first, not for
    the holder, so `wait_until_blocked` would see only one). Any of `requests` finishing
    first fails the test at once."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as watcher:
        while (await (await watcher.execute(_WAITING)).fetchone())[0] < count:
            for request in requests:
                if request.done():
                    answer = request.result()
                    raise AssertionError("a request finished without waiting for the lock: "
                                         f"{answer!r} {getattr(answer, 'text', '')}")
            if loop.time() > deadline:
                raise AssertionError(f"{count} sessions did not come to wait for a lock within {seconds:g} s")
            await asyncio.sleep(0.01)
