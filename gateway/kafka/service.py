"""The running gateway: the lifecycle of the Kafka entrypoint, whose parts the composition root wires.

    start: customs probed -> Kafka connected, producer started -> the subscriber consumes -> housekeeping, ops
           -> the intake of customs notifications, when enabled (``gateway.intake``: its own clients)
    every commit interval (housekeeping): commit what finished, measure lag and stalls
    stop:  the intake stops (pages in hand finished, cursors saved) -> take nothing more, let in-flight events
           finish (``drain_timeout_s``), commit what finished, disconnect

Delivery is at-least-once and the gateway owns its commits. The parts, each its own module of ``gateway.kafka``:
``wiring`` (the FastStream broker and subscriber), ``connection`` (reaching Kafka), ``handler`` (running the events
of each poll), ``records`` (outcomes as records), ``publisher`` (the confirmed publish), ``consumption`` (pauses,
commits, rebalances, lag) and ``health`` (what ``/healthz`` and ``/readyz`` say). Events still in flight when the
drain times out are delivered again to whoever comes next.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from typing import TYPE_CHECKING, Any

from faststream.kafka import KafkaBroker

from gateway.kafka.connection import KafkaConnection
from gateway.kafka.consumption import Consumption
from gateway.kafka.flow import CaseScheduler, OffsetTracker, Partition
from gateway.kafka.handler import EventHandler
from gateway.kafka.health import GatewayHealth
from gateway.kafka.publisher import OutcomePublisher
from gateway.kafka.wiring import Wiring
from gateway.ports import CustomsEndpoint
from gateway.runtime.circuit import CircuitBreaker, State
from gateway.runtime.metrics import GatewayMetrics
from gateway.runtime.ops import OpsServer
from gateway.settings import Settings

if TYPE_CHECKING:
    from gateway.intake.service import Intake

log = logging.getLogger(__name__)


class Gateway:
    def __init__(
        self,
        settings: Settings,
        *,
        endpoint: CustomsEndpoint,
        wiring: Wiring,
        connection: KafkaConnection,
        tracker: OffsetTracker,
        consumption: Consumption,
        publisher: OutcomePublisher,
        handler: EventHandler,
        health: GatewayHealth,
        breaker: CircuitBreaker | None = None,
        intake: Intake | None = None,
    ) -> None:
        self.settings = settings
        self.intake = intake
        self._endpoint = endpoint
        self._wiring = wiring
        self._connection = connection
        self.tracker = tracker
        self.consumption = consumption
        self._publisher = publisher
        self.handler = handler
        self.health = health
        self.breaker = breaker
        self.ops: OpsServer | None = None
        self._housekeeping: asyncio.Task[None] | None = None
        if breaker is not None:
            breaker.listen(self._on_circuit)
            self.metrics.set_circuit(breaker.state)

    @property
    def broker(self) -> KafkaBroker:
        return self._wiring.broker

    @property
    def subscriber(self) -> Any:
        return self._wiring.subscriber

    @property
    def metrics(self) -> GatewayMetrics:
        return self.health.metrics

    @property
    def scheduler(self) -> CaseScheduler:
        return self.handler.scheduler

    # -- lifecycle ------------------------------------------------------------------------------------------

    async def start(self) -> None:
        await self._endpoint.probe()
        self._publisher.attach(await self._connection.connect())  # before the first record can arrive
        try:
            await self._connection.consume()
        except BaseException:
            await self._connection.close()
            raise
        self._housekeeping = asyncio.create_task(self._housekeep(), name="gateway-housekeeping")
        self.health.watch(self._housekeeping)
        if self.settings.ops.enabled:
            self.ops = OpsServer(self.health, self.settings.ops.host, self.settings.ops.port)
            await self.ops.start()
            log.info("metrics and health on %s (/metrics, /healthz, /readyz)", self.ops.url)
        if self.intake is not None:
            try:
                await self.intake.start()
            except BaseException:
                await self.stop()  # what started above, the filing's consumer first of all
                raise
        # What start-up loaded (modules, compiled XSDs, clients) lives as long as the process: out of the cyclic
        # collector's sight, a full collection walks only what events allocate (24 ms -> none in 6,000 events).
        gc.freeze()
        if not self.settings.agencies:
            log.warning(
                "no agencies configured (GATEWAY_AGENCIES): e-documents are filed unsigned, with the "
                "GATEWAY_ECUAPASS__* credentials, whoever the sender"
            )
        else:
            log.info("signing e-documents for %d agencies", len(self.settings.agencies))
        log.info(
            "gateway consuming %s as group %s from %s",
            self.settings.topics.input,
            self.settings.kafka.group_id,
            self.settings.kafka.bootstrap_servers,
        )

    async def stop(self) -> None:
        """Stop the intake, stop taking events, let in-flight ones finish (bounded), commit what finished,
        disconnect."""
        if self.intake is not None:
            await self.intake.stop()
        self.handler.accepting = False
        self.consumption.pause("shutdown")
        timeout = self.settings.processing.drain_timeout_s
        if not await self.scheduler.drain(timeout):
            log.warning(
                "%d events still in flight after %.0f s: they will be delivered again",
                self.scheduler.in_flight,
                timeout,
            )
            await self.scheduler.cancel()
        if self._housekeeping is not None:
            self._housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._housekeeping
        try:  # aiokafka waits for a coordinator without end: with the broker gone, this would never return
            await asyncio.wait_for(self.commit(), self.settings.kafka.request_timeout_ms / 1000)
        except TimeoutError:
            log.warning("the last commit timed out: events finished since the one before will be delivered again")
        await self._connection.close()
        await self._endpoint.aclose()
        if self.ops is not None:
            await self.ops.stop()

    def assigned_partitions(self) -> set[Partition]:
        return self.consumption.assignment()

    async def wait_assigned(self, timeout_s: float = 30.0) -> None:
        """Until the consumer group has given this instance its partitions (start-up, tests)."""
        deadline = time.monotonic() + timeout_s
        while not self.assigned_partitions():
            if time.monotonic() > deadline:
                raise TimeoutError(f"no partition of {self.settings.topics.input} assigned in {timeout_s} s")
            await asyncio.sleep(0.05)

    async def commit(self, partitions: set[Partition] | None = None) -> None:
        """Commit every partition whose finished work moved (``partitions``: only those)."""
        await self.consumption.commit(partitions)

    async def _housekeep(self) -> None:
        interval = self.settings.processing.commit_interval_ms / 1000
        while True:
            await asyncio.sleep(interval)
            self.health.beat()
            await self.consumption.commit()
            await self.consumption.measure()

    def _on_circuit(self, state: State) -> None:
        self.metrics.set_circuit(state)
        if state == "open":
            self.consumption.pause("circuit")
        elif state == "closed":
            self.consumption.resume("circuit")

    # -- health (``gateway.runtime.ops.Health``) ---------------------------------------------------------------------

    def refresh_gauges(self) -> None:
        self.health.refresh_gauges()

    def is_alive(self) -> bool:
        return self.health.is_alive()

    async def readiness(self) -> dict[str, bool]:
        return await self.health.readiness()
