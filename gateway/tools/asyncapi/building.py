"""The AsyncAPI 3.0 document of the gateway (``gateway/tools/asyncapi/``), built from its FastStream broker.

``document()`` orders the steps: wire the broker from the settings' defaults (``gateway.kafka.wiring``: not the
environment, no gateway, nothing connects), let FastStream describe it, pin the server and complete the channels
(``channels.py``, with the headers of ``headers.py``), then sort every map, so that the document only changes when
the code does.
``rendering.py`` turns it into text and writes ``contracts/asyncapi.yaml``; ``serving.py`` serves it.
"""

from __future__ import annotations

import json
from typing import Any

from faststream.specification import AsyncAPI
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

import gateway
from gateway.kafka.headers import CE_PREFIX, CONTENT_TYPE, DLQ_PREFIX, REPLAY_COUNT, REPLAYED_FROM, TRACEPARENT
from gateway.kafka.wiring import wire
from gateway.settings import Settings
from gateway.tools.asyncapi.channels import (
    add_quarantine,
    describe_cloudevent_outcome,
    describe_dead_letters,
    describe_input,
    pin_server,
)
from gateway.tools.asyncapi.headers import (
    CLOUDEVENTS_MEDIA_TYPE,
    CORRELATIONID,
    DATACONTENTTYPE,
    FRAMEWORK_CORRELATION_ID,
    Headers,
)
from gateway.tools.asyncapi.reading import find_channel

TITLE = "Ecuapass régimen-51 gateway"

DESCRIPTION = f"""\
Customs agencies' back-ends publish **canonical case events** (CloudEvents 1.0) on the input channel, in either
content mode of the CloudEvents Kafka protocol binding: **structured** (the value is the whole event, JSON;
`{CONTENT_TYPE}: {CLOUDEVENTS_MEDIA_TYPE}`, or no `{CONTENT_TYPE}` at all) or **binary** (the attributes in
`{CE_PREFIX}*` headers, `{CONTENT_TYPE}` the `{DATACONTENTTYPE}`, the value the `data` alone). The gateway maps each
event to an XSD-valid XML e-document of régimen 51 (authorization request, export declaration, warehouse entry),
files it with the Ecuapass-style endpoint and publishes exactly one outcome per consumed event: an
**acknowledgment** with the official numbers, a **rejection** naming every offending field, or a **dead letter**
holding the original record byte for byte.

Delivery semantics:

- **At-least-once.** The gateway commits an input offset only after the outcome of that record is published. After a
  crash or a rebalance an event may be consumed again; it is never filed twice with customs (documents go under a
  message id derived from the event, checked with the status query first), but its outcome may be published twice.
- **Outcome ids are deterministic**: derived from the answered event's `source` and `id` and the outcome.
  Consumers deduplicate outcomes by `id`; `data.answered_event_id` names the event answered.
- **Keys are case ids**: every record, in and out, is keyed by the case id (the CloudEvent `subject`), so one case's
  events and outcomes stay in one partition and in order. Different cases are processed concurrently.
- **Partitioner**: outcomes are keyed by case id and partitioned with the Java client's murmur2 of the key. Publishers
  on librdkafka (confluent-kafka, node-rdkafka, …) set `partitioner=murmur2_random` to partition their events the
  same way; their default (`consistent_random`, CRC32) keeps a case in one partition too, but not the Java one.
- **Outcomes are structured CloudEvents**, whatever the event's content mode. Their only headers are `{CONTENT_TYPE}`,
  `{TRACEPARENT}` and the replay headers of the event (`{REPLAY_COUNT}`, `{REPLAYED_FROM}`); no
  `{FRAMEWORK_CORRELATION_ID}` header is written: the correlation id is the payload's `{CORRELATIONID}`.
- **Dead letters** keep the original key, value and headers (byte for byte, in order) and add `{DLQ_PREFIX}*` headers
  saying why and where from. `ecuapass-gateway dlq replay` publishes them again, and copies those replayed too often
  to the quarantine channel instead.

Topic names are the defaults of `GATEWAY_TOPICS__*`; the server is the default of `GATEWAY_KAFKA__BOOTSTRAP_SERVERS`.
"""


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
    settings = default_settings()
    broker = wire(settings).broker
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
    pin_server(doc)
    headers = Headers()
    topics = settings.topics
    describe_input(doc, find_channel(doc, topics.input), headers)
    for topic in (topics.acks, topics.rejections):
        describe_cloudevent_outcome(doc, find_channel(doc, topic), headers)
    letter = describe_dead_letters(doc, find_channel(doc, topics.dlq), headers)
    add_quarantine(doc, topics.quarantine, headers, letter)
    plain: dict[str, Any] = json.loads(json.dumps(_ordered(doc)))  # JSON types only, no shared nodes (YAML aliases)
    return plain


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
