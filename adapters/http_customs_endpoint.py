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

The boundary: every exception the HTTP client stack can raise (httpx's whole tree, and what escapes it from
httpcore, h11 and ssl) is translated here, through the one table ``HTTP_CLIENT_ERRORS``, into a
``TransientDeliveryError`` (retried; counted by the circuit breaker) or a ``PermanentDeliveryError`` (dead-lettered,
``delivery_failed``). tests/unit/test_http_boundary.py walks the libraries' exception classes and fails on one the
table lacks. A reply whose body cannot be decoded (``content-encoding: gzip`` over bytes that are not gzip) is a
broken reply: transient and ambiguous, like a connection cut in the middle of a reply.

Security: HTTPS with the system's CAs or ``ssl_cafile``, mutual TLS with ``ssl_certfile``/``ssl_keyfile``, a bearer
token from ``token`` or ``token_file``; all loaded once, when the adapter is built (``ConfigurationError``). A TLS
failure (certificate not trusted, handshake refused) and HTTP 401/403 are permanent: retrying cannot fix them.
``probe()`` asks the status query of an unused message id at start-up, so a wrong CA, certificate or token stops
the gateway before it consumes anything; an endpoint that is merely down does not. Start-up errors name the
settings by field path (``ecuapass.token_file``, or ``agencies.<RUC>.token_file`` for an agency's own credentials:
``fields``) and the agencies whose credentials these are (``credentials_of``); the entry point renders the paths
as environment variables.
"""

from __future__ import annotations

import asyncio
import logging
import math
import random
import re
import ssl
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any

import h11
import httpcore
import httpx
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
)

from gateway.contract.replies import read_reply
from gateway.errors import (
    ConfigurationError,
    DeliveryError,
    PermanentDeliveryError,
    TransientDeliveryError,
    UnsafeXmlError,
)
from gateway.ports import CustomsReply, Filing
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.metrics import GatewayMetrics
from gateway.runtime.tls import client_context
from gateway.settings import EcuapassSettings, RetrySettings, endpoint_fields

log = logging.getLogger(__name__)

RETRYABLE_STATUS = frozenset({429, 502, 503, 504})
REFUSED_STATUS = frozenset({401, 403})
MAX_REPLY_BYTES = 5 * 1024 * 1024
# The start-up probe asks the status of this message id, which no filing ever has (ids are UUIDv5).
PROBE_MESSAGE_ID = "00000000-0000-0000-0000-000000000000"
PROBE_ATTEMPTS = 3
# Connections per httpx client: the pool is split into clients of at most this many (see __init__).
POOL_SHARD_CONNECTIONS = 8


@dataclass(frozen=True, slots=True)
class Failure:
    """What an exception of the HTTP client stack means for a filing."""

    transient: bool  # worth retrying: TransientDeliveryError (and the breaker hears of it), else permanent
    ambiguous: bool  # the request may have reached customs (and been filed): ask the status before sending again
    meaning: str  # for the message


_UNSENT = Failure(transient=True, ambiguous=False, meaning="cannot connect to customs")
_TIMED_OUT_UNSENT = Failure(transient=True, ambiguous=False, meaning="no connection to customs in time")
_TIMED_OUT = Failure(transient=True, ambiguous=True, meaning="customs did not answer in time")
_CUT = Failure(transient=True, ambiguous=True, meaning="the connection to customs broke")
_BROKEN_REPLY = Failure(transient=True, ambiguous=True, meaning="customs sent a broken reply")
_UNDECODABLE = Failure(transient=True, ambiguous=True, meaning="customs sent a reply that cannot be decoded")
_TLS_REFUSED = Failure(transient=False, ambiguous=False, meaning="TLS with customs failed")
_UNSENDABLE = Failure(transient=False, ambiguous=False, meaning="the request cannot be sent to customs")
_CLIENT_MISUSE = Failure(transient=False, ambiguous=False, meaning="the HTTP client was misused")

# Every exception the HTTP client stack can raise while the adapter talks to customs, by class. httpx's whole tree
# (httpx/_exceptions.py); what gets through it: ssl errors read after the handshake (httpcore maps ssl.SSLError only
# while connecting) and OSError from below (closing a stream is not mapped); httpcore's and h11's own classes, which
# httpx and httpcore translate today, so that the table still holds if they stop. Looked up along the exception's
# MRO: a class a future version adds is translated as its parent, and the boundary test fails until it is listed.
HTTP_CLIENT_ERRORS: dict[type[BaseException], Failure] = {
    httpx.HTTPError: _CUT,
    httpx.RequestError: _CUT,
    httpx.TransportError: _CUT,
    httpx.TimeoutException: _TIMED_OUT,
    httpx.ConnectTimeout: _TIMED_OUT_UNSENT,
    httpx.ReadTimeout: _TIMED_OUT,
    httpx.WriteTimeout: _TIMED_OUT,
    httpx.PoolTimeout: _TIMED_OUT_UNSENT,
    httpx.NetworkError: _CUT,
    httpx.ConnectError: _UNSENT,
    httpx.ReadError: _CUT,
    httpx.WriteError: _CUT,
    httpx.CloseError: _CUT,
    httpx.ProtocolError: _BROKEN_REPLY,
    httpx.LocalProtocolError: _UNSENDABLE,  # h11 refuses the request as built: the same every time
    httpx.RemoteProtocolError: _BROKEN_REPLY,
    httpx.ProxyError: _UNSENT,  # the proxy refused the tunnel: customs never saw the request
    httpx.UnsupportedProtocol: _UNSENDABLE,
    httpx.DecodingError: _UNDECODABLE,  # content-encoding: gzip over bytes that are not gzip
    httpx.TooManyRedirects: _UNSENDABLE,  # redirects are not followed: cannot happen
    httpx.HTTPStatusError: _UNSENDABLE,  # raise_for_status() is not used: cannot happen
    httpx.InvalidURL: _UNSENDABLE,
    httpx.CookieConflict: _CLIENT_MISUSE,
    httpx.StreamError: _CLIENT_MISUSE,
    httpx.StreamConsumed: _CLIENT_MISUSE,
    httpx.StreamClosed: _CLIENT_MISUSE,
    httpx.ResponseNotRead: _CLIENT_MISUSE,
    httpx.RequestNotRead: _CLIENT_MISUSE,
    httpcore.TimeoutException: _TIMED_OUT,
    httpcore.ConnectTimeout: _TIMED_OUT_UNSENT,
    httpcore.ReadTimeout: _TIMED_OUT,
    httpcore.WriteTimeout: _TIMED_OUT,
    httpcore.PoolTimeout: _TIMED_OUT_UNSENT,
    httpcore.NetworkError: _CUT,
    httpcore.ConnectError: _UNSENT,
    httpcore.ReadError: _CUT,
    httpcore.WriteError: _CUT,
    httpcore.ProtocolError: _BROKEN_REPLY,
    httpcore.LocalProtocolError: _UNSENDABLE,
    httpcore.RemoteProtocolError: _BROKEN_REPLY,
    httpcore.ProxyError: _UNSENT,
    httpcore.UnsupportedProtocol: _UNSENDABLE,
    httpcore.ConnectionNotAvailable: _UNSENT,  # the pool's own, retried inside it
    h11.ProtocolError: _BROKEN_REPLY,
    h11.LocalProtocolError: _UNSENDABLE,
    h11.RemoteProtocolError: _BROKEN_REPLY,
    OSError: _CUT,
    ssl.SSLError: _TLS_REFUSED,  # an alert from the peer: the handshake or the certificate was refused
    ssl.SSLCertVerificationError: _TLS_REFUSED,
    ssl.SSLEOFError: _CUT,  # connections cut short are not refusals
    ssl.SSLZeroReturnError: _CUT,
    ssl.SSLSyscallError: _CUT,
    ssl.SSLWantReadError: _CUT,
    ssl.SSLWantWriteError: _CUT,
}
_HTTP_CLIENT_ERRORS = tuple(HTTP_CLIENT_ERRORS)


def failure_of(exc: BaseException) -> Failure:
    """The table's entry for ``exc`` (its class's, or the nearest ancestor's); a TLS refusal anywhere in its chain
    (``httpx.ConnectError`` from ``ssl.SSLCertVerificationError``) makes it a refusal."""
    if tls_refusal(exc) is not None:
        return _TLS_REFUSED
    for cls in type(exc).__mro__:
        failure = HTTP_CLIENT_ERRORS.get(cls)
        if failure is not None:
            return failure
    raise TypeError(f"{type(exc).__name__} is not an exception of the HTTP client stack") from exc


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
        headers = {"User-Agent": "ecuapass-gateway"}
        verify: ssl.SSLContext | bool = True
        try:
            self._token = bearer_token(settings, self._fields)
            if settings.ssl_cafile or settings.ssl_certfile:
                verify = client_context(
                    self._fields,
                    cafile=settings.ssl_cafile,
                    certfile=settings.ssl_certfile,
                    keyfile=settings.ssl_keyfile,
                )
        except ConfigurationError as exc:
            if self._owner is None:
                raise
            raise self._configuration(str(exc), *exc.fields) from exc  # say whose credentials these are
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        self._https = str(settings.url).lower().startswith("https:")
        # httpcore's pool re-examines every connection for every request it assigns (O(n²) with n open
        # connections, encode/httpcore#1035): 200 connections in one pool cost ~20 ms of CPU a request. Several
        # small pools, each request going to the least busy one, cost the same as one pool of a few connections.
        shards = 1 if transport is not None else math.ceil(settings.max_connections / POOL_SHARD_CONNECTIONS)
        sizes = [len(range(n, settings.max_connections, shards)) for n in range(shards)]  # they add up exactly
        self._clients = [
            httpx.AsyncClient(
                base_url=str(settings.url).rstrip("/"),
                headers=headers,
                verify=verify,
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
        url = str(self._settings.url)
        if not self._https and self._token is not None:
            log.warning("the bearer token goes to %s over plain HTTP", url)
        timeout = httpx.Timeout(min(self._settings.read_timeout_s, 10.0), connect=self._settings.connect_timeout_s)
        ca, cert, key = (self._fields[name] for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"))
        closed: BaseException | None = None
        for _ in range(PROBE_ATTEMPTS):
            try:
                response = await self._fetch("GET", f"/api/v1/documents/{PROBE_MESSAGE_ID}", timeout=timeout)
            except _TooLarge:
                log.warning("customs endpoint %s answers the probe with more than %s bytes", url, MAX_REPLY_BYTES)
                return
            except _HTTP_CLIENT_ERRORS as exc:
                refused = tls_refusal(exc)
                if refused is not None:
                    raise self._configuration(
                        f"TLS with the customs endpoint {url} failed: {refused} (check {ca}, {cert} and {key})",
                        ca,
                        cert,
                        key,
                    ) from exc
                if self._https and isinstance(exc, _CLOSED_AFTER_HANDSHAKE):
                    closed = exc
                    continue
                log.warning(
                    "customs endpoint %s not reachable at start-up (%s: %s); filings will wait for it",
                    url,
                    type(exc).__name__,
                    exc,
                )
                return
            if response.status_code in REFUSED_STATUS:
                token, token_file = self._fields["token"], self._fields["token_file"]
                raise self._configuration(
                    f"the customs endpoint {url} refused the gateway's credentials at start-up "
                    f"(HTTP {response.status_code}{self._excerpt(response)}): check {token} or {token_file}, and "
                    f"the client certificate ({cert})",
                    token,
                    token_file,
                    cert,
                )
            if response.status_code >= 500:
                log.warning("customs endpoint %s answers HTTP %s at start-up", url, response.status_code)
            else:
                log.info("customs endpoint %s answers (%s)", url, self._security())
            return
        likely = "wants a client certificate"
        if self._settings.ssl_certfile:
            likely = "does not trust the client certificate"
        raise self._configuration(
            f"the customs endpoint {url} closed every connection right after the TLS handshake ({closed!r}): "
            f"it most likely {likely} ({cert}, {key})",
            cert,
            key,
        ) from closed

    def _configuration(self, message: str, *fields: str) -> ConfigurationError:
        """A start-up error naming the settings concerned, and whose credentials these are."""
        owner = f"with the credentials of {self._owner}: " if self._owner else ""
        return ConfigurationError(owner + message, fields=fields)

    def _security(self) -> str:
        if not self._https:
            return "plain HTTP"
        tls = "mutual TLS" if self._settings.ssl_certfile else "TLS"
        return f"{tls}, bearer token" if self._token is not None else tls

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
        except _HTTP_CLIENT_ERRORS as exc:
            self._observe(method, "error", started)
            raise self._client_failure(filing, exc) from exc
        except _TooLarge as exc:
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
                f"customs refused the gateway's credentials (HTTP {response.status_code}{self._excerpt(response)})",
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
                        raise _TooLarge(response.status_code)
            finally:
                await response.aclose()
        finally:
            self._busy[shard] -= 1
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        return httpx.Response(response.status_code, headers=headers, content=bytes(body), request=request)

    def _excerpt(self, response: httpx.Response) -> str:
        """A short, printable piece of an error answer (servers often say why they refused), token masked."""
        text = response.text[: 200 + len(self._token or "")]
        if self._token:
            text = text.replace(self._token, "***")
        text = " ".join(_UNPRINTABLE.sub(" ", text[:200]).split())
        return f": {text}" if text else ""

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


def bearer_token(settings: EcuapassSettings, fields: Mapping[str, str] | None = None) -> str | None:
    """The token from the settings or from ``token_file``; problems are start-up errors that never show it.
    ``fields``: the settings' field paths, for the errors (``gateway.settings.endpoint_fields``)."""
    named = dict(fields or endpoint_fields())
    if settings.token_file is not None:
        field = named["token_file"]
        try:
            token = settings.token_file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            # The path last: "…/token: No such file" reads as a credential assignment to log scanners.
            raise ConfigurationError(f"cannot read {field} ({reason}): {settings.token_file}", fields=(field,)) from exc
        if not token:
            raise ConfigurationError(f"{field} {settings.token_file} is empty", fields=(field,))
    elif settings.token is not None:
        field = named["token"]
        token = settings.token.get_secret_value()
    else:
        return None
    if not _TOKEN.fullmatch(token):
        raise ConfigurationError(
            f"the bearer token ({field}) holds spaces or characters an HTTP header cannot carry", fields=(field,)
        )
    return token


def tls_refusal(exc: BaseException) -> ssl.SSLError | None:
    """The TLS error behind ``exc`` when the handshake itself was refused: the peer's certificate is not trusted,
    or the peer sent an alert (no or bad client certificate, no common protocol). Connections merely cut short
    (``SSLEOFError``, ``SSLZeroReturnError``, ``SSLSyscallError``) are not refusals."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError) or type(seen) is ssl.SSLError:
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


_TOKEN = re.compile(r"[\x21-\x7e]+")
_UNPRINTABLE = re.compile(r"[^\x20-\x7e\u00a0-\uffff]")
_CLOSED_AFTER_HANDSHAKE = (httpx.ReadError, httpx.WriteError, httpx.RemoteProtocolError)
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})  # of the body as sent


class _TooLarge(Exception):
    def __init__(self, status_code: int) -> None:
        super().__init__(status_code)
        self.status_code = status_code


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
