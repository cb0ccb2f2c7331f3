"""What the client matrix sends and reads back, whatever the client: case events in both CloudEvents content modes,
and outcomes as records, read again with the CloudEvents SDK.

Events are written four ways from one example: structured as the file is, binary by hand (the Kafka protocol
binding: attribute ``x`` in header ``ce_x``, ``datacontenttype`` in ``content-type``, ``data`` as the value), and
with the SDK, in both modes through its 2.x API (``cloudevents.core.bindings.kafka``) and in binary mode through its
1.x API (``cloudevents.v1.kafka``). The header names are spelt out here rather than imported from the gateway: they
are the binding's, and the point is to write them as an integrator would.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cloudevents.core.bindings import kafka as sdk_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.core.v1.event import CloudEvent
from cloudevents.v1 import kafka as legacy_kafka
from cloudevents.v1.http import CloudEvent as LegacyCloudEvent

from gateway.tools.examples import Example

Mode = Literal["structured", "binary", "binary-sdk", "binary-sdk-v1", "structured-sdk"]
MODES: tuple[Mode, ...] = ("structured", "binary", "binary-sdk", "binary-sdk-v1", "structured-sdk")
Header = tuple[str, bytes | None]

STRUCTURED_CONTENT_TYPE = b"application/cloudevents+json"
# Every attribute the case events carry, in the order a hand-written producer would set them.
ATTRIBUTES = ("specversion", "id", "source", "type", "subject", "time", "dataschema", "sender", "correlationid")
# What FastStream used to add to every record it published: no outcome may carry it.
FRAMEWORK_HEADER = "correlation_id"
OUTCOME_BY_TYPE = {
    "ecuapass.gateway.document-accepted.v1": "accepted",
    "ecuapass.gateway.document-rejected.v1": "rejected",
}


@dataclass(frozen=True)
class Record:
    """A case event as a record to produce, with the event it carries (as structured JSON) for the checks."""

    event: dict[str, Any]
    mode: Mode
    value: bytes
    headers: list[Header] = field(default_factory=list)
    codec: str = "none"

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def key(self) -> bytes:
        return str(self.event["subject"]).encode()


@dataclass(frozen=True)
class Received:
    """A record read from an outcome topic, headers as they came (names, bytes, in order)."""

    topic: str
    partition: int
    key: bytes | None
    value: bytes
    headers: list[Header]

    def header(self, name: str) -> bytes | None:
        values = [value for key, value in self.headers if key == name]
        return values[-1] if values else None

    def body(self) -> dict[str, Any]:
        parsed = json.loads(self.value)
        assert isinstance(parsed, dict)
        return parsed

    @property
    def outcome(self) -> str:
        return OUTCOME_BY_TYPE.get(self.body().get("type", ""), "unknown")

    def codes(self) -> tuple[str, ...]:
        return tuple(sorted(error["code"] for error in self.body()["data"].get("errors", ())))


def variant(example: Example, tag: str) -> dict[str, Any]:
    """The example as a new event of a new case: its own id, case id, correlation id and local reference (the mock
    refuses a second document under the same reference)."""
    event: dict[str, Any] = json.loads(example.payload())
    event["id"] = f"{event['id']}-{tag}"
    event["subject"] = f"{event['subject']}-{tag}"
    event["correlationid"] = f"corr-{event['subject']}"
    reference = f"{event['data']['local_reference']}-{tag}"
    assert len(reference) <= 35, f"tag {tag} too long for a local reference"
    event["data"]["local_reference"] = reference
    return event


def record(event: dict[str, Any], mode: Mode, codec: str = "none", extra: Sequence[Header] = ()) -> Record:
    """``event`` written in ``mode``; ``extra`` headers go after the binding's."""
    value, headers = _WRITERS[mode](event)
    return Record(event, mode, value, [*headers, *extra], codec)


def _structured(event: dict[str, Any]) -> tuple[bytes, list[Header]]:
    return json.dumps(event, ensure_ascii=False).encode(), [("content-type", STRUCTURED_CONTENT_TYPE)]


def _binary(event: dict[str, Any]) -> tuple[bytes, list[Header]]:
    headers: list[Header] = [(f"ce_{name}", str(event[name]).encode()) for name in ATTRIBUTES if name in event]
    headers.append(("content-type", str(event["datacontenttype"]).encode()))
    return json.dumps(event["data"], ensure_ascii=False).encode(), headers


def _sdk_event(event: dict[str, Any]) -> CloudEvent:
    attributes = {name: value for name, value in event.items() if name != "data"}
    attributes["time"] = datetime.fromisoformat(attributes["time"])
    return CloudEvent(attributes, event["data"])


def _binary_sdk(event: dict[str, Any]) -> tuple[bytes, list[Header]]:
    message = sdk_kafka.to_binary(_sdk_event(event), JSONFormat(), key_mapper=lambda e: e.get_subject())
    assert message.key == event["subject"]
    return message.value, list(message.headers.items())


def _binary_sdk_v1(event: dict[str, Any]) -> tuple[bytes, list[Header]]:
    legacy = LegacyCloudEvent.create({k: v for k, v in event.items() if k != "data"}, event["data"])
    message = legacy_kafka.to_binary(legacy, key_mapper=lambda e: e["subject"])
    assert message.key == event["subject"]
    value = message.value
    return value.encode() if isinstance(value, str) else value, list(message.headers.items())


def _structured_sdk(event: dict[str, Any]) -> tuple[bytes, list[Header]]:
    message = sdk_kafka.to_structured(_sdk_event(event), JSONFormat(), key_mapper=lambda e: e.get_subject())
    assert message.key == event["subject"]
    return message.value, list(message.headers.items())


_WRITERS = {
    "structured": _structured,
    "binary": _binary,
    "binary-sdk": _binary_sdk,
    "binary-sdk-v1": _binary_sdk_v1,
    "structured-sdk": _structured_sdk,
}


def answers(received: Iterable[Received]) -> dict[str, list[Received]]:
    """Acknowledgments and rejections by the id of the event they answer."""
    found: dict[str, list[Received]] = {}
    for outcome in received:
        found.setdefault(str(outcome.body()["data"]["answered_event_id"]), []).append(outcome)
    return found


def check_outcome_record(outcome: Received) -> None:
    """The record of an acknowledgment or rejection: keyed by case id, structured, no framework header."""
    body = outcome.body()
    assert outcome.key == str(body["subject"]).encode()
    assert FRAMEWORK_HEADER not in {name for name, _ in outcome.headers}, outcome.headers
    content_type = outcome.header("content-type")
    assert content_type is not None and content_type.startswith(STRUCTURED_CONTENT_TYPE), outcome.headers
    assert not [name for name, _ in outcome.headers if name.startswith("ce_")]  # structured: no binary attributes


def read_with_sdks(outcome: Received) -> None:
    """The outcome as the CloudEvents SDK reads it, through both of its APIs: the attributes and data come through."""
    body = outcome.body()
    headers = {name: value or b"" for name, value in outcome.headers}
    # 2.x: from_kafka picks the content mode itself (binary when any ce_ header is there).
    event = sdk_kafka.from_kafka(sdk_kafka.KafkaMessage(headers, outcome.key, outcome.value), JSONFormat())
    assert (event.get_id(), event.get_type(), event.get_source(), event.get_subject()) == (
        body["id"],
        body["type"],
        body["source"],
        body["subject"],
    )
    assert event.get_data() == body["data"]
    assert event.get_time() == datetime.fromisoformat(body["time"])
    assert event.get_extension("correlationid") == body.get("correlationid")
    # 1.x: every header becomes an attribute of the event, so a stray header shows up in the event itself.
    legacy = legacy_kafka.from_structured(legacy_kafka.KafkaMessage(headers, outcome.key, outcome.value))
    assert (legacy["id"], legacy["type"], legacy["source"], legacy["subject"]) == (
        body["id"],
        body["type"],
        body["source"],
        body["subject"],
    )
    assert legacy.get_data() == body["data"]
    assert FRAMEWORK_HEADER not in legacy.get_attributes()
