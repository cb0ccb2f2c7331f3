"""The mock customs service for the shared test bodies: the same app in process (in memory) or over HTTP (Tansu).

Either way the gateway files through its real HTTP adapter, and the body reads the mock's admin routes
(``/admin/filings``, ``/admin/log``, a document's status) through ``get``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import httpx

from ecuapass_mock.app import create_app
from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from ecuapass_mock.store import FilingStore


class Customs:
    """Where the mock answers: ``url`` for the settings, ``transport`` when it answers in process."""

    def __init__(self, url: str, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.url = url
        self.transport = transport

    async def get(self, path: str) -> Any:
        """A route of the mock: its JSON."""
        return (await self.request(path)).json()

    async def request(self, path: str) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, transport=self.transport) as client:
            return await client.get(path)


@contextlib.asynccontextmanager
async def in_process(faults: FaultSettings | None = None) -> AsyncIterator[Customs]:
    """The mock's ASGI app, reached without a socket."""
    store = FilingStore()
    app = create_app(store, faults=FaultInjector(faults or FaultSettings()))
    try:
        yield Customs("http://ecuapass-mock.test", httpx.ASGITransport(app=app))
    finally:
        store.close()


@contextlib.asynccontextmanager
async def over_http(faults: FaultSettings | None = None) -> AsyncIterator[Customs]:
    """The mock served by uvicorn on 127.0.0.1, in a thread."""
    with MockServer(faults=FaultInjector(faults or FaultSettings())) as server:
        yield Customs(server.url)
