"""The customs endpoint port over HTTP (httpx), with retries (tenacity).

Protocol of the Ecuapass-style endpoint (ours [G]; see README "Architecture"):

    POST {url}/api/v1/documents               body: the e-document XML   -> 200 reply.xsd (accepted or rejected)
    GET  {url}/api/v1/documents/{message_id}  status query                -> 200 reply.xsd, or 404 when unknown

With ``prefer_async`` the endpoint answers the reception first (202, RECEIVED) and the adapter polls the status
query for the decision, as with the real system's two-stage replies.

Only transient failures are retried: connection errors, timeouts, 429, 502, 503, 504; exponential backoff with full
jitter, bounded by attempts and total time, and at least the server's ``Retry-After``. When a failure is
*ambiguous* (the request may have been filed: read timeout, broken response, 5xx), the status query is asked before
sending again, so a document is never filed twice. Business rejections are replies, not errors.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
)

from gateway.circuit import CircuitBreaker
from gateway.errors import PermanentDeliveryError, TransientDeliveryError, UnsafeXmlError
from gateway.metrics import GatewayMetrics
from gateway.ports import CustomsReply, Filing
from gateway.settings import EcuapassSettings, RetrySettings
from gateway.xml.replies import read_reply

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
MAX_REPLY_BYTES = 5 * 1024 * 1024


class HttpCustomsEndpoint:
    def __init__(
        self,
        settings: EcuapassSettings,
        retry: RetrySettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        breaker: CircuitBreaker | None = None,
        metrics: GatewayMetrics | None = None,
    ) -> None:
        self._retry = retry
        self._settings = settings
        self._sleep = sleep
        self._rng = rng or random.Random()
        # Without a breaker of its own, one that never opens.
        self._breaker = breaker or CircuitBreaker(failure_threshold=2**31)
        self._metrics = metrics
        headers = {"User-Agent": "ecuapass-gateway"}
        if settings.token is not None:
            headers["Authorization"] = f"Bearer {settings.token.get_secret_value()}"
        self._client = httpx.AsyncClient(
            base_url=str(settings.url).rstrip("/"),
            headers=headers,
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            limits=httpx.Limits(
                max_connections=settings.max_connections, max_keepalive_connections=settings.max_connections
            ),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def file(self, filing: Filing) -> CustomsReply:
        try:
            reply = await self._deliver(filing)
            if reply.status == "RECEIVED":
                reply = await self._await_decision(filing)
        except PermanentDeliveryError:
            if self._metrics:
                self._metrics.filings.labels(filing.kind, "failed").inc()
            raise
        if self._metrics:
            self._metrics.filings.labels(filing.kind, reply.status.lower()).inc()
        return reply

    async def _deliver(self, filing: Filing) -> CustomsReply:
        """POST with retries; the first reply obtained, which may be the reception only (RECEIVED).

        Attempts that failed because customs is down (the circuit opened) and time spent waiting for the circuit
        do not count against the retry budget: an outage delays filings, it does not dead-letter them."""
        ambiguous = filing.maybe_filed
        budget = _Budget(self._retry)
        retrying = AsyncRetrying(
            stop=budget.exhausted,
            wait=self._wait,
            retry=retry_if_exception_type(TransientDeliveryError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    budget.waited_s += await self._breaker.acquire()
                    try:
                        if ambiguous:
                            earlier = await self._status(filing)
                            if earlier is not None:
                                return earlier
                        return await self._post(filing)
                    except TransientDeliveryError as exc:
                        ambiguous = ambiguous or exc.ambiguous
                        if self._metrics:
                            cause = f"http_{exc.status_code}" if exc.status_code else type(exc.__cause__).__name__
                            self._metrics.retries.labels(cause).inc()
                        exc.attempts = attempt.retry_state.attempt_number - budget.uncounted
                        if self._breaker.is_open:
                            budget.uncounted += 1
                        raise
        except TransientDeliveryError as exc:
            raise PermanentDeliveryError(
                f"gave up after {exc.attempts} attempts: {exc}",
                message_id=filing.message_id,
                status_code=exc.status_code,
                attempts=exc.attempts,
            ) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    async def _await_decision(self, filing: Filing) -> CustomsReply:
        """Poll the status query until customs decides (two-stage replies)."""
        polls = max(1, math.ceil(self._settings.decision_timeout_s / self._settings.poll_interval_s))
        for _ in range(polls):
            await self._sleep(self._settings.poll_interval_s)
            try:
                reply = await self._status(filing)
            except TransientDeliveryError:
                continue  # the next poll may get through
            if reply is not None and reply.status != "RECEIVED":
                return reply
        raise PermanentDeliveryError(
            f"customs received the document but gave no decision within {self._settings.decision_timeout_s} s",
            message_id=filing.message_id,
        )

    def _wait(self, state: RetryCallState) -> float:
        # Full jitter: uniform(0, min(cap, initial * 2^(n-1))), but never sooner than the server asked.
        ceiling = min(self._retry.max_backoff_s, self._retry.initial_backoff_s * 2 ** (state.attempt_number - 1))
        wait = self._rng.uniform(0, ceiling)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientDeliveryError) and exc.retry_after_s:
            wait = max(wait, exc.retry_after_s)
        return wait

    async def _post(self, filing: Filing) -> CustomsReply:
        headers = {"Content-Type": "application/xml", "X-Message-Id": filing.message_id}
        if self._settings.prefer_async:
            headers["Prefer"] = "respond-async"
        if filing.traceparent:
            headers["traceparent"] = filing.traceparent
        response = await self._send(filing, "POST", "/api/v1/documents", content=filing.body, headers=headers)
        return self._reply(filing, response)

    async def _status(self, filing: Filing) -> CustomsReply | None:
        response = await self._send(filing, "GET", f"/api/v1/documents/{filing.message_id}")
        if response.status_code == 404:
            return None
        return self._reply(filing, response)

    async def _send(self, filing: Filing, method: str, path: str, **kwargs: object) -> httpx.Response:
        started = time.monotonic()
        try:
            response = await self._client.request(method, path, **kwargs)  # type: ignore[arg-type]
            self._observe(method, str(response.status_code), started)
        except httpx.ConnectError as exc:
            self._observe(method, "error", started)
            self._breaker.failure()
            raise TransientDeliveryError(f"cannot connect to customs: {exc}", message_id=filing.message_id) from exc
        except (httpx.TimeoutException, httpx.TransportError) as exc:
            self._observe(method, "error", started)
            self._breaker.failure()
            raise TransientDeliveryError(
                f"{type(exc).__name__} talking to customs: {exc}",
                message_id=filing.message_id,
                ambiguous=not isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout),
            ) from exc
        if response.status_code in RETRYABLE_STATUS:
            if response.status_code != 429:  # throttling is customs working as designed, not failing
                self._breaker.failure()
            raise TransientDeliveryError(
                f"customs answered HTTP {response.status_code}",
                message_id=filing.message_id,
                status_code=response.status_code,
                retry_after_s=_retry_after(response),
                ambiguous=response.status_code != 429,
            )
        self._breaker.success()
        return response

    def _observe(self, method: str, status: str, started: float) -> None:
        if self._metrics:
            self._metrics.endpoint_latency.labels(method, status).observe(time.monotonic() - started)

    def _reply(self, filing: Filing, response: httpx.Response) -> CustomsReply:
        content_type = response.headers.get("content-type", "")
        if "xml" not in content_type:
            raise PermanentDeliveryError(
                f"customs answered HTTP {response.status_code} without an XML reply",
                message_id=filing.message_id,
                status_code=response.status_code,
            )
        if len(response.content) > MAX_REPLY_BYTES:
            raise PermanentDeliveryError("customs reply too large", message_id=filing.message_id)
        try:
            return read_reply(response.content)
        except UnsafeXmlError as exc:
            raise PermanentDeliveryError(
                f"unreadable customs reply (HTTP {response.status_code}): {exc}",
                message_id=filing.message_id,
                status_code=response.status_code,
            ) from exc


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


class _Budget:
    """The retry budget of one filing: attempts and active time, outages excluded."""

    def __init__(self, retry: RetrySettings) -> None:
        self._retry = retry
        self._started = time.monotonic()
        self.waited_s = 0.0
        self.uncounted = 0

    def exhausted(self, state: RetryCallState) -> bool:
        attempts = state.attempt_number - self.uncounted
        active = time.monotonic() - self._started - self.waited_s
        return attempts >= self._retry.max_attempts or active >= self._retry.max_elapsed_s
