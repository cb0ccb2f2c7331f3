"""The notification feed port over HTTP (httpx), with retries (tenacity) and a circuit of its own.

    GET {url}{intake.path}?after=<cursor>&limit=<n>   -> 200 NotificationFeed, 410 FeedGone (notifications.xsd)

One adapter per feed: the ``ecuapass`` credentials (feed ``default``) and each agency with credentials of its own
(feed named by its RUC), loaded as the filing endpoint loads them (``adapters/http_credentials.py``). Its breaker is
its own, not the filing's: a failing feed does not stop filing, and a failing filing endpoint does not stop the
intake's polls.

Only transient failures are retried (connection errors, timeouts, broken replies, 429, 502, 503, 504), with full
jitter, never sooner than ``Retry-After``, within ``intake.retry``; a GET is safe to repeat, so nothing is ambiguous
here. Every exception of the HTTP client stack goes through the one table of ``adapters/http_errors.py`` into
``TransientFeedError`` or ``PermanentFeedError``. A page is read with ``read_feed_tolerant``: a notification it
cannot read comes back as an ``UnreadableNotification`` (the intake dead-letters it), and only an unreadable
envelope fails the request.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping

import httpx
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type

from adapters.http_credentials import load_credentials
from adapters.http_errors import (
    HTTP_CLIENT_ERROR_TYPES,
    MAX_REPLY_BYTES,
    REFUSED_STATUS,
    RETRYABLE_STATUS,
    answer_excerpt,
    failure_of,
    tls_refusal,
)
from gateway.contract.feed import FeedGone, TolerantPage, read_feed_tolerant
from gateway.errors import FeedError, PermanentFeedError, TransientFeedError, UnsafeXmlError
from gateway.runtime.circuit import CircuitBreaker
from gateway.settings import EcuapassSettings, IntakeSettings, endpoint_fields


class HttpNotificationFeed:
    def __init__(
        self,
        name: str,
        settings: EcuapassSettings,
        intake: IntakeSettings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rng: random.Random | None = None,
        fields: Mapping[str, str] | None = None,
        credentials_of: str | None = None,
    ) -> None:
        """``name``: the feed's (``default`` or an agency's RUC); ``fields`` and ``credentials_of`` as for the
        filing endpoint (where each credential is set, and whose they are, for start-up errors)."""
        self.name = name
        self._intake = intake
        self._sleep = sleep
        self._rng = rng or random.Random()
        self.breaker = CircuitBreaker(intake.failure_threshold, intake.open_s, name=f"notification feed {name}")
        credentials = load_credentials(settings, dict(fields or endpoint_fields()), credentials_of)
        self._token = credentials.token
        headers = {"User-Agent": "ecuapass-gateway", "Accept": "application/xml"}
        if self._token is not None:
            headers["Authorization"] = f"Bearer {self._token}"
        self._client = httpx.AsyncClient(
            base_url=str(settings.url).rstrip("/"),
            headers=headers,
            verify=credentials.verify,
            timeout=httpx.Timeout(settings.read_timeout_s, connect=settings.connect_timeout_s),
            limits=httpx.Limits(max_connections=2, max_keepalive_connections=1),
            transport=transport,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def page(self, after: str, limit: int) -> tuple[bytes, TolerantPage | FeedGone]:
        """The page after ``after``, retried on transient failures within ``intake.retry``; the time waited for
        an open circuit does not count against that budget."""
        retry = self._intake.retry
        started, waited = time.monotonic(), 0.0

        def exhausted(state: RetryCallState) -> bool:
            active = time.monotonic() - started - waited
            return state.attempt_number >= retry.max_attempts or active >= retry.max_elapsed_s

        retrying = AsyncRetrying(
            stop=exhausted,
            wait=self._wait,
            retry=retry_if_exception_type(TransientFeedError),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    waited += await self.breaker.acquire()
                    return await self._get(after, limit)
        except TransientFeedError as exc:
            raise PermanentFeedError(
                f"feed {self.name}: gave up after {retry.max_attempts} attempts at most: {exc}",
                feed=self.name,
                status_code=exc.status_code,
            ) from exc
        raise AssertionError("unreachable: tenacity either returns or raises")  # pragma: no cover

    def _wait(self, state: RetryCallState) -> float:
        retry = self._intake.retry
        ceiling = min(retry.max_backoff_s, retry.initial_backoff_s * 2 ** (state.attempt_number - 1))
        wait = self._rng.uniform(0, ceiling)
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, TransientFeedError) and exc.retry_after_s:
            wait = max(wait, exc.retry_after_s)
        return wait

    async def _get(self, after: str, limit: int) -> tuple[bytes, TolerantPage | FeedGone]:
        status, headers, body = await self._fetch({"after": after, "limit": str(limit)})
        if status in RETRYABLE_STATUS:
            if status != 429:  # throttling is the feed working as designed
                self.breaker.failure()
            raise TransientFeedError(
                f"feed {self.name}: customs answered HTTP {status}",
                feed=self.name,
                status_code=status,
                retry_after_s=_retry_after(headers),
            )
        self.breaker.success()
        if status in REFUSED_STATUS or status not in (200, 410):
            excerpt = answer_excerpt(httpx.Response(status, headers=headers, content=body), self._token)
            raise PermanentFeedError(f"feed {self.name}: HTTP {status}{excerpt}", feed=self.name, status_code=status)
        try:
            answer = read_feed_tolerant(body)
        except UnsafeXmlError as exc:
            raise PermanentFeedError(f"feed {self.name}: unreadable page: {exc}", feed=self.name) from exc
        if isinstance(answer, FeedGone) != (status == 410):
            raise PermanentFeedError(f"feed {self.name}: HTTP {status} with the wrong answer", feed=self.name)
        return body, answer

    async def _fetch(self, params: dict[str, str]) -> tuple[int, httpx.Headers, bytes]:
        """Status, headers and body, read up to ``MAX_REPLY_BYTES`` and no further; client errors translated."""
        try:
            request = self._client.build_request("GET", self._intake.path, params=params)
            response = await self._client.send(request, stream=True)
            body = bytearray()
            try:
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > MAX_REPLY_BYTES:
                        raise PermanentFeedError(
                            f"feed {self.name}: a page of more than {MAX_REPLY_BYTES} bytes", feed=self.name
                        )
            finally:
                await response.aclose()
        except HTTP_CLIENT_ERROR_TYPES as exc:
            raise self._client_failure(exc) from exc
        return response.status_code, response.headers, bytes(body)

    def _client_failure(self, exc: BaseException) -> FeedError:
        failure = failure_of(exc)
        detail = tls_refusal(exc) or exc
        message = f"feed {self.name}: {failure.meaning}: {type(detail).__name__}: {detail}"
        if not failure.transient:
            return PermanentFeedError(message, feed=self.name)
        self.breaker.failure()
        return TransientFeedError(message, feed=self.name)


def _retry_after(headers: httpx.Headers) -> float | None:
    value = headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
