"""The circuit breaker, and the adapter keeping its retry budget while customs is down."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.errors import PermanentDeliveryError
from gateway.ports import Filing
from gateway.runtime.circuit import CircuitBreaker, State
from gateway.settings import EcuapassSettings, RetrySettings
from tests.unit.test_http_adapter import ACCEPTED, MESSAGE_ID, XML


async def test_opens_after_the_threshold_probes_and_closes() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_s=0.1)
    changes: list[State] = []
    breaker.listen(changes.append)
    for _ in range(3):
        assert await breaker.acquire() == pytest.approx(0, abs=0.01)
        breaker.failure()
    assert breaker.state == "open"
    waited = await breaker.acquire()  # the probe, once open_s has passed
    assert waited >= 0.09 and breaker.state == "half_open"
    other = asyncio.create_task(breaker.acquire())  # everyone else waits for the probe's verdict
    for _ in range(5):  # let it run up to its wait: only the verdict can end that
        await asyncio.sleep(0)
    assert not other.done()
    breaker.success()
    await asyncio.wait_for(other, 1)
    assert breaker.state == "closed"
    assert changes == ["open", "half_open", "closed"]


async def test_a_failed_probe_opens_again() -> None:
    breaker = CircuitBreaker(failure_threshold=1, open_s=0.05)
    breaker.failure()
    await breaker.acquire()
    breaker.failure()
    assert breaker.state == "open"


async def test_successes_reset_the_count() -> None:
    breaker = CircuitBreaker(failure_threshold=3, open_s=1)
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    assert breaker.state == "closed"


async def test_an_outage_burns_no_retries() -> None:
    """The endpoint refuses connections 12 times, then answers: with 4 attempts and a breaker, the filing succeeds."""
    answers = iter([*["down"] * 12, "up"])

    def handler(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return httpx.Response(404)
        if next(answers) == "down":
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(200, content=ACCEPTED, headers=XML)

    async def no_sleep(_: float) -> None:
        await asyncio.sleep(0)

    breaker = CircuitBreaker(failure_threshold=2, open_s=0.01)
    endpoint = HttpCustomsEndpoint(
        EcuapassSettings(url="http://customs.test/"),  # type: ignore[arg-type]
        RetrySettings(max_attempts=4, initial_backoff_s=0.001, max_backoff_s=0.001),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
        breaker=breaker,
    )
    reply = await endpoint.file(Filing("authorization-request", MESSAGE_ID, b"<doc/>"))
    assert reply.status == "ACCEPTED" and breaker.state == "closed"

    without_breaker = HttpCustomsEndpoint(
        EcuapassSettings(url="http://customs.test/"),  # type: ignore[arg-type]
        RetrySettings(max_attempts=4, initial_backoff_s=0.001, max_backoff_s=0.001),
        transport=httpx.MockTransport(lambda r: (_ for _ in ()).throw(httpx.ConnectError("refused", request=r))),
        sleep=no_sleep,
    )
    with pytest.raises(PermanentDeliveryError) as caught:
        await without_breaker.file(Filing("authorization-request", MESSAGE_ID, b"<doc/>"))
    assert caught.value.attempts == 4


async def test_a_waiter_cancelled_as_the_circuit_closes_is_cancelled() -> None:
    """Shutdown cancels filings waiting on an open circuit; one cancelled in the very turn the circuit closes must
    still end (asyncio.wait_for on Python 3.11 swallows that cancellation, and the caller went on as if closed)."""
    breaker = CircuitBreaker(failure_threshold=1, open_s=60)
    breaker.failure()
    waiter = asyncio.create_task(breaker.acquire())
    for _ in range(5):
        await asyncio.sleep(0)
    assert not waiter.done()
    breaker.success()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert waiter.cancelled()
