"""The mock Ecuapass endpoint driven over real HTTP: procedure, idempotency, two-stage replies, faults, admin."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from ecuapass_mock.faults import FaultInjector, FaultSettings
from ecuapass_mock.server import MockServer
from gateway import documents
from gateway.contract.replies import read_reply
from gateway.documents import decode
from gateway.tools.examples import Example

HEADERS = {"Content-Type": "application/xml"}


def authorization(example_by_name: dict[str, Example], n: int = 0, **changes: object) -> bytes:
    """The minimal authorization example as a filed document, made distinct by ``n``."""
    event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    event["id"] = f"00000000-0000-4000-8000-{n:012d}"
    event["data"]["local_reference"] = f"SOL-T-{n:06d}"
    event["data"].update(changes)
    return documents.build(decode(json.dumps(event).encode())).to_bytes()


@pytest.fixture
def client(mock_endpoint: MockServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=mock_endpoint.url, timeout=5) as http:
        yield http


def test_accepts_and_answers_status_queries(client: httpx.Client, example_by_name: dict[str, Example]) -> None:
    response = client.post("/api/v1/documents", content=authorization(example_by_name), headers=HEADERS)
    assert response.status_code == 200
    reply = read_reply(response.content)
    assert reply.status == "ACCEPTED" and reply.acceptance and reply.reception
    assert reply.acceptance.official_number.startswith("028-")
    by_message = client.get(f"/api/v1/documents/{reply.message_id}")
    by_submission = client.get(f"/api/v1/submissions/{reply.reception.submission_number}")
    assert by_message.content == by_submission.content == response.content
    assert client.get("/api/v1/documents/00000000-0000-4000-8000-999999999999").status_code == 404


def test_same_message_twice_files_once(client: httpx.Client, example_by_name: dict[str, Example]) -> None:
    document = authorization(example_by_name)
    first = client.post("/api/v1/documents", content=document, headers=HEADERS)
    second = client.post("/api/v1/documents", content=document, headers=HEADERS)
    assert first.content == second.content
    assert client.get("/admin/outcomes").json() == {"ACCEPTED": 1}
    (count,) = client.get("/admin/filings").json().values()
    assert count == 2  # submitted twice: a correct client would have asked the status query instead


def test_changed_payload_under_a_used_id_or_reference_is_a_duplicate(
    client: httpx.Client, example_by_name: dict[str, Example]
) -> None:
    original = authorization(example_by_name, 1)
    assert read_reply(client.post("/api/v1/documents", content=original, headers=HEADERS).content).status == "ACCEPTED"
    changed = original.replace(b"Turbina hidr", b"Bomba hidr")
    reply = read_reply(client.post("/api/v1/documents", content=changed, headers=HEADERS).content)
    assert reply.status == "REJECTED" and reply.rejection is not None
    assert [e.code for e in reply.rejection.errors] == ["R51-DUP-001"]
    # Same reference under a new message id: the original reply if unchanged, a duplicate if changed.
    event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    event["id"], event["data"]["local_reference"] = "another-event", "SOL-T-000001"
    resent = documents.build(decode(json.dumps(event).encode())).to_bytes()
    again = read_reply(client.post("/api/v1/documents", content=resent, headers=HEADERS).content)
    assert _message_id(resent) != _message_id(original)
    assert again.status == "ACCEPTED" and again.message_id == _message_id(original)  # the original reply
    event["id"], event["data"]["purpose"]["description"] = "yet-another-event", "Otra cosa"
    altered = documents.build(decode(json.dumps(event).encode())).to_bytes()
    refused = read_reply(client.post("/api/v1/documents", content=altered, headers=HEADERS).content)
    assert refused.rejection is not None and refused.rejection.errors[0].code == "R51-DUP-001"


def test_business_rule_rejection_points_at_the_element(
    client: httpx.Client, example_by_name: dict[str, Example]
) -> None:
    late = authorization(example_by_name, 2, planned_return_date="2029-12-31")
    reply = read_reply(client.post("/api/v1/documents", content=late, headers=HEADERS).content)
    assert reply.rejection is not None and reply.rejection.stage == "BUSINESS"
    (error,) = reply.rejection.errors
    assert (error.code, error.pointer) == ("R51-AUT-003", "/aut:AuthorizationRequest/aut:PlannedReturnDate")
    assert reply.reception is not None  # received and numbered, then refused


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY a "aaaa">]><r>&a;</r>', "R51-REC-001"),
        (b"<unclosed>", "R51-REC-001"),
        (b'<Other xmlns="urn:x"/>', "R51-REC-002"),
    ],
)
def test_unreadable_documents_are_refused_at_reception(client: httpx.Client, body: bytes, code: str) -> None:
    response = client.post("/api/v1/documents", content=body, headers=HEADERS)
    assert response.status_code == 400
    reply = read_reply(response.content)
    assert reply.rejection is not None and reply.rejection.errors[0].code == code


def test_xsd_invalid_document_is_refused_at_validation(
    client: httpx.Client, example_by_name: dict[str, Example]
) -> None:
    broken = authorization(example_by_name, 3).replace(b"<aut:District>028<", b"<aut:District>999<")
    reply = read_reply(client.post("/api/v1/documents", content=broken, headers=HEADERS).content)
    assert reply.rejection is not None and reply.rejection.stage == "VALIDATION"
    assert reply.rejection.errors[0].pointer == "/aut:AuthorizationRequest/aut:District"


class ManualClock:
    """The mock's clock (``create_app(clock=...)``), standing still until the test moves it on."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def test_two_stage_reply(example_by_name: dict[str, Example]) -> None:
    clock = ManualClock()
    with (
        MockServer(decision_delay_s=60, clock=clock) as server,
        httpx.Client(base_url=server.url) as client,
    ):
        response = client.post(
            "/api/v1/documents",
            content=authorization(example_by_name),
            headers=HEADERS | {"Prefer": "respond-async"},
        )
        assert response.status_code == 202
        received = read_reply(response.content)
        assert received.status == "RECEIVED" and received.reception and not received.acceptance

        def status() -> str:
            return read_reply(client.get(f"/api/v1/documents/{received.message_id}").content).status

        assert status() == "RECEIVED"
        clock.advance(59.999)
        assert status() == "RECEIVED"  # not decided a moment before the decision delay is over
        clock.advance(0.001)
        decided = read_reply(client.get(f"/api/v1/documents/{received.message_id}").content)
        assert decided.status == "ACCEPTED" and decided.reception == received.reception


def _faulty(**faults: object) -> MockServer:
    return MockServer(faults=FaultInjector(FaultSettings(**faults)))  # type: ignore[arg-type]


def test_fault_error_and_throttle(example_by_name: dict[str, Example]) -> None:
    with _faulty(error_rate=1.0) as server:
        assert httpx.post(f"{server.url}/api/v1/documents", content=b"<x/>").status_code == 503
    with _faulty(throttle_rate=1.0, retry_after_s=7) as server:
        response = httpx.post(f"{server.url}/api/v1/documents", content=b"<x/>")
        assert response.status_code == 429 and response.headers["retry-after"] == "7"
        assert 'ecuapass_mock_faults_injected_total{fault="throttle"} 1.0' in httpx.get(f"{server.url}/metrics").text


def test_fault_latency(example_by_name: dict[str, Example]) -> None:
    with _faulty(latency_ms=300) as server:
        started = time.monotonic()
        httpx.post(f"{server.url}/api/v1/documents", content=authorization(example_by_name), headers=HEADERS)
        assert time.monotonic() - started >= 0.3


def test_fault_hang_outlasts_the_client_and_files_nothing(example_by_name: dict[str, Example]) -> None:
    with _faulty(hang_rate=1.0, hang_s=2.0) as server:
        with pytest.raises(httpx.ReadTimeout):
            httpx.post(f"{server.url}/api/v1/documents", content=authorization(example_by_name), timeout=0.5)
        assert httpx.get(f"{server.url}/admin/filings").json() == {}


def test_fault_reset_files_nothing(example_by_name: dict[str, Example]) -> None:
    with _faulty(reset_rate=1.0) as server:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.post(f"{server.url}/api/v1/documents", content=authorization(example_by_name), headers=HEADERS)
        assert httpx.get(f"{server.url}/admin/filings").json() == {}


def test_fault_lost_response_files_then_resets(example_by_name: dict[str, Example]) -> None:
    document = authorization(example_by_name)
    with _faulty(lost_response_rate=1.0) as server:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            httpx.post(f"{server.url}/api/v1/documents", content=document, headers=HEADERS)
        message_id = read_reply(httpx.get(f"{server.url}/api/v1/documents/{_message_id(document)}").content)
        assert message_id.status == "ACCEPTED"


def test_fault_maintenance_window(example_by_name: dict[str, Example]) -> None:
    now = datetime.now(UTC)
    window = {"start": (now - timedelta(minutes=1)).isoformat(), "end": (now + timedelta(seconds=30)).isoformat()}
    with MockServer() as server, httpx.Client(base_url=server.url) as client:
        assert client.put("/admin/faults", json={"maintenance": [window]}).status_code == 200
        response = client.post("/api/v1/documents", content=authorization(example_by_name), headers=HEADERS)
        assert response.status_code == 503 and 25 <= int(response.headers["retry-after"]) <= 31
        assert client.get("/admin/faults").json()["maintenance"][0]["end"]
        bad = client.put("/admin/faults", json={"error_rate": 0.8, "reset_rate": 0.5})
        assert bad.status_code == 422
        client.post("/admin/reset")
        assert client.post("/api/v1/documents", content=authorization(example_by_name), headers=HEADERS).is_success


def test_fault_draws_are_deterministic_for_a_seed() -> None:
    def draws() -> list[str | None]:
        injector = FaultInjector(FaultSettings(seed=7, error_rate=0.3, reset_rate=0.2))
        return [injector.draw(datetime.now(UTC), filing=True).fault for _ in range(50)]

    first = draws()
    assert first == draws()
    assert {"error", "reset", None} <= set(first)


def _message_id(document: bytes) -> str:
    from lxml import etree

    found = etree.fromstring(document).findtext(".//{*}MessageId")
    assert found
    return found


def test_identifier_checks_of_customs(client: httpx.Client, example_by_name: dict[str, Example]) -> None:
    """Documents from other clients are checked too: a bad natural-person RUC is refused, a company RUC failing
    mod-11 only warned about."""
    bad_person = authorization(example_by_name, 7).replace(
        b"<cmn:Ruc>1790011674001</cmn:Ruc><cmn:Name>Industrias", b"<cmn:Ruc>1710034064001</cmn:Ruc><cmn:Name>Industrias"
    )
    reply = read_reply(client.post("/api/v1/documents", content=bad_person, headers=HEADERS).content)
    assert reply.rejection is not None
    assert [(e.code, e.pointer) for e in reply.rejection.errors] == [
        ("R51-ID-002", "/aut:AuthorizationRequest/aut:Applicant/cmn:Ruc")
    ]
    odd_company = authorization(example_by_name, 8).replace(b">1790011674001<", b">1790011675001<")
    accepted = read_reply(client.post("/api/v1/documents", content=odd_company, headers=HEADERS).content)
    assert accepted.acceptance is not None
    assert {w.code for w in accepted.acceptance.warnings} == {"R51-ID-001"}
