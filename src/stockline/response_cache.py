"""Cache of rendered responses: in this process by default, in Redis when REDIS_URL is set
(so several workers share it). Keys carry a version that writers bump, so a change is seen
at once; the TTL bounds how long anything else may stay. Redis trouble is a cache miss,
never an error."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import Protocol

from stockline.cache import TtlCache
from stockline.config import Settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedResponse:
    body: bytes
    etag: str

    @classmethod
    def of(cls, body: bytes) -> CachedResponse:
        return cls(body, '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"')


class ResponseCache(Protocol):
    async def get(self, key: str) -> CachedResponse | None: ...

    async def set(self, key: str, value: CachedResponse) -> None: ...

    async def close(self) -> None: ...


class LocalResponseCache:
    def __init__(self, ttl_seconds: int, max_entries: int = 5_000) -> None:
        self.entries: TtlCache[CachedResponse] = TtlCache(ttl_seconds, max_entries)

    async def get(self, key: str) -> CachedResponse | None:
        return self.entries.get(key)

    async def set(self, key: str, value: CachedResponse) -> None:
        self.entries.set(key, value)

    async def close(self) -> None:
        return None


class RedisResponseCache:
    def __init__(self, url: str, ttl_seconds: int) -> None:
        import redis.asyncio as redis

        self.client = redis.from_url(url, socket_timeout=0.5, socket_connect_timeout=0.5)
        self.ttl = ttl_seconds

    async def get(self, key: str) -> CachedResponse | None:
        try:
            stored = await self.client.get(key)
        except Exception as exc:  # any Redis failure is a miss
            log.warning("response cache: Redis get failed (%s)", type(exc).__name__)
            return None
        if not stored:
            return None
        etag, _, body = stored.partition(b"\n")
        return CachedResponse(body, etag.decode())

    async def set(self, key: str, value: CachedResponse) -> None:
        try:
            await self.client.set(key, value.etag.encode() + b"\n" + value.body, ex=self.ttl)
        except Exception as exc:
            log.warning("response cache: Redis set failed (%s)", type(exc).__name__)

    async def close(self) -> None:
        await self.client.aclose()


class NoCache:
    """CACHE_TTL_PRODUCTS=0: every read goes to the database."""

    async def get(self, key: str) -> CachedResponse | None:
        return None

    async def set(self, key: str, value: CachedResponse) -> None:
        return None

    async def close(self) -> None:
        return None


def create_response_cache(settings: Settings) -> ResponseCache:
    if settings.cache_ttl_products == 0:
        return NoCache()
    if settings.redis_url:
        return RedisResponseCache(settings.redis_url, settings.cache_ttl_products)
    return LocalResponseCache(settings.cache_ttl_products)
