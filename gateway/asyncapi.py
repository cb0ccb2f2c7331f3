"""The AsyncAPI 3.0 document of the gateway, generated from its FastStream broker into ``contracts/asyncapi.yaml``.

FastStream describes the channels the gateway declares (``gateway/kafka/service.py``: the input subscriber and the
three outcome publishers); this module adds what FastStream cannot see: the case-event payloads (the handler takes
raw records) in both CloudEvents content modes, every header read or written (names and meanings from
``gateway/kafka/headers.py``, value formats from the events' schemas), the Kafka key (the case id) and the
quarantine topic, which only ``ecuapass-gateway dlq replay`` writes. The gateway is built from the settings'
defaults, not the environment, and without connecting; the server is pinned to the default bootstrap address and
every map is sorted, so the file only changes when the code does.

``tests/unit/test_asyncapi.py`` fails when the file drifts; regenerate with ``make docs``
(``python -m gateway.asyncapi``); ``tests/e2e/test_asyncapi_parser.py`` validates it with the official parser.
``described_topics`` and ``described_headers`` say what the document promises, for tests that compare it with what
the gateway really writes. ``ecuapass-gateway docs`` calls ``serve()``: FastStream's HTML page on ``/`` and
``/asyncapi``, the document itself on ``/asyncapi.yaml`` and ``/asyncapi.json``.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import uvicorn
import yaml  # type: ignore[import-untyped]  # no types-PyYAML in the environment
from faststream.specification import AsyncAPI
from faststream.specification.asyncapi.site import get_asyncapi_html
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema
from pydantic.json_schema import models_json_schema
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

import gateway
from gateway.events import CASE_EVENTS, CaseEventBase
from gateway.kafka.headers import (
    CE_PREFIX,
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DLQ_ATTEMPTS,
    DLQ_FIRST_FAILURE,
    DLQ_HEADERS,
    DLQ_LAST_FAILURE,
    DLQ_OPTIONAL,
    DLQ_ORIGINAL_LAST_OFFSET,
    DLQ_ORIGINAL_OFFSET,
    DLQ_ORIGINAL_PARTITION,
    DLQ_PREFIX,
    DLQ_QUARANTINED_FROM,
    JSON,
    OCTET_STREAM,
    PASSED,
    REPLAY_COUNT,
    REPLAYED_FROM,
    TRACEPARENT,
)
from gateway.resources import contracts_dir
from gateway.settings import KafkaSettings, Settings, TopicSettings
from gateway.signals import StopSignal

TITLE = "Ecuapass régimen-51 gateway"
SERVER = "kafka"
QUARANTINE_CHANNEL = "quarantine"
_KAFKA_BINDING_VERSION = "0.4.0"
# The messages' media type names no parameters; the header's value is CLOUDEVENTS_JSON exactly.
_CLOUDEVENTS_MEDIA_TYPE = CLOUDEVENTS_JSON.split(";", 1)[0]
# CloudEvents attributes with a place of their own in binary mode: the value's media type is ``content-type``.
_DATACONTENTTYPE = "datacontenttype"
_CORRELATIONID = "correlationid"
_FRAMEWORK_CORRELATION_ID = "correlation_id"  # FastStream's header, which the gateway never writes

DESCRIPTION = f"""\
Customs agencies' back-ends publish **canonical case events** (CloudEvents 1.0) on the input channel, in either
content mode of the CloudEvents Kafka protocol binding: **structured** (the value is the whole event, JSON;
`{CONTENT_TYPE}: {_CLOUDEVENTS_MEDIA_TYPE}`, or no `{CONTENT_TYPE}` at all) or **binary** (the attributes in
`{CE_PREFIX}*` headers, `{CONTENT_TYPE}` the `{_DATACONTENTTYPE}`, the value the `data` alone). The gateway maps each
event to an XSD-valid XML e-document of régimen 51 (authorization request, export declaration, warehouse entry),
files it with the Ecuapass-style endpoint and publishes exactly one outcome per consumed event: an
**acknowledgment** with the official numbers, a **rejection** naming every offending field, or a **dead letter**
holding the original record byte for byte.

Delivery semantics:

- **At-least-once.** The gateway commits an input offset only after the outcome of that record is published. After a
  crash or a rebalance an event may be consumed again; it is never filed twice with customs (documents go under a
  message id derived from the event, checked with the status query first), but its outcome may be published twice.
- **Outcome ids are deterministic**: derived from the answered event's `source` and `id` and the outcome kind.
  Consumers deduplicate outcomes by `id`; `data.answered_event_id` names the event answered.
- **Keys are case ids**: every record, in and out, is keyed by the case id (the CloudEvent `subject`), so one case's
  events and outcomes stay in one partition and in order. Different cases are processed concurrently.
- **Partitioner**: outcomes are keyed by case id and partitioned with the Java client's murmur2 of the key. Publishers
  on librdkafka (confluent-kafka, node-rdkafka, …) set `partitioner=murmur2_random` to partition their events the
  same way; their default (`consistent_random`, CRC32) keeps a case in one partition too, but not the Java one.
- **Outcomes are structured CloudEvents**, whatever the event's content mode. Their only headers are `{CONTENT_TYPE}`,
  `{TRACEPARENT}` and the replay headers of the event (`{REPLAY_COUNT}`, `{REPLAYED_FROM}`); no
  `{_FRAMEWORK_CORRELATION_ID}` header is written: the correlation id is the payload's `{_CORRELATIONID}`.
- **Dead letters** keep the original key, value and headers (byte for byte, in order) and add `{DLQ_PREFIX}*` headers
  saying why and where from. `ecuapass-gateway dlq replay` publishes them again, and copies those replayed too often
  to the quarantine channel instead.

Topic names are the defaults of `GATEWAY_TOPICS__*`; the server is the default of `GATEWAY_KAFKA__BOOTSTRAP_SERVERS`.
"""

_INPUT_KEY = {
    "type": "string",
    "description": "The case id: the event's `subject` (and its `partitionkey`, when sent).",
}
_OUTCOME_KEY = {"type": "string", "description": "The case id: the CloudEvent `subject` of the event answered."}
_LETTER_KEY = {
    "type": "string",
    "description": "The original record's key, byte for byte (the case id, for a case event); none when it had none.",
}


class _Defaults(Settings):
    """The settings' defaults alone: the published contract does not depend on where it is generated."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def default_settings() -> Settings:
    return _Defaults()


def document() -> dict[str, Any]:
    """The AsyncAPI 3.0 document, as plain JSON-compatible data in a stable order."""
    from gateway.bootstrap import build_gateway

    settings = default_settings()
    broker = build_gateway(settings).broker  # building the broker does not connect
    factory = AsyncAPI(
        broker,
        title=TITLE,
        version=gateway.__version__,
        description=DESCRIPTION,
        license={"name": "Apache-2.0", "url": "https://www.apache.org/licenses/LICENSE-2.0"},
        identifier="urn:ecuapass-gateway:asyncapi",
        schema_version="3.0.0",
    )
    doc: dict[str, Any] = factory.to_specification().to_jsonable()
    _pin_server(doc)
    headers = _Headers()
    topics = settings.topics
    _describe_input(doc, _channel(doc, topics.input), headers)
    for topic in (topics.acks, topics.rejections):
        _describe_cloudevent_outcome(doc, _channel(doc, topic), headers)
    letter = _describe_dead_letters(doc, _channel(doc, topics.dlq), headers)
    _add_quarantine(doc, topics.quarantine, headers, letter)
    plain: dict[str, Any] = json.loads(json.dumps(_ordered(doc)))  # JSON types only, no shared nodes (YAML aliases)
    return plain


class _Dumper(yaml.SafeDumper):  # type: ignore[misc]  # yaml is untyped here
    """Multi-line text as literal blocks, readable in a diff."""


def _text(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_Dumper.add_representer(str, _text)


def render_yaml(doc: dict[str, Any]) -> str:
    return str(yaml.dump(doc, Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120, default_flow_style=False))


def render_json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2, ensure_ascii=False) + "\n"


def path() -> Path:
    return contracts_dir() / "asyncapi.yaml"


def write(target: Path | None = None) -> Path:
    destination = target or path()
    destination.write_text(render_yaml(document()), encoding="utf-8")
    return destination


# -- what the document promises, for tests that compare it with the records written -----------------------------


def described_topics(doc: Mapping[str, Any]) -> set[str]:
    """The topic of every channel."""
    return {channel["address"] for channel in doc["channels"].values()}


def described_headers(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per topic, every header name its messages list (case events: both content modes)."""
    return {
        channel["address"]: {name for message in _messages(doc, channel) for name in _header_schema(message)}
        for channel in doc["channels"].values()
    }


def required_headers(doc: Mapping[str, Any]) -> dict[str, set[str]]:
    """Per topic, the header names every one of its messages requires."""
    return {
        channel["address"]: set.intersection(
            *(set(message.get("headers", {}).get("required", ())) for message in _messages(doc, channel))
        )
        for channel in doc["channels"].values()
    }


def open_header_topics(doc: Mapping[str, Any]) -> set[str]:
    """Topics whose records may carry headers besides the ones listed (what a publisher or an original record
    brought); on the others, a header the document does not list is a bug."""
    return {
        channel["address"]
        for channel in doc["channels"].values()
        if any(message.get("headers", {}).get("additionalProperties", True) for message in _messages(doc, channel))
    }


def _header_schema(message: Mapping[str, Any]) -> dict[str, Any]:
    properties: dict[str, Any] = message.get("headers", {}).get("properties", {})
    return properties


# -- what FastStream leaves out ---------------------------------------------------------------------------------


def _pin_server(doc: dict[str, Any]) -> None:
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


def _channel(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    matches: list[dict[str, Any]] = [c for c in doc["channels"].values() if c.get("address") == topic]
    if len(matches) != 1:
        raise ValueError(f"the broker declares {len(matches)} channels for topic {topic}, expected 1")
    return matches[0]


def _messages(doc: Mapping[str, Any], channel: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The component messages of a channel (FastStream declares one per subscriber or publisher)."""
    found = []
    for reference in channel["messages"].values():
        name = reference["$ref"].removeprefix("#/components/messages/")
        found.append(doc["components"]["messages"][name])
    return found


def _channel_name(doc: dict[str, Any], channel: dict[str, Any]) -> str:
    (name,) = [str(name) for name, candidate in doc["channels"].items() if candidate is channel]
    return name


# -- headers: one description per name ------------------------------------------------------------------------

_COORDINATES = {"type": "string", "pattern": "^.+:[0-9]+:[0-9]+$"}  # topic:partition:offset
_NUMBER = {"type": "string", "pattern": "^[0-9]+$"}
_TIME = {"type": "string", "format": "date-time"}  # RFC 3339, UTC, milliseconds (headers.timestamp)
_HEADER_FORMS: dict[str, dict[str, Any]] = {
    TRACEPARENT: {"type": "string", "examples": ["00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"]},
    REPLAY_COUNT: {"type": "string", "pattern": "^[1-9][0-9]*$"},
    REPLAYED_FROM: _COORDINATES,
    DLQ_QUARANTINED_FROM: _COORDINATES,
    DLQ_ORIGINAL_PARTITION: _NUMBER,
    DLQ_ORIGINAL_OFFSET: _NUMBER,
    DLQ_ORIGINAL_LAST_OFFSET: _NUMBER,
    DLQ_ATTEMPTS: _NUMBER,
    DLQ_FIRST_FAILURE: _TIME,
    DLQ_LAST_FAILURE: _TIME,
}
_HEADER_TEXTS: dict[str, str] = {
    CONTENT_TYPE: f"Media type of the value. Case events: `{_CLOUDEVENTS_MEDIA_TYPE}` (or no header) in structured "
    f"mode, the event's `{_DATACONTENTTYPE}` in binary mode. Acknowledgments and rejections: `{CLOUDEVENTS_JSON}`. "
    f"Dead letters: the original record's, `{OCTET_STREAM}` when it had none.",
    TRACEPARENT: "W3C trace context, `<version>-<trace-id>-<parent-id>-<flags>` (https://www.w3.org/TR/trace-context/)"
    ". On a case event, the publisher's: the gateway's spans join that trace. On an acknowledgment or a rejection, the "
    "context of the gateway's processing (the event's own when the gateway traces nothing). On a dead letter, the "
    "original record's, or the processing's when it had none.",
    REPLAY_COUNT: "How often `ecuapass-gateway dlq replay` published this record again (absent before the first "
    "replay). Copied from a case event onto its outcome, so that a dead letter counts its replays.",
    REPLAYED_FROM: "The dead letter this record was replayed from, as `topic:partition:offset` (absent before the "
    "first replay). Copied from a case event onto its outcome, so that `dlq replay` skips letters that failed again.",
    DLQ_QUARANTINED_FROM: "The dead letter this is a copy of, as `topic:partition:offset`: it had been replayed "
    "`--max-replays` times already, so `dlq replay` set it aside instead of replaying it again.",
} | DLQ_HEADERS
# Attributes whose field in the events' models has no description.
_ATTRIBUTE_TEXTS = {
    "type": "Which case event this is, and so which e-document is filed.",
    "dataschema": "The schema of `data`; each `type` has its own.",
}


class _Headers:
    """Every header the document names: its meaning (one text per name) and the form of its value (always text)."""

    def __init__(self) -> None:
        events = [cls.model_json_schema(mode="validation") for cls in CASE_EVENTS]
        attributes = [name for name in events[0]["properties"] if name != "data"]  # the envelope's order
        required = set.intersection(*(set(event["required"]) for event in events))
        self.forms: dict[str, dict[str, Any]] = dict(_HEADER_FORMS)
        self.texts: dict[str, str] = dict(_HEADER_TEXTS)
        self.attributes: list[str] = []  # binary mode's ce_* headers
        self.binary_content_type: dict[str, Any] = {}  # the form of datacontenttype, which is content-type
        self.required_in_binary_mode: list[str] = []
        for attribute in attributes:
            form = _merged([_as_header(event["properties"][attribute]) for event in events], attribute)
            if attribute == _DATACONTENTTYPE:
                self.binary_content_type = form
                continue
            header = CE_PREFIX + attribute
            meaning = CaseEventBase.model_fields[attribute].description or _ATTRIBUTE_TEXTS[attribute]
            self.texts[header] = f"CloudEvents attribute `{attribute}` (binary content mode). {meaning}"
            self.forms[header] = form
            self.attributes.append(header)
            if attribute in required:
                self.required_in_binary_mode.append(header)

    def schema(
        self,
        description: str,
        names: Iterable[str],
        *,
        required: Iterable[str] = (),
        others: bool,
        content_type: dict[str, Any],
    ) -> dict[str, Any]:
        """A message's ``headers``: ``others`` when a record may carry headers besides ``names``."""
        listed = list(dict.fromkeys(names))
        needed = set(required)
        properties = {
            name: (content_type if name == CONTENT_TYPE else self.forms.get(name, {"type": "string"}))
            | {"description": self.texts[name]}
            for name in listed
        }
        schema: dict[str, Any] = {"type": "object", "description": description, "properties": properties}
        if needed:
            schema["required"] = [name for name in listed if name in needed]
        schema["additionalProperties"] = others
        return schema


def _as_header(schema: Mapping[str, Any]) -> dict[str, Any]:
    """An attribute's JSON Schema as a header's: text, never null, no title or default."""
    options = [option for option in schema.get("anyOf", [schema]) if option.get("type") != "null"]
    (option,) = options
    dropped = {"anyOf", "title", "default", "description"}  # the description is the header's own
    return {"type": "string"} | {key: value for key, value in (schema | option).items() if key not in dropped}


def _merged(forms: list[dict[str, Any]], attribute: str) -> dict[str, Any]:
    """One form for an attribute every event has: the same, or a constant per event (then any of them)."""
    if all(form == forms[0] for form in forms):
        return forms[0]
    if all("const" in form for form in forms):
        rest = [{k: v for k, v in form.items() if k != "const"} for form in forms]
        if all(form == rest[0] for form in rest):
            return rest[0] | {"enum": list(dict.fromkeys(form["const"] for form in forms))}
    raise ValueError(f"the case events disagree on the attribute {attribute}")


# -- messages --------------------------------------------------------------------------------------------------

_STRUCTURED = "caseEventStructured"
_BINARY = "caseEventBinary"


def _kafka(key: Mapping[str, Any]) -> dict[str, Any]:
    return {"kafka": {"key": dict(key), "bindingVersion": _KAFKA_BINDING_VERSION}}


def _describe_input(doc: dict[str, Any], channel: dict[str, Any], headers: _Headers) -> None:
    """The handler reads raw records, so FastStream sees no payload: one message per content mode instead."""
    refs, definitions = models_json_schema(
        [(cls, "validation") for cls in CASE_EVENTS], ref_template="#/components/schemas/{model}"
    )
    schemas = doc["components"]["schemas"]
    for name, schema in definitions["$defs"].items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"two different schemas are named {name}")
        schemas[name] = schema
    events = [refs[(cls, "validation")] for cls in CASE_EVENTS]
    data = [resolve(doc, event["$ref"])["properties"]["data"] for event in events]
    for reference in channel["messages"].values():  # FastStream's message, and its payload schema if unused
        old = doc["components"]["messages"].pop(reference["$ref"].removeprefix("#/components/messages/"))
        payload = old["payload"].get("$ref", "")
        if payload and not _referenced(doc, payload):
            del schemas[payload.removeprefix("#/components/schemas/")]
    messages = doc["components"]["messages"]
    messages[_STRUCTURED] = {
        "name": _STRUCTURED,
        "title": "Case event, structured content mode",
        "summary": "A canonical case event from an agency back-end: the value is the whole CloudEvent, as JSON.",
        "description": f"The mode of a record with `{CONTENT_TYPE}: {_CLOUDEVENTS_MEDIA_TYPE}` (parameters such as "
        f"a charset allowed), or with no `{CE_PREFIX}specversion` header; `{CE_PREFIX}*` headers are then ignored.",
        "contentType": _CLOUDEVENTS_MEDIA_TYPE,
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
            "description": f"The `{_CORRELATIONID}` extension, echoed on the outcome.",
            "location": f"$message.payload#/{_CORRELATIONID}",
        },
        "bindings": _kafka(_INPUT_KEY),
    }
    messages[_BINARY] = {
        "name": _BINARY,
        "title": "Case event, binary content mode",
        "summary": f"A canonical case event whose attributes travel in `{CE_PREFIX}*` headers and whose value is "
        "its `data` alone.",
        "description": f"The mode of a record with a `{CE_PREFIX}specversion` header and a `{CONTENT_TYPE}` that "
        f"is not `{_CLOUDEVENTS_MEDIA_TYPE}`. The gateway rebuilds the structured event from the headers (UTF-8) "
        f"and the value, and applies the same rules and outcomes to it: a missing or bad attribute header makes the "
        f"record a dead letter (`not_a_cloudevent`) or a rejection, as the attribute would in structured mode; a "
        f"value that is not JSON makes it a dead letter (`not_json`).",
        "contentType": JSON,
        "headers": headers.schema(
            f"Attributes as `{CE_PREFIX}<attribute>` headers (`{_DATACONTENTTYPE}` as `{CONTENT_TYPE}`), each at "
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
            "description": f"The `{_CORRELATIONID}` extension, echoed on the outcome.",
            "location": f"$message.header#/{CE_PREFIX}{_CORRELATIONID}",
        },
        "bindings": _kafka(_INPUT_KEY),
    }
    channel["messages"] = {name: {"$ref": f"#/components/messages/{name}"} for name in (_STRUCTURED, _BINARY)}
    _operation(doc, channel)["messages"] = [
        {"$ref": f"#/channels/{_channel_name(doc, channel)}/messages/{name}"} for name in (_STRUCTURED, _BINARY)
    ]


def _describe_cloudevent_outcome(doc: dict[str, Any], channel: dict[str, Any], headers: _Headers) -> None:
    for message in _messages(doc, channel):
        message["summary"] = "An outcome (CloudEvents 1.0, structured mode); its `id` is derived from the event."
        message["contentType"] = _CLOUDEVENTS_MEDIA_TYPE
        message["headers"] = headers.schema(
            f"No other header is written, in particular no `{_FRAMEWORK_CORRELATION_ID}` (the correlation id is "
            f"the payload's `{_CORRELATIONID}`). The replay headers are the event's, when it had them.",
            [CONTENT_TYPE, *PASSED],
            required=[CONTENT_TYPE],
            others=False,
            content_type={"type": "string", "const": CLOUDEVENTS_JSON},
        )
        message["correlationId"] = {
            "description": f"The `{_CORRELATIONID}` extension, echoed from the event answered.",
            "location": f"$message.payload#/{_CORRELATIONID}",
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


def _letter_headers(headers: _Headers, description: str, extra: Iterable[str] = ()) -> dict[str, Any]:
    added = list(extra)
    required = [name for name in DLQ_HEADERS if name not in DLQ_OPTIONAL]
    return headers.schema(
        description,
        [CONTENT_TYPE, *PASSED, *DLQ_HEADERS, *added],
        required=[CONTENT_TYPE, *required, *added],
        others=True,
        content_type={"type": "string", "examples": [OCTET_STREAM, CLOUDEVENTS_JSON]},
    )


def _describe_dead_letters(doc: dict[str, Any], channel: dict[str, Any], headers: _Headers) -> str:
    """The dead-letter message; returns its payload schema's reference, which quarantined letters share."""
    (message,) = _messages(doc, channel)
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


def _add_quarantine(doc: dict[str, Any], topic: str, headers: _Headers, payload: str) -> None:
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


def _operation(doc: dict[str, Any], channel: dict[str, Any]) -> dict[str, Any]:
    reference = f"#/channels/{_channel_name(doc, channel)}"
    (found,) = [op for op in doc["operations"].values() if op["channel"]["$ref"] == reference]
    result: dict[str, Any] = found
    return result


def resolve(doc: Mapping[str, Any], reference: str) -> dict[str, Any]:
    """The node a local ``$ref`` names."""
    node: Any = doc
    for part in reference.removeprefix("#/").split("/"):
        node = node[part]
    if not isinstance(node, dict):
        raise ValueError(f"{reference} names no object")
    return node


def _referenced(node: Any, ref: str) -> bool:
    if isinstance(node, dict):
        return node.get("$ref") == ref or any(_referenced(value, ref) for value in node.values())
    if isinstance(node, list):
        return any(_referenced(value, ref) for value in node)
    return False


# -- stable order ---------------------------------------------------------------------------------------------

_TOP = ("asyncapi", "id", "info", "defaultContentType", "servers", "channels", "operations", "components")


def _ordered(doc: dict[str, Any]) -> dict[str, Any]:
    """Sections in the spec's order; channels, operations, messages and schemas by name; the rest as built."""
    ordered = {key: doc[key] for key in _TOP if key in doc} | {k: v for k, v in doc.items() if k not in _TOP}
    for section in ("servers", "channels", "operations"):
        if section in ordered:
            ordered[section] = dict(sorted(ordered[section].items()))
    components = ordered.get("components", {})
    for section in list(components):
        components[section] = dict(sorted(components[section].items()))
    return ordered


# -- serving --------------------------------------------------------------------------------------------------

HTML_PATHS = ("/", "/asyncapi")
YAML_PATH = "/asyncapi.yaml"
JSON_PATH = "/asyncapi.json"


def create_app(doc: dict[str, Any]) -> Starlette:
    """The document as FastStream's HTML page (its scripts come from a CDN) and as YAML and JSON."""
    html = get_asyncapi_html(ApplicationSchema.model_validate(doc), try_it_out_path=None)  # no broker to try
    bodies = {
        YAML_PATH: (render_yaml(doc), "application/yaml; charset=utf-8"),
        JSON_PATH: (render_json(doc), "application/json"),
    } | {path: (html, "text/html; charset=utf-8") for path in HTML_PATHS}

    async def page(request: Request) -> Response:
        body, media_type = bodies[request.url.path]
        return Response(body.encode("utf-8"), media_type=media_type)

    return Starlette(routes=[Route(path, page, methods=["GET"]) for path in bodies])


async def serve(host: str, port: int) -> None:
    """Serve the docs until SIGINT or SIGTERM, after printing where."""
    with StopSignal() as stop:  # before anything starts, so no signal is missed
        app = create_app(document())
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(128)
        url = f"http://{host}:{sock.getsockname()[1]}"
        print(
            f"AsyncAPI docs on {url}/  (raw: {url}{YAML_PATH}, {url}{JSON_PATH}); Ctrl-C or SIGTERM stops.", flush=True
        )
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", log_config=None)
        server = uvicorn.Server(config)  # log_config=None: uvicorn's records go to the root logger (JSON, masked)
        serving = asyncio.create_task(server.serve(sockets=[sock]), name="asyncapi-docs")
        stopped = asyncio.create_task(stop.wait())
        await asyncio.wait({serving, stopped}, return_when=asyncio.FIRST_COMPLETED)
        server.should_exit = True
        await serving
        stopped.cancel()
        sock.close()


if __name__ == "__main__":
    print(write())
