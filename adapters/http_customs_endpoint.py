"""The customs endpoint port over HTTP (httpx), with retries (tenacity).

Protocol of the Ecuapass-style endpoint (ours [G]; see README "Architecture"):

    POST {url}/api/v1/documents               body: the e-document XML   -> 200 reply.xsd (accepted or rejected)
    GET  {url}/api/v1/documents/{message_id}  status query                -> 200 reply.xsd, or 404 when unknown

With ``prefer_async`` the endpoint answers the reception first (202, RECEIVED) and the adapter polls the status
query for the decision, as with the real system's two-stage replies.

Only transient failures are retried: connection errors, timeouts, broken replies, 429, 502, 503, 504; exponential
backoff with full jitter, bounded by attempts and total time, and at least the server's ``Retry-After``. When a
failure is *ambiguous* (the request may have been filed: read timeout, broken or undecodable reply, 5xx), the status
query is asked before sending again, so a document is never filed twice. Business rejections are replies, not errors.

The boundary: every exception the HTTP client stack can raise is translated, through the one table
``HTTP_CLIENT_ERRORS`` (``adapters/http_errors.py``), into a ``TransientDeliveryError`` (retried; counted by the
circuit breaker) or a ``PermanentDeliveryError`` (dead-lettered, ``delivery_failed``).

Security: HTTPS with the system's CAs or ``ssl_cafile``, mutual TLS with ``ssl_certfile``/``ssl_keyfile``, a bearer
token from ``token`` or ``token_file``; all loaded once, when the adapter is built (``adapters/http_credentials.py``,
``ConfigurationError``). A TLS failure (certificate not trusted, handshake refused) and HTTP 401/403 are permanent:
retrying cannot fix them. ``probe()`` asks the status query of an unused message id at start-up
(``adapters/http_probe.py``), so a wrong CA, certificate or token stops the gateway before it consumes anything; an
endpoint that is merely down does not.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
)

from adapters.http_credentials import load_credentials
from adapters.http_errors import (
    HTTP_CLIENT_ERROR_TYPES,
    MAX_REPLY_BYTES,
    REFUSED_STATUS,
    RETRYABLE_STATUS,
    ReplyTooLarge,
    answer_excerpt,
    failure_of,
    tls_refusal,
)
from adapters.http_probe import probe_endpoint
from gateway.contract.replies import read_reply
from gateway.errors import (
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    UnsafeXmlError,
)
from gateway.ports import CustomsReply, Filing
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import EcuapassSettings, RetrySettings, endpoint_fields

# Connections per httpx client: the pool is split into clients of at most this many (see __init__).
POOL_SHARD_CONNECTIONS = 8


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
        fields: Mapping[str, str] | None = None,
        credentials_of: str | None = None,
    ) -> None:
        """``fields``: the field path of each credential in ``settings`` (``gateway.settings.endpoint_fields``, by
        default the ``ecuapass`` section's); ``credentials_of``: whose credentials these are (agency labels, for
        start-up errors)."""
        self._retry = retry
        self._settings = settings
        self._fields = dict(fields or endpoint_fields())
        self._owner = credentials_of
        self._sleep = sleep
        self._rng = rng or random.Random()
        # Without a breaker of its own, one that never opens.
        self._breaker = breaker or CircuitBreaker(failure_threshold=2**31)
        self._metrics = metrics
        credentials = load_credentials(settings, self._fields, self._owner)
        self._token = credentials.token
        headers = {"User-Agent": "ecuapass-gateway"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        # httpcore's pool re-examines every connection for every request it assigns (O(n²) with n open
        # connections, encode/httpcore#1035): 200 connections in one pool cost ~20 ms of CPU a request. Several
        # small pools, each request going to the least busy one, cost the same as one pool of a few connections.
        shards = 1 if transport is not None else math.ceil(settings.max_connections / POOL_SHARD_CONNECTIONS)
        sizes = [len(range(n, settings.max_connections, shards)) for n in range(shards)]  # they add up exactly
        self._clients = [
            httpx.AsyncClient(
                base_url=str(settings.url).rstrip("/"),
                headers=headers,
                verify=credentials.verify,
                timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
                limits=httpx.Limits(max_connections=size, max_keepalive_connections=size),
                transport=transport,
            )
            for size in sizes
        ]
        self._busy = [0] * shards

    async def aclose(self) -> None:
        for client in self._clients:
            await client.aclose()

    async def probe(self) -> None:
        """Check, before any event is consumed, that the endpoint can be talked to as configured.

        Raises ``ConfigurationError`` when no filing could ever succeed: the TLS handshake fails (CA, certificate,
        host name), the endpoint refuses the credentials (401, 403), or it closes every connection right after the
        TLS handshake (what a server does, under TLS 1.3, with a client certificate it refuses). An endpoint that
        is down, slow or failing (refused connections, timeouts, 5xx, broken replies) is only logged: filings wait
        for it."""
        await probe_endpoint(self._settings, self._fetch, token=self._token, fields=self._fields, owner=self._owner)

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
            response = await self._fetch(method, path, **kwargs)
            self._observe(method, str(response.status_code), started)
        except HTTP_CLIENT_ERROR_TYPES as exc:
            self._observe(method, "error", started)
            raise self._client_failure(filing, exc) from exc
        except ReplyTooLarge as exc:
            self._observe(method, "error", started)
            raise PermanentDeliveryError(
                f"customs answered HTTP {exc.status_code} with more than {MAX_REPLY_BYTES} bytes",
                message_id=filing.message_id,
                status_code=exc.status_code,
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
        if response.status_code in REFUSED_STATUS:
            raise PermanentDeliveryError(
                f"customs refused the gateway's credentials "
                f"(HTTP {response.status_code}{answer_excerpt(response, self._token)})",
                message_id=filing.message_id,
                status_code=response.status_code,
            )
        return response

    async def _fetch(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The response with its body read, decompressed, up to ``MAX_REPLY_BYTES`` and no further: a broken or
        hostile server cannot fill the gateway's memory (an endless body, a compression bomb)."""
        shard = min(range(len(self._clients)), key=self._busy.__getitem__)
        client = self._clients[shard]
        self._busy[shard] += 1
        try:
            request = client.build_request(method, path, **kwargs)
            response = await client.send(request, stream=True)
            body = bytearray()
            try:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_REPLY_BYTES:
                        raise ReplyTooLarge(response.status_code)
            finally:
                await response.aclose()
        finally:
            self._busy[shard] -= 1
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=request)

    def _client_failure(self, filing: Filing, exc: BaseException) -> DeliveryError:
        """``exc``, from the HTTP client stack, as a delivery error (``HTTP_CLIENT_ERRORS``); the breaker counts the
        transient ones (a refusal is not an outage: the same request fails the same way every time)."""
        failure = failure_of(exc)
        detail = tls_refusal(exc) or exc
        message = f"{failure.meaning}: {type(detail).__name__}: {detail}"
        if not failure.transient:
            return PermanentDeliveryError(message, message_id=filing.message_id)
        self._breaker.failure()
        return TransientDeliveryError(message, message_id=filing.message_id, ambiguous=failure.ambiguous)

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
        try:
            return read_reply(response.content)
        except UnsafeXmlError as exc:
            raise PermanentDeliveryError(
                f"unreadable customs reply (HTTP {response.status_code}): {exc}",
                message_id=filing.message_id,
                status_code=response.status_code,
            ) from exc


_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})  # of the body as sent


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
