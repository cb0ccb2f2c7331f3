"""The ops HTTP server of a running gateway: ``/metrics``, ``/healthz`` (live) and ``/readyz`` (ready).

Live while the process works (its housekeeping loop runs). Ready only when the broker answers, this instance has
partitions assigned, and the circuit to customs is not open; ``/readyz`` says which check failed. The server knows
the gateway only as ``Health`` (``gateway.kafka.health.GatewayHealth`` in the running gateway).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
from typing import Protocol

import uvicorn
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.runtime.http_server import EmbeddedServer
from gateway.runtime.metrics import GatewayMetrics


class Health(Protocol):
    """What the ops server reads of a running gateway."""

    @property
    def metrics(self) -> GatewayMetrics: ...

    def refresh_gauges(self) -> None:
        """Set the gauges that are read, not counted, just before a scrape."""

    def is_alive(self) -> bool: ...

    async def readiness(self) -> dict[str, bool]:
        """Each readiness check by name: ready when all hold."""
        ...


def create_app(gateway: Health) -> Starlette:
    async def metrics(_: Request) -> Response:
        gateway.refresh_gauges()
        return Response(generate_latest(gateway.metrics.registry), media_type=CONTENT_TYPE_LATEST)

    async def healthz(_: Request) -> Response:
        alive = gateway.is_alive()
        return JSONResponse({"status": "ok" if alive else "stalled"}, status_code=200 if alive else 503)

    async def readyz(_: Request) -> Response:
        checks = await gateway.readiness()
        ready = all(checks.values())
        return JSONResponse({"ready": ready, "checks": checks}, status_code=200 if ready else 503)

    return Starlette(
        routes=[
            Route("/metrics", metrics, methods=["GET"]),
            Route("/healthz", healthz, methods=["GET"]),
            Route("/readyz", readyz, methods=["GET"]),
        ]
    )


class OpsServer:
    """uvicorn in the gateway's own event loop, on a socket bound before it starts (port 0: a free one)."""

    def __init__(self, gateway: Health, host: str, port: int) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind((host, port))
        self.url = f"http://{host}:{self._sock.getsockname()[1]}"
        # log_config=None: uvicorn's records go to the root logger (JSON, masked), not to a handler of its own
        config = uvicorn.Config(
            create_app(gateway), log_level="warning", access_log=False, lifespan="off", log_config=None
        )
        self._server = EmbeddedServer(config)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._task = asyncio.create_task(self._server.serve(sockets=[self._sock]), name="ops-http")
        while not self._server.started and not self._task.done():  # noqa: ASYNC110 - uvicorn offers no event
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self._server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._sock.close()
