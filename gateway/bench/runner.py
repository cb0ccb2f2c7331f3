"""Scenario 2's system under test: the whole gateway with an endpoint that accepts at once, in its own process.

``python -m gateway.bench.runner`` is ``ecuapass-gateway run`` (same settings from ``GATEWAY_*`` variables, same
logging and tracing set-up, same ``build_gateway``) with ``InstantEndpoint`` in place of the HTTP adapter, so what
it spends per event is the gateway's own cost: poll, decode, validate, map, XSD-validate, publish the outcome,
commit. Prints ``ready`` once its partitions are assigned; stops gracefully on SIGTERM or SIGINT.
"""

from __future__ import annotations

import asyncio
import sys

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.bootstrap import build_gateway
from gateway.ports import CustomsReply, Filing
from gateway.runtime import logs, tracing
from gateway.runtime.signals import StopSignal
from gateway.settings import Settings


class InstantEndpoint(FakeCustomsEndpoint):
    """``FakeCustomsEndpoint`` (accepts every filing at once), forgetting each filing once answered: the fake keeps
    them all, XML included, which would count as the gateway's memory. Every reply carries the same numbers."""

    async def file(self, filing: Filing) -> CustomsReply:
        try:
            return await super().file(filing)
        finally:
            self.filings.clear()


async def serve(settings: Settings) -> None:
    with StopSignal() as stop:
        gateway = build_gateway(settings, endpoint=InstantEndpoint())
        await gateway.start()
        try:
            await gateway.wait_assigned(timeout_s=120.0)
            print("ready", flush=True)
            await stop.wait()
        finally:
            await gateway.stop()


def main() -> int:
    settings = Settings()
    logs.configure(settings)
    tracing.setup(settings.tracing)
    asyncio.run(serve(settings))
    return 0


if __name__ == "__main__":
    sys.exit(main())
