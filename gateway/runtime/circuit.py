"""A circuit breaker on the customs endpoint: stop hammering it when it is down, probe, resume by itself.

    CLOSED --(failure_threshold transient failures in a row)--> OPEN --(open_s later: one probe)--> HALF_OPEN
    HALF_OPEN --probe succeeds--> CLOSED        HALF_OPEN --probe fails--> OPEN

While the circuit is not closed, filings wait in ``acquire()`` instead of failing: no retries are burned and nothing
goes to the dead-letter topic because customs is down. Listeners hear every state change (the Kafka entrypoint
pauses consumption while the circuit is open).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Literal

log = logging.getLogger(__name__)

State = Literal["closed", "open", "half_open"]


class CircuitBreaker:
    def __init__(
        self,
        failure_threshold: int = 10,
        open_s: float = 5.0,
        *,
        clock: Callable[[], float] = time.monotonic,
        name: str = "customs endpoint",
    ) -> None:
        """``name``: what the circuit guards, in its log lines (the filing endpoint, or a notification feed)."""
        self.name = name
        self.failure_threshold = failure_threshold
        self.open_s = open_s
        self._clock = clock
        self._state: State = "closed"
        self._failures = 0
        self._opened_at = 0.0
        self._probing = False
        self._changed = asyncio.Event()
        self._listeners: list[Callable[[State], None]] = []

    @property
    def state(self) -> State:
        return self._state

    @property
    def is_open(self) -> bool:
        return self._state != "closed"

    def listen(self, listener: Callable[[State], None]) -> None:
        self._listeners.append(listener)

    async def acquire(self) -> float:
        """Wait until a request may go out; returns the seconds spent waiting."""
        started = self._clock()
        while True:
            if self._state == "closed":
                return self._clock() - started
            remaining = self._opened_at + self.open_s - self._clock()
            if self._state == "open" and remaining <= 0:
                self._set("half_open")
            if self._state == "half_open" and not self._probing:
                self._probing = True  # this caller is the probe
                return self._clock() - started
            self._changed.clear()
            with contextlib.suppress(TimeoutError):  # not wait_for: on 3.11 it can swallow a cancellation
                async with asyncio.timeout(max(remaining, 0.05)):
                    await self._changed.wait()

    def success(self) -> None:
        self._failures = 0
        self._probing = False
        if self._state != "closed":
            self._set("closed")

    def failure(self) -> None:
        self._failures += 1
        if self._state == "half_open" or (self._state == "closed" and self._failures >= self.failure_threshold):
            self._probing = False
            self._opened_at = self._clock()
            self._set("open")

    def _set(self, state: State) -> None:
        if state == self._state:
            return
        log.warning("%s circuit %s -> %s", self.name, self._state, state)
        self._state = state
        self._changed.set()
        for listener in self._listeners:
            listener(state)
