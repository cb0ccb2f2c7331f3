"""SIGINT and SIGTERM as an asyncio event, installed before anything starts so no signal is missed."""

from __future__ import annotations

import asyncio
import signal
from types import TracebackType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class StopSignal:
    """``with StopSignal() as stop: ... await stop.wait()``; a signal received at any time inside sets it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()

    def __enter__(self) -> StopSignal:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.add_signal_handler(sig, self._event.set)
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, value: BaseException | None, traceback: TracebackType | None
    ) -> None:
        loop = asyncio.get_running_loop()
        for sig in _SIGNALS:
            loop.remove_signal_handler(sig)

    async def wait(self) -> None:
        await self._event.wait()
