"""The HTTP boundary is airtight: every exception class of the HTTP client stack (httpx's whole tree, httpcore's,
h11's, ssl's) is in the adapter's table, and each one, raised under the adapter, comes out as a gateway error.

The classes are found by walking the libraries (their exported exception classes and every subclass), not listed
here: a class a new httpx adds fails ``test_the_table_holds_every_exception_class_of_the_http_client_stack`` until
the table says what it means. httpx.MockTransport; no sockets, no sleeping."""

from __future__ import annotations

import ssl
from collections.abc import Callable
from datetime import UTC, datetime
from types import ModuleType

import h11
import httpcore
import httpx
import pytest

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from adapters.http_errors import HTTP_CLIENT_ERRORS, failure_of
from gateway.contract.replies import write_reply
from gateway.errors import ConfigurationError, DeliveryError, PermanentDeliveryError, TransientDeliveryError
from gateway.ports import Acceptance, CustomsReply, Filing, Reception
from gateway.runtime.circuit import CircuitBreaker
from gateway.runtime.metrics import GatewayMetrics
from gateway.settings import EcuapassSettings, RetrySettings

MESSAGE_ID = "0b7d0c55-3a0e-5d1c-8f6a-51e0c1a5e251"
FILING = Filing("authorization-request", MESSAGE_ID, b"<doc/>")
ATTEMPTS = 3
NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
ACCEPTED = write_reply(
    CustomsReply(
        "ACCEPTED",
        MESSAGE_ID,
        "authorization-request",
        Reception("179001162026000000011", NOW, "a" * 64),
        Acceptance("028-2026-AUT51-00000001", NOW),
    )
)


def _library_classes(module: ModuleType, *roots: type[BaseException]) -> set[type[BaseException]]:
    """Every exception class ``module`` exports (and ``roots``), with all their subclasses defined in it."""
    exported = [getattr(module, name) for name in getattr(module, "__all__", dir(module))]
    found: set[type[BaseException]] = set()
    pending = [c for c in (*exported, *roots) if isinstance(c, type) and issubclass(c, BaseException)]
    while pending:
        cls = pending.pop()
        if cls not in found and cls.__module__.split(".")[0] == module.__name__:
            found.add(cls)
            pending += cls.__subclasses__()
    return found


LIBRARY_CLASSES = sorted(
    _library_classes(httpx, httpx.HTTPError, httpx.InvalidURL, httpx.CookieConflict, httpx.StreamError)
    | _library_classes(httpcore)
    | _library_classes(h11)
    | _library_classes(ssl, ssl.SSLError),
    key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
)


def _instance(cls: type[BaseException]) -> BaseException:
    """An instance of ``cls`` without its constructor (httpx's want a request or a response, h11's abstract base
    refuses to be made): what the adapter reads of an exception is its class, its chain and its text."""
    exc = cls.__new__(cls)
    exc.args = ("simulated",)
    return exc


class CountingBreaker(CircuitBreaker):
    """A breaker that never opens and counts what it hears."""

    def __init__(self) -> None:
        super().__init__(failure_threshold=2**31)
        self.failures = 0

    def failure(self) -> None:
        self.failures += 1
        super().failure()


def _endpoint(
    handler: Callable[[httpx.Request], httpx.Response],
    breaker: CircuitBreaker | None = None,
    metrics: GatewayMetrics | None = None,
) -> HttpCustomsEndpoint:
    async def no_sleep(_: float) -> None:
        return None

    return HttpCustomsEndpoint(
        EcuapassSettings(url="https://customs.test/"),
        RetrySettings(max_attempts=ATTEMPTS, initial_backoff_s=0.001, max_backoff_s=0.001),
        transport=httpx.MockTransport(handler),
        sleep=no_sleep,
        breaker=breaker,
        metrics=metrics,
    )


def _raising(cls: type[BaseException], seen: list[httpx.Request]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        raise _instance(cls)

    return answer


def _chain(exc: BaseException | None) -> list[BaseException]:
    found = []
    while exc is not None:
        found.append(exc)
        exc = exc.__cause__
    return found


def test_the_walk_finds_the_whole_httpx_tree_and_what_escapes_it() -> None:
    """A guard on the walk itself: it sees the classes named in httpx/_exceptions.py's drawing and below."""
    for cls in (
        httpx.HTTPError,
        httpx.DecodingError,
        httpx.TooManyRedirects,
        httpx.HTTPStatusError,
        httpx.InvalidURL,
        httpx.CookieConflict,
        httpx.StreamConsumed,
        httpx.RequestNotRead,
        httpx.PoolTimeout,
        httpx.CloseError,
        httpx.ProxyError,
        httpx.UnsupportedProtocol,
        httpcore.ConnectionNotAvailable,
        h11.RemoteProtocolError,
        ssl.SSLEOFError,
        ssl.SSLCertVerificationError,
    ):
        assert cls in LIBRARY_CLASSES


def test_the_table_holds_every_exception_class_of_the_http_client_stack() -> None:
    missing = [f"{cls.__module__}.{cls.__qualname__}" for cls in LIBRARY_CLASSES if cls not in HTTP_CLIENT_ERRORS]
    assert missing == [], "say in adapters/http_errors.py HTTP_CLIENT_ERRORS what these mean"


def test_a_class_the_table_lacks_is_translated_as_its_parent() -> None:
    class FutureReadError(httpx.ReadError):
        pass

    assert failure_of(_instance(FutureReadError)) == HTTP_CLIENT_ERRORS[httpx.ReadError]


@pytest.mark.parametrize("cls", LIBRARY_CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
async def test_no_exception_of_the_http_client_stack_slips_through_a_filing(cls: type[BaseException]) -> None:
    seen: list[httpx.Request] = []
    breaker = CountingBreaker()
    endpoint = _endpoint(_raising(cls, seen), breaker)
    try:
        with pytest.raises(DeliveryError) as caught:
            await endpoint.file(FILING)
    finally:
        await endpoint.aclose()
    assert isinstance(caught.value, PermanentDeliveryError)  # every failure ends as one: the event dead-lettered
    assert type(_chain(caught.value)[-1]) is cls  # translated with ``from exc``, the library's exception kept
    transient = isinstance(caught.value.__cause__, TransientDeliveryError)
    assert transient == failure_of(_instance(cls)).transient
    if transient:  # retried, and every attempt heard by the circuit breaker
        assert caught.value.attempts == ATTEMPTS and str(caught.value).startswith(f"gave up after {ATTEMPTS}")
        assert len(seen) == ATTEMPTS and breaker.failures == ATTEMPTS
        # after an ambiguous failure (customs may have filed it) each attempt asks the status, never POSTs again
        posts = 1 if failure_of(_instance(cls)).ambiguous else ATTEMPTS
        assert [r.method for r in seen].count("POST") == posts
    else:  # permanent: once, and not an outage
        assert len(seen) == 1 and breaker.failures == 0


@pytest.mark.parametrize("cls", LIBRARY_CLASSES, ids=lambda cls: f"{cls.__module__}.{cls.__qualname__}")
async def test_no_exception_of_the_http_client_stack_slips_through_the_probe(cls: type[BaseException]) -> None:
    """At start-up: a refusal stops the gateway with a ``ConfigurationError``, anything else is only logged."""
    endpoint = _endpoint(_raising(cls, []))
    refused: ConfigurationError | None = None
    try:
        await endpoint.probe()
    except ConfigurationError as exc:
        refused = exc
    finally:
        await endpoint.aclose()
    if refused is not None:  # a TLS refusal, or every connection closed right after the handshake
        assert type(_chain(refused)[-1]) is cls


async def test_a_reply_that_is_not_the_gzip_it_says_is_a_retried_failure_the_breaker_counts() -> None:
    """The issue's case: ``content-encoding: gzip`` over bytes that are not gzip raised a raw ``httpx.DecodingError``
    (an ``internal_error`` dead letter, the breaker never told). Ambiguous: customs may have filed the document, so
    the status is asked before sending again."""
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "GET":
            return httpx.Response(404)  # not filed
        headers = {"content-type": "application/xml", "content-encoding": "gzip"}
        return httpx.Response(200, headers=headers, content=b"<reply>not gzip</reply>")

    breaker, metrics = CountingBreaker(), GatewayMetrics()
    endpoint = _endpoint(answer, breaker, metrics)
    try:
        with pytest.raises(PermanentDeliveryError, match="gave up after 3 attempts: customs sent a reply that cannot"):
            await endpoint.file(FILING)
    finally:
        await endpoint.aclose()
    assert [r.method for r in seen] == ["POST", "GET", "POST", "GET", "POST"]
    assert breaker.failures == ATTEMPTS  # the 404s are answers: the endpoint works
    retried = metrics.registry.get_sample_value("ecuapass_gateway_filing_retries_total", {"cause": "DecodingError"})
    assert retried  # the retry metric names the library's class as the cause


async def test_a_broken_reply_then_a_good_one_is_filed_once() -> None:
    answers = iter(["bad gzip", "not found", "good"])

    def answer(request: httpx.Request) -> httpx.Response:
        what = next(answers)
        if what == "bad gzip":
            headers = {"content-type": "application/xml", "content-encoding": "gzip"}
            return httpx.Response(200, headers=headers, content=b"not gzip at all")
        if what == "not found":
            return httpx.Response(404)
        return httpx.Response(200, headers={"content-type": "application/xml"}, content=ACCEPTED)

    endpoint = _endpoint(answer)
    try:
        reply = await endpoint.file(FILING)
    finally:
        await endpoint.aclose()
    assert reply.status == "ACCEPTED"
