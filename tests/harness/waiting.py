"""Waiting in tests for what can be observed, never for a fixed time.

- ``eventually(check)``: until ``check`` passes (its assertions hold); its result.
- ``holds_for(check, seconds)``: ``check`` passes at every look for that long (what must *not* happen over a time is
  observed throughout, not slept through).
- ``eventually_sync(check)``: ``eventually`` for tests without an event loop (a process or a server starting).

``check`` is a function or a coroutine function (a function for ``eventually_sync``). These poll (every
``interval_s``); tests call them instead of sleeping. Only an ``AssertionError`` means "not yet": any other exception
(a process that exited, a server task that died) ends the wait at once.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from tenacity import AsyncRetrying, Retrying, retry_if_exception_type, stop_after_delay, wait_fixed

T = TypeVar("T")


async def _outcome(check: Callable[[], Any]) -> Any:
    result = check()
    return await result if inspect.isawaitable(result) else result


async def eventually(check: Callable[[], Awaitable[T] | T], timeout_s: float = 10.0, interval_s: float = 0.05) -> T:
    """``check()`` until it passes; its result. After ``timeout_s``, its last ``AssertionError``."""
    async for attempt in AsyncRetrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_exception_type(AssertionError),
        reraise=True,
    ):
        with attempt:
            result: T = await _outcome(check)
            return result
    raise AssertionError("unreachable: tenacity returns or re-raises")  # pragma: no cover


def eventually_sync(check: Callable[[], T], timeout_s: float = 10.0, interval_s: float = 0.05) -> T:
    """``check()`` until it passes; its result. After ``timeout_s``, its last ``AssertionError``."""
    for attempt in Retrying(
        stop=stop_after_delay(timeout_s),
        wait=wait_fixed(interval_s),
        retry=retry_if_exception_type(AssertionError),
        reraise=True,
    ):
        with attempt:
            return check()
    raise AssertionError("unreachable: tenacity returns or re-raises")  # pragma: no cover


async def holds_for(check: Callable[[], Awaitable[object] | object], seconds: float, interval_s: float = 0.1) -> None:
    """``check()`` at every ``interval_s`` for ``seconds``: its first ``AssertionError``, if any."""
    loop = asyncio.get_running_loop()
    until = loop.time() + seconds
    while True:
        await _outcome(check)
        if loop.time() >= until:
            return
        await asyncio.sleep(min(interval_s, max(until - loop.time(), 0.0)))  # the polling interval
