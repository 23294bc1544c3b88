"""What every request reads and almost nothing changes: API keys, program settings and the rule
set in force, kept in the process for a few seconds.

Reading them costs three queries per request, more than the earn path's own writes. A change
made through this process (a PATCH of the program, a new rule set, a revoked key) drops the
entry at once; other worker processes and the CLI see it within `PUNCHCARD_CACHE_TTL_SECONDS`.
One `Caches` belongs to one `Database`, so two databases in one process never share entries.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from cachetools import LRUCache, TTLCache
from starlette.concurrency import run_in_threadpool

T = TypeVar("T")
_MISSING = object()
Slot = tuple[asyncio.AbstractEventLoop, Hashable, int]


class Caches:
    def __init__(self, ttl_seconds: float = 5.0) -> None:
        self._lock = threading.Lock()
        self._ttl = ttl_seconds
        ttl = max(ttl_seconds, 0.001)
        self._entries: TTLCache[Hashable, Any] = TTLCache(maxsize=50_000, ttl=ttl)
        # Member ids never change, so they need no expiry: (program, external id) -> id.
        self._members: LRUCache[tuple[int, str], int] = LRUCache(maxsize=100_000)
        # Bumped by every `forget`: a load begun before a change is neither kept nor shared
        # with a request that comes after it.
        self._generation = 0
        # loads under way for coroutines, by event loop, call and generation (see `_shared`)
        self._flights: dict[Slot, asyncio.Future[Any]] = {}

    def member_id(self, program_id: int, external_id: str) -> int | None:
        with self._lock:
            return self._members.get((program_id, external_id))

    def remember_member(self, program_id: int, external_id: str, member_id: int) -> None:
        with self._lock:
            self._members[(program_id, external_id)] = member_id

    def get(self, key: Hashable, load: Callable[[], T]) -> T:
        """The cached value, or `load()` stored for next time, unless something was forgotten
        meanwhile (the load may have read what the change replaced). Two threads missing
        together both load: harmless, and it keeps the lock out of the database round trip."""
        if self._ttl <= 0:
            return load()
        with self._lock:
            found = self._entries.get(key, _MISSING)
            generation = self._generation
        if found is not _MISSING:
            return found  # type: ignore[no-any-return]
        value = load()
        with self._lock:
            if self._generation == generation:
                self._entries[key] = value
        return value

    async def get_async(self, key: Hashable, load: Callable[[], T]) -> T:
        """`get` for coroutines: the cached value at once, or one load in the thread pool
        shared by every request of this event loop that misses the entry meanwhile."""
        found, value = self.peek(key)
        if found:
            return value  # type: ignore[no-any-return]
        if self._ttl <= 0:  # nothing cached: each request reads for itself
            return await run_in_threadpool(load)
        return await self._shared(("entry", key), lambda: self.get(key, load))

    async def once(self, key: Hashable, call: Callable[[], T]) -> T:
        """`call()` in the thread pool, run once for all the requests of this event loop that
        ask for `key` while it runs; nothing is kept afterwards. For a call made of cached
        loads (the express lane's settings): when they expire, a worker's requests all miss
        them at the same moment."""
        if self._ttl <= 0:
            return await run_in_threadpool(call)
        return await self._shared(("call", key), call)

    async def _shared(self, name: Hashable, call: Callable[[], T]) -> T:
        """When entries expire, every request a worker has in flight misses them together:
        each used to reload them, a herd of identical queries every TTL competing with the
        requests themselves. A request that comes after a `forget` starts a load of its own;
        a request cancelled meanwhile leaves the load running for the others."""
        loop = asyncio.get_running_loop()
        slot = (loop, name, self._generation)
        flight = self._flights.get(slot)
        if flight is None:
            flight = loop.create_task(run_in_threadpool(call))
            self._flights[slot] = flight
            flight.add_done_callback(lambda done: self._landed(slot, done))
        return await asyncio.shield(flight)

    def _landed(self, slot: Slot, done: Any) -> None:
        if self._flights.get(slot) is done:
            del self._flights[slot]
        if not done.cancelled():
            done.exception()  # retrieved: its waiters, if any are left, raise it themselves

    def peek(self, key: Hashable) -> tuple[bool, Any]:
        """(found, value) without loading: for async callers, which load in a thread."""
        if self._ttl <= 0:
            return False, None
        with self._lock:
            found = self._entries.get(key, _MISSING)
        return (False, None) if found is _MISSING else (True, found)

    def forget(self, key: Hashable) -> None:
        with self._lock:
            self._entries.pop(key, None)
            self._generation += 1

    def forget_kind(self, kind: str) -> None:
        """Drop every entry whose key is a tuple starting with `kind` (all API keys, say)."""
        with self._lock:
            for key in [k for k in self._entries if isinstance(k, tuple) and k[:1] == (kind,)]:
                self._entries.pop(key, None)
            self._generation += 1
