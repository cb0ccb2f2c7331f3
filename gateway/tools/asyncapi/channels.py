"""What FastStream leaves out of the AsyncAPI document's channels (``gateway/tools/asyncapi/``); ``building.py``
adds it.

FastStream sees the channels the gateway declares (``gateway/kafka/wiring.py``: the input subscriber and the three
outcome publishers) but not what travels on them: the handler takes raw records, so the input gets one message per
CloudEvents content mode with the case events' schemas; every message gets its headers (from ``headers.py``) and its
Kafka key; the quarantine channel, which only ``ecuapass-gateway dlq replay`` writes, is added by hand; and the one
server is renamed and pinned to the default bootstrap address.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic.json_schema import models_json_schema

from gateway.documents import CASE_EVENTS
from gateway.kafka.headers import (
    CE_PREFIX,
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DLQ_HEADERS,
    DLQ_OPTIONAL,
    DLQ_ORIGINAL_LAST_OFFSET,
    DLQ_ORIGINAL_OFFSET,
    DLQ_PREFIX,
    DLQ_QUARANTINED_FROM,
    JSON,
    OCTET_STREAM,
    PASSED,
    TRACEPARENT,
)
from gateway.settings import KafkaSettings, TopicSettings
from gateway.tools.asyncapi.headers import (
    CLOUDEVENTS_MEDIA_TYPE,
    CORRELATIONID,
    DATACONTENTTYPE,
    FRAMEWORK_CORRELATION_ID,
    Headers,
)
from gateway.tools.asyncapi.reading import channel_name, messages, operation, referenced, resolve

SERVER = "kafka"
QUARANTINE_CHANNEL = "quarantine"
_KAFKA_BINDING_VERSION = "0.4.0"

_INPUT_KEY = {
    "type": "string",
    "description": "The case id: the event's `subject` (and its `partitionkey`, when sent).",
}
_OUTCOME_KEY = {"type": "string", "description": "The case id: the CloudEvent `subject` of the event answered."}
_LETTER_KEY = {
    "type": "string",
    "description": "The original record's key, byte for byte (the case id, for a case event); none when it had none.",
}


def pin_server(doc: dict[str, Any]) -> None:
    """FastStream's one server, renamed, at the default bootstrap address; every channel refers to it."""
    (server,) = doc["servers"].values()
    server["host"] = KafkaSettings.model_fields["bootstrap_servers"].default
    server["description"] = (
        "The Kafka cluster of `GATEWAY_KAFKA__BOOTSTRAP_SERVERS` (default shown); PLAINTEXT, SSL, SASL_PLAINTEXT "
        "or SASL_SSL per `GATEWAY_KAFKA__SECURITY_PROTOCOL`."
    )
    doc["servers"] = {SERVER: server}
    for channel in doc["channels"].values():
        channel["servers"] = [{"$ref": f"#/servers/{SERVER}"}]


def _kafka(key: Mapping[str, Any]) -> dict[str, Any]:
    return {"kafka": {"key": dict(key), "bindingVersion": _KAFKA_BINDING_VERSION}}


# -- case events ----------------------------------------------------------------------------------------------

_STRUCTURED = "caseEventStructured"
_BINARY = "caseEventBinary"


def describe_input(doc: dict[str, Any], channel: dict[str, Any], headers: Headers) -> None:
    """The handler reads raw records, so FastStream sees no payload: one message per content mode instead."""
    events = _add_case_event_schemas(doc)
    data = [resolve(doc, event["$ref"])["properties"]["data"] for event in events]
    _drop_faststream_messages(doc, channel)
    components = doc["components"]["messages"]
    components[_STRUCTURED] = _structured_message(headers, events)
    components[_BINARY] = _binary_message(headers, data)
    channel["messages"] = {name: {"$ref": f"#/components/messages/{name}"} for name in (_STRUCTURED, _BINARY)}
    operation(doc, channel)["messages"] = [
        {"$ref": f"#/channels/{channel_name(doc, channel)}/messages/{name}"} for name in (_STRUCTURED, _BINARY)
    ]


def _add_case_event_schemas(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """The case events' schemas (and those they use) added to the components; a reference to each event's."""
    refs, definitions = models_json_schema(
        [(cls, "validation") for cls in CASE_EVENTS], ref_template="#/components/schemas/{model}"
    )
    schemas = doc["components"]["schemas"]
    for name, schema in definitions["$defs"].items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"two different schemas are named {name}")
        schemas[name] = schema
    return [refs[(cls, "validation")] for cls in CASE_EVENTS]


def _drop_faststream_messages(doc: dict[str, Any], channel: dict[str, Any]) -> None:
    """FastStream's message of the channel removed, and its payload schema if nothing else refers to it."""
    schemas = doc["components"]["schemas"]
    for reference in channel["messages"].values():
        old = doc["components"]["messages"].pop(reference["$ref"].removeprefix("#/components/messages/"))
        payload = old["payload"].get("$ref", "")
        if payload and not referenced(doc, payload):
            del schemas[payload.removeprefix("#/components/schemas/")]


def _structured_message(headers: Headers, events: list[dict[str, Any]]) -> dict[str, Any]:
    """The input message in structured content mode: the value is the whole CloudEvent."""
    return {
        "name": _STRUCTURED,
        "title": "Case event, structured content mode",
        "summary": "A canonical case event from an agency back-end: the value is the whole CloudEvent, as JSON.",
        "description": f"The mode of a record with `{CONTENT_TYPE}: {CLOUDEVENTS_MEDIA_TYPE}` (parameters such as "
        f"a charset allowed), or with no `{CE_PREFIX}specversion` header; `{CE_PREFIX}*` headers are then ignored.",
        "contentType": CLOUDEVENTS_MEDIA_TYPE,
        "headers": headers.schema(
            "Read by the gateway; any other header is ignored.",
            [CONTENT_TYPE, *PASSED],
            others=True,
            content_type={"type": "string", "examples": [CLOUDEVENTS_JSON]},
        ),
        "payload": {
            "oneOf": events,
            "discriminator": "type",
            "description": "One case event; its `type` says which document to file.",
        },
        "correlationId": {
            "description": f"The `{CORRELATIONID}` extension, echoed on the outcome.",
            "location": f"$message.payload#/{CORRELATIONID}",
        },
        "bindings": _kafka(_INPUT_KEY),
    }


def _binary_message(headers: Headers, data: list[dict[str, Any]]) -> dict[str, Any]:
    """The input message in binary content mode: attributes in headers, the value the event's ``data`` alone."""
    return {
        "name": _BINARY,
        "title": "Case event, binary content mode",
        "summary": f"A canonical case event whose attributes travel in `{CE_PREFIX}*` headers and whose value is "
        "its `data` alone.",
        "description": f"The mode of a record with a `{CE_PREFIX}specversion` header and a `{CONTENT_TYPE}` that "
        f"is not `{CLOUDEVENTS_MEDIA_TYPE}`. The gateway rebuilds the structured event from the headers (UTF-8) "
        f"and the value, and applies the same rules and outcomes to it: a missing or bad attribute header makes the "
        f"record a dead letter (`not_a_cloudevent`) or a rejection, as the attribute would in structured mode; a "
        f"value that is not JSON makes it a dead letter (`not_json`).",
        "contentType": JSON,
        "headers": headers.schema(
            f"Attributes as `{CE_PREFIX}<attribute>` headers (`{DATACONTENTTYPE}` as `{CONTENT_TYPE}`), each at "
            "most once; any other header is ignored.",
            [CONTENT_TYPE, *headers.attributes, *PASSED],
            required=headers.required_in_binary_mode,
            others=True,
            content_type=headers.binary_content_type,
        ),
        "payload": {
            "oneOf": data,
            "description": f"The event's `data` alone, JSON: the schema of the `{CE_PREFIX}type` header's event.",
        },
        "correlationId": {
            "description": f"The `{CORRELATIONID}` extension, echoed on the outcome.",
            "location": f"$message.header#/{CE_PREFIX}{CORRELATIONID}",
        },
        "bindings": _kafka(_INPUT_KEY),
    }


# -- outcomes -------------------------------------------------------------------------------------------------


def describe_cloudevent_outcome(doc: dict[str, Any], channel: dict[str, Any], headers: Headers) -> None:
    """An acknowledgment's or a rejection's messages: structured CloudEvents with the few headers written."""
    for message in messages(doc, channel):
        message["summary"] = "An outcome (CloudEvents 1.0, structured mode); its `id` is derived from the event."
        message["contentType"] = CLOUDEVENTS_MEDIA_TYPE
        message["headers"] = headers.schema(
            f"No other header is written, in particular no `{FRAMEWORK_CORRELATION_ID}` (the correlation id is "
            f"the payload's `{CORRELATIONID}`). The replay headers are the event's, when it had them.",
            [CONTENT_TYPE, *PASSED],
            required=[CONTENT_TYPE],
            others=False,
            content_type={"type": "string", "const": CLOUDEVENTS_JSON},
        )
        message["correlationId"] = {
            "description": f"The `{CORRELATIONID}` extension, echoed from the event answered.",
            "location": f"$message.payload#/{CORRELATIONID}",
        }
        message["bindings"] = _kafka(_OUTCOME_KEY)


_LETTER_HEADERS = (
    f"Every header of the original record, byte for byte and in order (binary mode's `{CE_PREFIX}*` headers, "
    f"`{TRACEPARENT}` and the replay headers among them) but `{DLQ_PREFIX}*` headers a producer set; then "
    f"`{CONTENT_TYPE}: {OCTET_STREAM}` and the processing's `{TRACEPARENT}` when the original had none; then the "
    f"gateway's `{DLQ_PREFIX}*` headers."
)
_LETTER_VALUE = (
    "The original record's value, byte for byte; only its first 4 KiB for reason `too_large`; empty for reason "
    f"`unreadable` (the client could not read the records from `{DLQ_ORIGINAL_OFFSET}` to "
    f"`{DLQ_ORIGINAL_LAST_OFFSET}`)."
)


def _letter_headers(headers: Headers, description: str, extra: Iterable[str] = ()) -> dict[str, Any]:
    added = list(extra)
    required = [name for name in DLQ_HEADERS if name not in DLQ_OPTIONAL]
    return headers.schema(
        description,
        [CONTENT_TYPE, *PASSED, *DLQ_HEADERS, *added],
        required=[CONTENT_TYPE, *required, *added],
        others=True,
        content_type={"type": "string", "examples": [OCTET_STREAM, CLOUDEVENTS_JSON]},
    )


def describe_dead_letters(doc: dict[str, Any], channel: dict[str, Any], headers: Headers) -> str:
    """The dead-letter message; returns its payload schema's reference, which quarantined letters share."""
    (message,) = messages(doc, channel)
    message["summary"] = "A record the gateway could not process: the original value, byte for byte."
    message["contentType"] = OCTET_STREAM
    message.pop("correlationId", None)
    message["headers"] = _letter_headers(
        headers,
        _LETTER_HEADERS,
    )
    message["bindings"] = _kafka(_LETTER_KEY)
    reference: str = message["payload"]["$ref"]
    resolve(doc, reference)["description"] = _LETTER_VALUE
    return reference


def add_quarantine(doc: dict[str, Any], topic: str, headers: Headers, payload: str) -> None:
    """The topic ``dlq replay`` copies letters to: no FastStream publisher writes it, so it is added by hand."""
    name = QUARANTINE_CHANNEL
    message = f"{name}:Message"
    doc["channels"][name] = {
        "address": topic,
        "description": f"{TopicSettings.model_fields['quarantine'].description} Written by `ecuapass-gateway dlq "
        "replay` only, for a person to look at: nothing replays it.",
        "servers": [{"$ref": f"#/servers/{SERVER}"}],
        "messages": {"Message": {"$ref": f"#/components/messages/{message}"}},
        "bindings": {"kafka": {"topic": topic, "bindingVersion": _KAFKA_BINDING_VERSION}},
    }
    doc["operations"][name] = {
        "action": "send",
        "channel": {"$ref": f"#/channels/{name}"},
        "summary": "`ecuapass-gateway dlq replay` copies a dead letter here when it was replayed too often.",
        "messages": [{"$ref": f"#/channels/{name}/messages/Message"}],
    }
    doc["components"]["messages"][message] = {
        "title": message,
        "summary": "A dead letter set aside: its key, value and headers, and where it was.",
        "contentType": OCTET_STREAM,
        "headers": _letter_headers(
            headers,
            f"The dead letter's headers, byte for byte and in order, then `{DLQ_QUARANTINED_FROM}`.",
            [DLQ_QUARANTINED_FROM],
        ),
        "payload": {"$ref": payload},
        "bindings": _kafka(_LETTER_KEY),
    }
