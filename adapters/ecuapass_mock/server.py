"""Serving the mock over real HTTP with uvicorn, on a socket bound to 127.0.0.1 by default.

``serve()`` runs it in the current event loop (``ecuapass-gateway mock``, the dev stack); ``MockServer`` runs it in
a background thread (tests), stopped by ``stop()`` or the ``with`` block.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
from pathlib import Path
from typing import Any

import uvicorn
from starlette.requests import Request

from adapters.ecuapass_mock.app import create_app
from adapters.ecuapass_mock.store import FilingStore
from gateway.http_server import EmbeddedServer


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def build_server(store: FilingStore, **options: Any) -> uvicorn.Server:
    """A uvicorn server for the mock app; ``options`` go to ``create_app`` (faults, seed, decision delay)."""
    app = create_app(store, **options)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    server = EmbeddedServer(config)
    app.state.abort = lambda request: _reset_connection(server, request)
    return server


def _reset_connection(server: uvicorn.Server, request: Request) -> None:
    """Reset the TCP connection a request came on (RST, not FIN): how the mock drops a request or a response."""
    client = (request.client.host, request.client.port) if request.client else None
    for connection in list(server.server_state.connections):
        if getattr(connection, "client", None) == client:
            transport = connection.transport
            sock = transport.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            transport.abort()


async def serve(sock: socket.socket, store: FilingStore, stop: asyncio.Event, **options: Any) -> None:
    """Serve until ``stop`` is set."""
    server = build_server(store, **options)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await task
    waiter.cancel()


class MockServer:
    """The mock on a free port (or ``port``) in a background thread."""

    def __init__(self, state: str | Path = ":memory:", *, port: int = 0, **options: Any) -> None:
        self.store = FilingStore(state)
        self._sock = bind(port=port)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self._server = build_server(self.store, **options)
        self._thread = threading.Thread(target=self._run, name="ecuapass-mock", daemon=True)

    def _run(self) -> None:
        asyncio.run(self._server.serve(sockets=[self._sock]))

    def start(self) -> MockServer:
        self._thread.start()
        while not self._server.started and self._thread.is_alive():
            threading.Event().wait(0.01)
        return self

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._sock.close()
        self.store.close()

    def __enter__(self) -> MockServer:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()
