"""The process caches' loads for coroutines: one load in the thread pool for all the requests
that miss an entry together, never one each (a herd of identical queries every TTL)."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

import pytest

from punchcard.caches import Caches

T = TypeVar("T")
WAIT = 10.0  # seconds a test waits for a thread before it fails


def _run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    """asyncio.run in a thread of its own: a loop left running in the test's thread by
    another test (a browser test) must not matter."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, main()).result(timeout=WAIT * 3)


class Gate:
    """A load that counts its calls and waits until the test opens the gate."""

    def __init__(self, value: object = "loaded") -> None:
        self.calls = 0
        self.value = value
        self.opened = threading.Event()
        self.entered = threading.Event()

    def __call__(self) -> object:
        self.calls += 1
        self.entered.set()
        assert self.opened.wait(WAIT)
        if isinstance(self.value, Exception):
            raise self.value
        return self.value


async def _until(event: threading.Event) -> None:
    assert await asyncio.to_thread(event.wait, WAIT)


def test_concurrent_misses_share_one_load() -> None:
    caches, gate = Caches(), Gate()

    async def main() -> list[object]:
        asks = [asyncio.ensure_future(caches.get_async("k", gate)) for _ in range(20)]
        await _until(gate.entered)
        await asyncio.sleep(0.05)  # every request is waiting on the one load
        gate.opened.set()
        return await asyncio.gather(*asks)

    assert _run(main) == ["loaded"] * 20
    assert gate.calls == 1
    assert caches.peek("k") == (True, "loaded")


def test_a_cached_entry_is_answered_without_a_load() -> None:
    caches = Caches()
    caches.get("k", lambda: "stored")
    gate = Gate()
    gate.opened.set()
    assert _run(lambda: caches.get_async("k", gate)) == "stored"
    assert gate.calls == 0


def test_keys_load_apart_and_nothing_is_kept_by_once() -> None:
    caches = Caches()
    first, second = Gate("one"), Gate("two")
    first.opened.set()
    second.opened.set()

    async def main() -> tuple[list[object], object]:
        together = list(await asyncio.gather(caches.once("a", first), caches.once("b", second)))
        later = await caches.once("a", first)
        return together, later

    assert _run(main) == (["one", "two"], "one")
    assert (first.calls, second.calls) == (2, 1)
    assert caches.peek("a") == (False, None)  # `once` shares a call, it stores nothing


def test_a_failed_load_reaches_every_waiter_and_the_next_ask_loads_again() -> None:
    caches, gate = Caches(), Gate(RuntimeError("database down"))

    async def main() -> tuple[list[BaseException | object], object]:
        asks = [asyncio.ensure_future(caches.get_async("k", gate)) for _ in range(5)]
        await _until(gate.entered)
        await asyncio.sleep(0.05)
        gate.opened.set()
        outcomes = await asyncio.gather(*asks, return_exceptions=True)
        gate.value = "back"
        return outcomes, await caches.get_async("k", gate)  # the same loop: a new load

    outcomes, later = _run(main)
    assert [str(o) for o in outcomes] == ["database down"] * 5
    assert later == "back"
    assert gate.calls == 2


def test_a_request_after_a_forget_never_gets_what_was_loaded_before_it() -> None:
    """A key revoked (or a program changed) through this process applies at once: the load
    under way when it was forgotten is neither shared with later requests nor kept."""
    caches, before, after = Caches(), Gate("old"), Gate("new")
    after.opened.set()

    async def main() -> tuple[object, object]:
        early = asyncio.ensure_future(caches.get_async("k", before))
        await _until(before.entered)
        caches.forget("k")
        late = await caches.get_async("k", after)
        before.opened.set()
        return await early, late

    assert _run(main) == ("old", "new")
    assert (before.calls, after.calls) == (1, 1)
    assert caches.peek("k") == (True, "new")


def test_with_the_cache_off_every_request_reads_for_itself() -> None:
    caches, gate = Caches(ttl_seconds=0), Gate()

    async def main() -> list[object]:
        asks = [
            asyncio.ensure_future(caches.get_async("k", gate)),
            asyncio.ensure_future(caches.once("c", gate)),
            asyncio.ensure_future(caches.once("c", gate)),
        ]
        deadline = time.monotonic() + WAIT
        while gate.calls < 3 and time.monotonic() < deadline:  # shared loads never get there
            await asyncio.sleep(0.01)
        gate.opened.set()
        return await asyncio.gather(*asks)

    assert _run(main) == ["loaded"] * 3
    assert gate.calls == 3


def test_a_cancelled_request_leaves_the_load_to_the_others() -> None:
    caches, gate = Caches(), Gate()

    async def main() -> object:
        first = asyncio.ensure_future(caches.get_async("k", gate))
        second = asyncio.ensure_future(caches.get_async("k", gate))
        await _until(gate.entered)
        await asyncio.sleep(0.05)
        first.cancel()
        await asyncio.sleep(0)
        gate.opened.set()
        with pytest.raises(asyncio.CancelledError):
            await first
        return await second

    assert _run(main) == "loaded"
    assert gate.calls == 1
