"""Serving the mock over real HTTP with uvicorn, on a socket bound to 127.0.0.1 by default.

``serve()`` runs it in the current event loop (``ecuapass-gateway mock``, the dev stack); ``MockServer`` runs it in
a background thread (tests), stopped by ``stop()`` or the ``with`` block.

With ``MockTls`` it serves HTTPS; with a client CA it asks for client certificates, refuses at the handshake a
certificate that CA did not sign, and answers 403 to API requests that came without one (as nginx does with
``ssl_verify_client``: a refusal the client can read, which a failed TLS 1.3 handshake is not). With
``require_token`` (an option of ``create_app``) the API answers 401 without that bearer token.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import threading
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvicorn
from starlette.requests import Request

from ecuapass_mock.app import create_app
from ecuapass_mock.store import FilingStore
from gateway.errors import ConfigurationError


class EmbeddedServer(uvicorn.Server):
    """A uvicorn server that leaves SIGINT/SIGTERM to its process: ``serve()`` would take them over while it runs
    in the main thread; whoever runs the mock (``ecuapass-gateway mock``, the dev stack) stops it itself."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield


@dataclass(frozen=True, slots=True)
class MockTls:
    """The mock's certificate and key (PEM), and the CA its clients' certificates must come from, if any."""

    certfile: Path
    keyfile: Path
    client_ca: Path | None = None

    def check(self) -> None:
        """Load the files once, so a bad one fails now (``ConfigurationError``), not in the serving task."""
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        try:
            context.load_cert_chain(self.certfile, self.keyfile)
            if self.client_ca is not None:
                context.load_verify_locations(self.client_ca)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigurationError(f"cannot load the mock's TLS files: {exc}") from exc


def bind(host: str = "127.0.0.1", port: int = 0) -> socket.socket:
    # With the protocol named, asyncio sets TCP_NODELAY on accepted connections; without it every answer waits
    # for the client's delayed ACK (about 40 ms: uvicorn writes the head and the body separately).
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


def build_server(store: FilingStore, *, tls: MockTls | None = None, **options: Any) -> uvicorn.Server:
    """A uvicorn server for the mock app; ``options`` go to ``create_app`` (faults, seed, decision delay, token,
    lifecycle and feed settings)."""
    app = create_app(store, client_certificates=bool(tls and tls.client_ca), **options)
    files: dict[str, Any] = {}
    if tls is not None:
        tls.check()
        files = {
            "ssl_certfile": str(tls.certfile),
            "ssl_keyfile": str(tls.keyfile),
            "ssl_ca_certs": str(tls.client_ca) if tls.client_ca else None,
            "ssl_cert_reqs": ssl.CERT_OPTIONAL if tls.client_ca else ssl.CERT_NONE,
        }
    # log_config=None: uvicorn's records go to the root logger (JSON, masked), not to a handler of its own
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", log_config=None, **files)
    server = EmbeddedServer(config)
    app.state.abort = lambda request: _reset_connection(server, request)
    app.state.client_certificate = lambda request: _client_certificate(server, request)
    return server


def _connection_transport(server: uvicorn.Server, request: Request) -> asyncio.BaseTransport | None:
    client = (request.client.host, request.client.port) if request.client else None
    for connection in list(server.server_state.connections):
        if getattr(connection, "client", None) == client:
            transport: asyncio.BaseTransport = connection.transport
            return transport
    return None


def _client_certificate(server: uvicorn.Server, request: Request) -> bool:
    """Whether the request's connection presented a client certificate (verified at the handshake)."""
    transport = _connection_transport(server, request)
    return bool(transport and transport.get_extra_info("peercert"))


def _reset_connection(server: uvicorn.Server, request: Request) -> None:
    """Reset the TCP connection a request came on (RST, not FIN): how the mock drops a request or a response."""
    transport = _connection_transport(server, request)
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()  # type: ignore[attr-defined]


async def serve(
    sock: socket.socket, store: FilingStore, stop: asyncio.Event, *, tls: MockTls | None = None, **options: Any
) -> None:
    """Serve until ``stop`` is set."""
    server = build_server(store, tls=tls, **options)
    task = asyncio.create_task(server.serve(sockets=[sock]))
    waiter = asyncio.create_task(stop.wait())
    await asyncio.wait({task, waiter}, return_when=asyncio.FIRST_COMPLETED)
    server.should_exit = True
    await task
    waiter.cancel()


class MockServer:
    """The mock on a free port (or ``port``) in a background thread; HTTPS with ``tls``."""

    def __init__(
        self, state: str | Path = ":memory:", *, port: int = 0, tls: MockTls | None = None, **options: Any
    ) -> None:
        self.store = FilingStore(state)
        self._sock = bind(port=port)
        self.port: int = self._sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        try:
            self._server = build_server(self.store, tls=tls, **options)
        except ConfigurationError:
            self._sock.close()
            self.store.close()
            raise
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
