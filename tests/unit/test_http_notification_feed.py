"""The feed adapter over httpx's ``MockTransport`` (no sockets): pages read tolerantly, transient failures retried
without real sleeps, 410 as a typed ``FeedGone``, refusals and client errors translated into the gateway's tree, and
a circuit of its own."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from adapters.http_notification_feed import HttpNotificationFeed
from gateway.contract.feed import FeedGone, FeedPage, TolerantPage, write_feed, write_gone
from gateway.errors import PermanentFeedError
from gateway.settings import EcuapassSettings, IntakeSettings, RetrySettings

XML = {"content-type": "application/xml"}
EMPTY = write_feed(FeedPage("5", "5", False))
INTAKE = IntakeSettings(enabled=True, retry=RetrySettings(max_attempts=3), failure_threshold=5, open_s=60)


def _feed(
    answer: Callable[[httpx.Request], httpx.Response],
    slept: list[float] | None = None,
    intake: IntakeSettings = INTAKE,
) -> HttpNotificationFeed:
    async def sleep(seconds: float) -> None:
        (slept if slept is not None else []).append(seconds)

    settings = EcuapassSettings(url="http://customs.test/", token="t0ken-never-shown")  # type: ignore[arg-type]
    return HttpNotificationFeed("default", settings, intake, transport=httpx.MockTransport(answer), sleep=sleep)


async def test_a_page_is_asked_after_the_cursor_with_the_feeds_credentials() -> None:
    seen: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, content=EMPTY, headers=XML)

    raw, page = await _feed(answer).page("5", 100)
    assert raw == EMPTY and page == TolerantPage("5", "5", False)
    (request,) = seen
    assert request.url.path == "/api/v1/notifications" and dict(request.url.params) == {"after": "5", "limit": "100"}
    assert request.headers["authorization"] == "Bearer t0ken-never-shown"


async def test_transient_failures_are_retried_and_respect_retry_after() -> None:
    answers = iter([httpx.Response(503, headers={"Retry-After": "2"}), httpx.Response(200, content=EMPTY, headers=XML)])
    slept: list[float] = []
    _, page = await _feed(lambda _: next(answers), slept).page("5", 10)
    assert isinstance(page, TolerantPage) and slept and slept[0] >= 2


async def test_a_gone_cursor_is_a_typed_answer() -> None:
    gone = FeedGone("1", "9", "Ya no se conservan.")
    _, answer = await _feed(lambda _: httpx.Response(410, content=write_gone(gone), headers=XML)).page("1", 10)
    assert answer == gone


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (lambda _: httpx.Response(401, text="bad token t0ken-never-shown"), "HTTP 401"),
        (lambda _: httpx.Response(200, content=b"<not-a-feed/>", headers=XML), "unreadable page"),
        (lambda _: httpx.Response(503), "gave up"),
    ],
)
async def test_failures_become_permanent_feed_errors_without_the_token(
    answer: Callable[[httpx.Request], httpx.Response], expected: str
) -> None:
    with pytest.raises(PermanentFeedError, match=expected) as caught:
        await _feed(answer).page("0", 10)
    assert "t0ken-never-shown" not in str(caught.value) and caught.value.feed == "default"


async def test_client_errors_are_translated_and_open_the_feeds_own_circuit() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    # As many attempts as the threshold: the circuit opens on the last, and no attempt waits for it to close.
    feed = _feed(
        refuse, intake=INTAKE.model_copy(update={"failure_threshold": 2, "retry": RetrySettings(max_attempts=2)})
    )
    with pytest.raises(PermanentFeedError, match="cannot connect to customs") as caught:
        await feed.page("0", 10)
    assert isinstance(caught.value.__cause__, Exception)
    assert feed.breaker.state == "open"  # two failures in a row: this feed's circuit, not the filing's
