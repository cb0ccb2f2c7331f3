"""The HTTP adapter's connection pool, split into several small httpx clients, against a real HTTP server: every
allowed connection is used before a request waits, and never more than ``max_connections`` are opened."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from adapters.http_customs_endpoint import POOL_SHARD_CONNECTIONS, HttpCustomsEndpoint
from ecuapass_mock.server import bind
from gateway.contract.replies import write_reply
from gateway.ports import Acceptance, CustomsReply, Filing, Reception
from gateway.runtime.http_server import EmbeddedServer
from gateway.settings import EcuapassSettings, RetrySettings
from tests.harness.waiting import eventually

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


class HoldingCustoms:
    """Accepts every filing, but holds each answer until ``hold`` requests are open at once (or a timeout)."""

    def __init__(self, hold: int) -> None:
        self.hold = hold
        self.open = 0
        self.peak = 0
        self.peers: set[tuple[str, int]] = set()
        self.full = asyncio.Event()

    async def file(self, request: Request) -> Response:
        assert request.client is not None
        self.peers.add((request.client.host, request.client.port))
        self.open += 1
        self.peak = max(self.peak, self.open)
        if self.open >= self.hold:
            self.full.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.full.wait(), timeout=3.0)
        self.open -= 1
        message_id = request.headers["x-message-id"]
        reply = CustomsReply(
            "ACCEPTED",
            message_id,
            "authorization-request",
            Reception("179001162026000000011", NOW, "a" * 64),
            Acceptance("028-2026-AUT51-00000001", NOW),
        )
        return Response(write_reply(reply), media_type="application/xml")


@contextlib.asynccontextmanager
async def serving(customs: HoldingCustoms) -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/api/v1/documents", customs.file, methods=["POST"])])
    sock = bind()
    server = EmbeddedServer(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", log_config=None))
    task = asyncio.create_task(server.serve(sockets=[sock]))

    def started() -> None:  # uvicorn offers a flag, not an event
        if task.done():
            raise RuntimeError(f"the server stopped before it started: {task!r}")
        assert server.started, "the server did not start"

    try:
        await eventually(started, interval_s=0.01)
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        server.should_exit = True
        await task
        sock.close()


@pytest.mark.parametrize("max_connections", [POOL_SHARD_CONNECTIONS * 2 + 3, POOL_SHARD_CONNECTIONS - 3])
async def test_every_allowed_connection_is_used_and_no_more(max_connections: int) -> None:
    customs = HoldingCustoms(hold=max_connections)
    async with serving(customs) as url:
        endpoint = HttpCustomsEndpoint(
            EcuapassSettings(url=url, max_connections=max_connections),  # type: ignore[arg-type]
            RetrySettings(max_attempts=1),
        )
        try:
            filings = [
                Filing("authorization-request", str(uuid.uuid4()), b"<doc/>") for _ in range(max_connections * 2)
            ]
            replies = await asyncio.gather(*(endpoint.file(filing) for filing in filings))
        finally:
            await endpoint.aclose()
    assert [reply.status for reply in replies] == ["ACCEPTED"] * len(filings)
    assert customs.peak == max_connections  # no request waited for a busy client while a connection was allowed
    assert len(customs.peers) == max_connections  # connections are kept alive and the limit holds overall
