"""The health of a running gateway, as the ops server reports it (``gateway.runtime.ops.Health``).

- live (``/healthz``) while its housekeeping loop runs and has ticked recently;
- ready (``/readyz``) when the broker answers, partitions are assigned and moving (none stalled or held), the
  circuit to customs is not open, and it still takes events (not stopping);
- the gauges read at each scrape (events in flight, paused) are set just before it.
"""

from __future__ import annotations

import asyncio
import time

from gateway.kafka.connection import KafkaConnection
from gateway.kafka.consumption import Consumption
from gateway.kafka.handler import EventHandler
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.metrics import GatewayMetrics


class GatewayHealth:
    def __init__(
        self,
        metrics: GatewayMetrics,
        connection: KafkaConnection,
        consumption: Consumption,
        handler: EventHandler,
        breaker: CircuitBreaker | None,
        *,
        stale_after_s: float,
    ) -> None:
        self.metrics = metrics
        self._connection = connection
        self._consumption = consumption
        self._handler = handler
        self._breaker = breaker
        self._stale_after_s = stale_after_s
        self._last_beat = time.monotonic()
        self._housekeeping: asyncio.Task[None] | None = None

    def watch(self, housekeeping: asyncio.Task[None]) -> None:
        """The housekeeping loop whose ticks say the process works."""
        self._housekeeping = housekeeping

    def beat(self) -> None:
        self._last_beat = time.monotonic()

    def refresh_gauges(self) -> None:
        self.metrics.in_flight.set(self._handler.scheduler.in_flight)
        self.metrics.paused.set(1 if self._consumption.paused_for - {"shutdown"} else 0)

    def is_alive(self) -> bool:
        """The process works: its housekeeping loop ran recently."""
        running = self._housekeeping is not None and not self._housekeeping.done()
        return running and time.monotonic() - self._last_beat < self._stale_after_s

    async def readiness(self) -> dict[str, bool]:
        """Ready to take work: the broker answers, partitions are assigned and moving, the circuit to customs is
        not open."""
        return {
            "broker": await self._connection.ping(),
            "partitions_assigned": bool(self._consumption.assignment()),
            "partitions_moving": not self._consumption.stalls.stalled(),
            "customs_circuit_closed": self._breaker is None or self._breaker.state != "open",
            "accepting": self._handler.accepting,
        }
