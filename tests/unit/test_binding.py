"""CloudEvents binary content mode on input: the same rules, errors and outcomes as its structured twin."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.errors import UndecodableEvent
from gateway.events import binding
from gateway.outcomes import Acknowledgment, DeadLetter, Outcome, Rejection
from gateway.pipeline import InboundRecord, Pipeline
from gateway.tools.examples import Example
from tests.conftest import example_params

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)


def binary_twin(payload: bytes) -> tuple[bytes, list[tuple[str, bytes | None]]]:
    """The same event as the Kafka protocol binding's binary mode: attributes as ce_* headers, data as the value."""
    event = json.loads(payload)
    data = event.pop("data")
    headers: list[tuple[str, bytes | None]] = []
    if "datacontenttype" in event:
        headers.append(("content-type", event.pop("datacontenttype").encode()))
    headers += [(f"ce_{name}", str(value).encode()) for name, value in event.items()]
    return json.dumps(data, ensure_ascii=False).encode(), headers


async def process(value: bytes, headers: list[tuple[str, bytes | None]], key: bytes = b"CASE-1") -> Outcome:
    pipeline = Pipeline(FakeCustomsEndpoint(), source="urn:test-gateway", clock=lambda: NOW)
    return await pipeline.process(InboundRecord(value, key, tuple(headers), "in", 0, 7))


def summary(outcome: Outcome) -> object:
    """What must agree between twins: the kind, the outcome id and the errors with their paths."""
    if isinstance(outcome, DeadLetter):
        return ("dead-letter", outcome.reason)
    errors = outcome.data.errors if isinstance(outcome, Rejection) else outcome.data.warnings
    return (type(outcome).__name__, outcome.id, outcome.subject, [(e.code, e.path) for e in errors])


@pytest.mark.parametrize("example", example_params("accepted", "invalid"))
async def test_a_binary_event_gets_the_outcome_of_its_structured_twin(example: Example) -> None:
    structured = await process(example.payload(), [], example.key())
    value, headers = binary_twin(example.payload())
    binary = await process(value, headers, example.key())
    assert summary(binary) == summary(structured)
    assert isinstance(binary, Acknowledgment if example.expected == "accepted" else Rejection)


def test_the_twin_is_rebuilt_as_the_structured_event(example_by_name: dict[str, Example]) -> None:
    payload = example_by_name["export-declaration/accepted/minimal"].payload()
    value, headers = binary_twin(payload)
    raw, mode = binding.structured(value, headers)
    assert mode == "binary"
    assert json.loads(raw) == json.loads(payload)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([("content-type", b"application/cloudevents+json"), ("ce_specversion", b"1.0")], "structured"),
        ([("content-type", b"application/CloudEvents+JSON; charset=utf-8")], "structured"),
        ([], "structured"),
        ([("ce_specversion", b"1.0")], "binary"),
        ([("content-type", b"application/json"), ("ce_specversion", b"1.0")], "binary"),
    ],
)
def test_content_mode_follows_the_binding(headers: list[tuple[str, bytes | None]], expected: str) -> None:
    assert binding.content_mode(headers) == expected


async def test_missing_attribute_headers_are_named_as_headers(example_by_name: dict[str, Example]) -> None:
    value, headers = binary_twin(example_by_name["authorization-request/accepted/minimal"].payload())
    headers = [(k, v) for k, v in headers if k not in ("ce_id", "ce_source")]
    outcome = await process(value, headers)
    assert isinstance(outcome, DeadLetter) and outcome.reason == "not_a_cloudevent"
    assert "binary content mode" in outcome.detail and "ce_id" in outcome.detail and "ce_source" in outcome.detail


async def test_a_structured_record_that_is_no_cloudevent_says_how_binary_mode_is_recognised() -> None:
    outcome = await process(b'{"hello": "world"}', [])
    assert isinstance(outcome, DeadLetter) and outcome.reason == "not_a_cloudevent"
    assert "structured content mode" in outcome.detail and "ce_specversion" in outcome.detail


@pytest.mark.parametrize(
    ("change", "reason", "words"),
    [
        (
            lambda v, hs: (v, [*(h for h in hs if h[0] != "ce_sender"), ("ce_sender", b"\xff\xfe")]),
            "not_a_cloudevent",
            "ce_sender is not UTF-8",
        ),
        (lambda v, hs: (v, [*hs, ("ce_id", b"again")]), "not_a_cloudevent", "attribute id given twice"),
        (lambda v, hs: (v, [*hs, ("ce_data", b"{}")]), "not_a_cloudevent", "data travels as the record's value"),
        (lambda v, hs: (v, [*hs, ("ce_source", None)]), "not_a_cloudevent", "has no value"),
        (lambda v, hs: (v[:-3], hs), "not_json", "the value (data) is not JSON"),
        # A value that would add members of its own once spliced into the event is not one JSON value.
        (lambda v, hs: (v + b', "subject": "OTHER-CASE"', hs), "not_json", "binary content mode"),
    ],
)
async def test_binary_mode_records_that_cannot_be_read_are_dead_letters(
    example_by_name: dict[str, Example], change: object, reason: str, words: str
) -> None:
    value, headers = binary_twin(example_by_name["authorization-request/accepted/minimal"].payload())
    value, headers = change(value, headers)  # type: ignore[operator]
    outcome = await process(value, headers)
    assert isinstance(outcome, DeadLetter), outcome
    assert outcome.reason == reason and words in outcome.detail


async def test_a_duplicate_member_in_binary_data_is_refused_with_its_path(example_by_name: dict[str, Example]) -> None:
    value, headers = binary_twin(example_by_name["authorization-request/accepted/minimal"].payload())
    doubled = value[:-1] + b', "district": "028"}'
    outcome = await process(doubled, headers)
    assert isinstance(outcome, Rejection)
    assert ("GW-DUPLICATE_KEY", "data.district") in {(e.code, e.path) for e in outcome.data.errors}


async def test_no_data_is_a_missing_data_field(example_by_name: dict[str, Example]) -> None:
    _, headers = binary_twin(example_by_name["authorization-request/accepted/minimal"].payload())
    outcome = await process(b"", headers)
    assert isinstance(outcome, Rejection)
    assert ("GW-MISSING", "data") in {(e.code, e.path) for e in outcome.data.errors}


async def test_data_under_a_content_type_that_is_not_json_is_refused_by_the_rules(
    example_by_name: dict[str, Example],
) -> None:
    _, headers = binary_twin(example_by_name["authorization-request/accepted/minimal"].payload())
    headers = [(k, v) for k, v in headers if k != "content-type"] + [("content-type", b"application/xml")]
    outcome = await process(b"<solicitud/>", headers)
    assert isinstance(outcome, Rejection)
    assert {"datacontenttype", "data"} <= {e.path for e in outcome.data.errors}


@pytest.mark.parametrize("mode", ["structured", "binary"])
async def test_partitionkey_must_be_the_case(example_by_name: dict[str, Example], mode: str) -> None:
    event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    for partitionkey, accepted in ((event["subject"], True), ("ANOTHER-CASE", False)):
        payload = json.dumps(event | {"partitionkey": partitionkey}).encode()
        value, headers = (payload, []) if mode == "structured" else binary_twin(payload)
        outcome = await process(value, headers)
        if accepted:
            assert isinstance(outcome, Acknowledgment), outcome
        else:
            assert isinstance(outcome, Rejection)
            assert [(e.code, e.path) for e in outcome.data.errors] == [("GW-PARTITION_KEY_MISMATCH", "partitionkey")]


def test_the_binding_raises_only_undecodable_event() -> None:
    with pytest.raises(UndecodableEvent):
        binding.structured(b"{}", [("ce_specversion", b"\x80")])


@pytest.mark.parametrize("content_type", [b"application/json", b"application/json; charset=utf-8", None])
async def test_json_data_may_name_its_charset_or_no_content_type(
    example_by_name: dict[str, Example], content_type: bytes | None
) -> None:
    value, headers = binary_twin(example_by_name["authorization-request/accepted/minimal"].payload())
    headers = [(k, v) for k, v in headers if k != "content-type"]
    if content_type is not None:
        headers.append(("content-type", content_type))
    assert isinstance(await process(value, headers), Acknowledgment)
