"""Broken replies from a real HTTP server on 127.0.0.1, through the adapter and the pipeline: each one is a retried
delivery failure the circuit breaker counts, then a ``delivery_failed`` dead letter, never an ``internal_error``.

The server is a few lines of raw HTTP/1.1 (asyncio), so that it can send what no well-behaved server sends: a body
that is not the gzip its ``content-encoding`` says, a chunked body with an illegal chunk header, a status line
that is not one, a body cut short of its ``content-length``. Status queries are answered 404 (not filed), as the
mock does for a document it never received."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.outcomes import DeadLetter
from gateway.pipeline import InboundRecord, Pipeline
from gateway.runtime.circuit import CircuitBreaker
from gateway.settings import EcuapassSettings, RetrySettings
from gateway.tools.examples import Example
from tests.harness.waiting import eventually

ATTEMPTS = 3
NOT_FOUND = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
BROKEN_REPLIES = {
    "bad gzip": b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Encoding: gzip\r\n"
    b"Content-Length: 23\r\n\r\n<reply>not gzip</reply>",
    "bad deflate": b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Encoding: deflate\r\n"
    b"Content-Length: 8\r\n\r\nnot zlib",
    "illegal chunk header": b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"zz\r\n<x/>\r\n0\r\n\r\n",
    "not a status line": b"HELLO THERE\r\n\r\n",
    "body cut short": b"HTTP/1.1 200 OK\r\nContent-Type: application/xml\r\nContent-Length: 100\r\n\r\n<x/>",
}


class BrokenServer:
    """Answers every POST with ``reply`` and closes; every GET (status query) with ``status_reply``."""

    def __init__(self, reply: bytes, status_reply: bytes = NOT_FOUND) -> None:
        self.reply = reply
        self.status_reply = status_reply
        self.requests: list[str] = []
        self.url = ""

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            method = head.split(b" ", 1)[0].decode()
            self.requests.append(method)
            fields = dict(line.split(b":", 1) for line in head.split(b"\r\n")[1:] if b":" in line)
            length = int({k.strip().lower(): v for k, v in fields.items()}.get(b"content-length", b"0"))
            await reader.readexactly(length)
            writer.write(self.status_reply if method == "GET" else self.reply)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    @contextlib.asynccontextmanager
    async def running(self) -> AsyncIterator[BrokenServer]:
        server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}/"
        try:
            yield self
        finally:
            server.close()
            await server.wait_closed()


class CountingBreaker(CircuitBreaker):
    def __init__(self) -> None:
        super().__init__(failure_threshold=2**31)
        self.failures = 0

    def failure(self) -> None:
        self.failures += 1
        super().failure()


def _endpoint(url: str, breaker: CircuitBreaker) -> HttpCustomsEndpoint:
    return HttpCustomsEndpoint(
        EcuapassSettings(url=url, read_timeout_s=5.0),
        RetrySettings(max_attempts=ATTEMPTS, initial_backoff_s=0.01, max_backoff_s=0.02),
        breaker=breaker,
    )


@pytest.mark.parametrize("broken", list(BROKEN_REPLIES))
async def test_a_broken_reply_is_retried_counted_by_the_breaker_then_dead_lettered_as_delivery_failed(
    broken: str, example_by_name: dict[str, Example]
) -> None:
    example = example_by_name["authorization-request/accepted/minimal"]
    breaker = CountingBreaker()
    async with BrokenServer(BROKEN_REPLIES[broken]).running() as server:
        endpoint = _endpoint(server.url, breaker)
        try:
            outcome = await Pipeline(endpoint, source="urn:test").process(InboundRecord(example.payload(), b"CASE-1"))
        finally:
            await endpoint.aclose()
    assert isinstance(outcome, DeadLetter), outcome
    assert (outcome.reason, outcome.error_class) == ("delivery_failed", "PermanentDeliveryError")
    assert outcome.attempts == ATTEMPTS and f"gave up after {ATTEMPTS} attempts" in outcome.detail
    assert breaker.failures == ATTEMPTS
    # ambiguous (customs may have filed the document): the status is asked before each new attempt
    assert server.requests == ["POST", "GET", "POST", "GET", "POST"]


async def test_bad_gzip_replies_open_the_circuit(example_by_name: dict[str, Example]) -> None:
    """The breaker hears of the failures: with customs answering only bad gzip (status queries too: a 404 is an
    answer, which closes the circuit again), it opens."""
    example = example_by_name["authorization-request/accepted/minimal"]
    breaker = CircuitBreaker(failure_threshold=2, open_s=60)
    opened: list[str] = []
    breaker.listen(opened.append)
    async with BrokenServer(BROKEN_REPLIES["bad gzip"], BROKEN_REPLIES["bad gzip"]).running() as server:
        endpoint = _endpoint(server.url, breaker)
        filing = Pipeline(endpoint, source="urn:test").process(InboundRecord(example.payload(), b"CASE-1"))
        task = asyncio.ensure_future(filing)

        def circuit_opened() -> None:
            assert not task.done(), f"the filing ended before the circuit opened: {task!r}"
            assert opened, "the circuit did not open"

        try:
            await eventually(circuit_opened, interval_s=0.01)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await endpoint.aclose()
    assert opened == ["open"] and breaker.state == "open"
