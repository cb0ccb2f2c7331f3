"""The retrying HTTP adapter against the real mock having a bad day: every document filed exactly once."""

from __future__ import annotations

import asyncio
import json

import httpx

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway import documents
from gateway.documents import decode
from gateway.ports import Filing
from gateway.settings import EcuapassSettings, RetrySettings
from gateway.tools.examples import Example


def _filings(example: Example, count: int) -> list[Filing]:
    filings = []
    for n in range(count):
        event = json.loads(example.payload())
        event["id"] = f"fault-test-{n}"
        event["data"]["local_reference"] = f"SOL-F-{n:05d}"
        document = documents.build(decode(json.dumps(event).encode()))
        filings.append(Filing(document.kind, document.message_id, document.to_bytes()))
    return filings


def _endpoint(url: str, **ecuapass: object) -> HttpCustomsEndpoint:
    return HttpCustomsEndpoint(
        EcuapassSettings(url=url, read_timeout_s=1.0, **ecuapass),  # type: ignore[arg-type]
        RetrySettings(max_attempts=30, max_elapsed_s=60, initial_backoff_s=0.01, max_backoff_s=0.1),
    )


async def test_every_document_is_filed_exactly_once_under_faults(example_by_name: dict[str, Example]) -> None:
    faults = FaultSettings(
        seed=3,
        error_rate=0.3,
        throttle_rate=0.05,
        retry_after_s=0,
        latency_ms=5,
        latency_jitter_ms=20,
        hang_rate=0.02,
        hang_s=1.5,
        reset_rate=0.08,
        lost_response_rate=0.1,
    )
    filings = _filings(example_by_name["authorization-request/accepted/minimal"], 60)
    with MockServer(faults=FaultInjector(faults)) as server:
        endpoint = _endpoint(server.url)
        try:
            replies = await asyncio.gather(*(endpoint.file(filing) for filing in filings))
        finally:
            await endpoint.aclose()
        counts = httpx.get(f"{server.url}/admin/filings").json()
        metrics = httpx.get(f"{server.url}/metrics").text
    assert [reply.status for reply in replies] == ["ACCEPTED"] * len(filings)
    assert len({reply.acceptance.official_number for reply in replies if reply.acceptance}) == len(filings)
    assert counts == {filing.message_id: 1 for filing in filings}
    for fault in ("error", "reset", "lost_response"):
        assert f'ecuapass_mock_faults_injected_total{{fault="{fault}"}}' in metrics  # the faults really happened


async def test_two_stage_replies_are_awaited(example_by_name: dict[str, Example]) -> None:
    (filing,) = _filings(example_by_name["authorization-request/accepted/minimal"], 1)
    with MockServer(decision_delay_s=0.5) as server:
        endpoint = _endpoint(server.url, prefer_async=True, poll_interval_s=0.1)
        try:
            reply = await endpoint.file(filing)
        finally:
            await endpoint.aclose()
    assert reply.status == "ACCEPTED" and reply.acceptance is not None
