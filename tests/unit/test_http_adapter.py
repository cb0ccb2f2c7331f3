"""The HTTP adapter against httpx.MockTransport: retries, Retry-After, ambiguity, errors. No real sleeping."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import httpx
import pytest

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from gateway.contract.replies import write_reply
from gateway.errors import PermanentDeliveryError
from gateway.ports import Acceptance, CustomsReply, Filing, Reception, RejectionNotice, ReplyError
from gateway.settings import EcuapassSettings, RetrySettings

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MESSAGE_ID = "0b7d0c55-3a0e-5d1c-8f6a-51e0c1a5e251"
FILING = Filing("authorization-request", MESSAGE_ID, b"<doc/>", traceparent="00-abc-def-01")
ACCEPTED = write_reply(
    CustomsReply(
        "ACCEPTED",
        MESSAGE_ID,
        "authorization-request",
        Reception("179001162026000000011", NOW, "a" * 64),
        Acceptance("028-2026-AUT51-00000001", NOW),
    )
)
XML = {"content-type": "application/xml"}


class Recorder:
    def __init__(self, answers: list[Callable[[httpx.Request], httpx.Response]]) -> None:
        self.answers, self.requests, self.sleeps = answers, [], []  # type: ignore[var-annotated]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answers.pop(0)(request)

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)


def _endpoint(recorder: Recorder, **retry: float) -> HttpCustomsEndpoint:
    return HttpCustomsEndpoint(
        EcuapassSettings(url="http://customs.test/", token="t0ken"),  # type: ignore[arg-type]
        RetrySettings(**{"max_attempts": 4, "initial_backoff_s": 0.5, "max_backoff_s": 4.0, **retry}),  # type: ignore[arg-type]
        transport=httpx.MockTransport(recorder),
        sleep=recorder.sleep,
    )


def status(code: int, body: bytes = b"", headers: dict[str, str] | None = None) -> Callable[..., httpx.Response]:
    return lambda request: httpx.Response(code, content=body, headers=headers or {})


def raise_(exc: type[Exception]) -> Callable[[httpx.Request], httpx.Response]:
    def answer(request: httpx.Request) -> httpx.Response:
        raise exc("simulated", request=request)  # type: ignore[call-arg]

    return answer


async def test_accepted_reply_and_request_headers() -> None:
    recorder = Recorder([status(200, ACCEPTED, XML)])
    reply = await _endpoint(recorder).file(FILING)
    assert reply.status == "ACCEPTED" and reply.acceptance is not None
    assert reply.acceptance.official_number == "028-2026-AUT51-00000001"
    (request,) = recorder.requests
    assert request.url == "http://customs.test/api/v1/documents"
    assert request.headers["authorization"] == "Bearer t0ken"
    assert request.headers["x-message-id"] == MESSAGE_ID
    assert request.headers["traceparent"] == "00-abc-def-01"
    assert request.content == b"<doc/>"


async def test_503s_are_retried_with_full_jitter_and_the_status_is_asked_first() -> None:
    recorder = Recorder([status(503), status(404), status(503), status(404), status(200, ACCEPTED, XML)])
    reply = await _endpoint(recorder).file(FILING)
    assert reply.status == "ACCEPTED"
    methods = [(r.method, r.url.path) for r in recorder.requests]
    assert methods == [
        ("POST", "/api/v1/documents"),
        ("GET", f"/api/v1/documents/{MESSAGE_ID}"),
        ("POST", "/api/v1/documents"),
        ("GET", f"/api/v1/documents/{MESSAGE_ID}"),
        ("POST", "/api/v1/documents"),
    ]
    assert len(recorder.sleeps) == 2
    assert 0 <= recorder.sleeps[0] <= 0.5 and 0 <= recorder.sleeps[1] <= 1.0


async def test_ambiguous_timeout_finds_the_earlier_filing_instead_of_resending() -> None:
    recorder = Recorder([raise_(httpx.ReadTimeout), status(200, ACCEPTED, XML)])
    reply = await _endpoint(recorder).file(FILING)
    assert reply.status == "ACCEPTED"
    assert [r.method for r in recorder.requests] == ["POST", "GET"]


async def test_429_honours_retry_after_and_is_not_ambiguous() -> None:
    recorder = Recorder([status(429, headers={"Retry-After": "7"}), status(200, ACCEPTED, XML)])
    await _endpoint(recorder, max_backoff_s=1.0).file(FILING)
    assert recorder.sleeps == [7.0]
    assert [r.method for r in recorder.requests] == ["POST", "POST"]


async def test_connection_refused_is_retried_without_status_query() -> None:
    recorder = Recorder([raise_(httpx.ConnectError), raise_(httpx.ConnectError), status(200, ACCEPTED, XML)])
    await _endpoint(recorder).file(FILING)
    assert [r.method for r in recorder.requests] == ["POST", "POST", "POST"]


async def test_retries_are_bounded() -> None:
    recorder = Recorder([status(502)] + [status(404), status(502)] * 3)
    with pytest.raises(PermanentDeliveryError) as caught:
        await _endpoint(recorder).file(FILING)
    assert caught.value.attempts == 4
    assert caught.value.status_code == 502
    assert [r.method for r in recorder.requests].count("POST") == 4


async def test_business_rejection_is_a_reply_not_an_error() -> None:
    rejected = write_reply(
        CustomsReply("REJECTED", MESSAGE_ID, rejection=RejectionNotice("BUSINESS", (ReplyError("R51-AUT-001", "x"),)))
    )
    recorder = Recorder([status(200, rejected, XML)])
    reply = await _endpoint(recorder).file(FILING)
    assert reply.rejection is not None and reply.rejection.errors[0].code == "R51-AUT-001"
    assert len(recorder.requests) == 1


@pytest.mark.parametrize(
    "answer",
    [
        status(400, b"bad request"),
        status(500, b"oops", {"content-type": "text/plain"}),
        status(200, b"<not-a-reply/>", XML),
        status(200, b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>', XML),
    ],
)
async def test_unusable_answers_are_permanent_and_not_retried(answer: Callable[..., httpx.Response]) -> None:
    recorder = Recorder([answer])
    with pytest.raises(PermanentDeliveryError):
        await _endpoint(recorder).file(FILING)
    assert len(recorder.requests) == 1
