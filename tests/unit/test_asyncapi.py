"""The AsyncAPI document: ``contracts/asyncapi.yaml`` is what the code generates, and it describes the real topics."""

from __future__ import annotations

import ast
import pkgutil
import re
from collections import defaultdict
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema

from gateway import __version__
from gateway.documents import CASE_EVENTS
from gateway.events import CaseEventBase, event_type
from gateway.kafka import headers
from gateway.kafka.headers import (
    CE_PREFIX,
    CLOUDEVENTS_JSON,
    CONTENT_TYPE,
    DLQ_HEADERS,
    DLQ_OPTIONAL,
    DLQ_QUARANTINED_FROM,
    OCTET_STREAM,
    PASSED,
    TRACEPARENT,
)
from gateway.outcomes import Acknowledgment, Rejection
from gateway.settings import TopicSettings
from gateway.tools import asyncapi

TOPICS = TopicSettings()  # the defaults the published document names
ALL_TOPICS = {TOPICS.input, TOPICS.acks, TOPICS.rejections, TOPICS.dlq, TOPICS.quarantine}
# Binary content mode: every attribute of a case event but data as a ce_* header, datacontenttype as content-type.
ATTRIBUTE_HEADERS = [CE_PREFIX + name for name in CaseEventBase.model_fields if name != "datacontenttype"]
REQUIRED_ATTRIBUTES = [
    CE_PREFIX + name
    for name, field in CaseEventBase.model_fields.items()
    if field.is_required() and all(cls.model_fields[name].is_required() for cls in CASE_EVENTS)
]
DLQ_REQUIRED = {name for name in DLQ_HEADERS if name not in DLQ_OPTIONAL}


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    generated: dict[str, Any] = asyncapi.document()
    return generated


resolve = asyncapi.resolve


def channel(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    (found,) = [c for c in doc["channels"].values() if c["address"] == topic]
    return found


def messages(doc: dict[str, Any], topic: str) -> dict[str, dict[str, Any]]:
    return {name: resolve(doc, ref["$ref"]) for name, ref in channel(doc, topic)["messages"].items()}


def message(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    (found,) = messages(doc, topic).values()
    return found


def every_message(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (c["address"], name, m) for c in doc["channels"].values() for name, m in messages(doc, c["address"]).items()
    ]


def test_asyncapi_file_is_current(doc: dict[str, Any]) -> None:
    assert asyncapi.path().read_text(encoding="utf-8") == asyncapi.render_yaml(doc), "run: make docs"


def test_the_file_reads_back_as_the_document(doc: dict[str, Any]) -> None:
    assert yaml.safe_load(asyncapi.path().read_text(encoding="utf-8")) == doc


def test_the_environment_does_not_change_the_document(doc: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_TOPICS__INPUT", "somewhere.else.v9")
    monkeypatch.setenv("GATEWAY_KAFKA__BOOTSTRAP_SERVERS", "kafka-1.internal:9093")
    assert asyncapi.document() == doc


def test_it_is_an_asyncapi_3_document_faststream_accepts(doc: dict[str, Any]) -> None:
    assert doc["asyncapi"] == "3.0.0"
    assert doc["info"]["version"] == __version__
    assert ApplicationSchema.model_validate(doc).to_jsonable() == doc


def test_info_states_the_delivery_semantics(doc: dict[str, Any]) -> None:
    description = " ".join(doc["info"]["description"].split())  # lines joined
    promises = (
        "At-least-once",
        "deduplicate outcomes by `id`",
        "keyed by the case id",
        "**structured**",
        "**binary**",
        f"`{CE_PREFIX}*` headers",
        "murmur2",
        "`partitioner=murmur2_random`",
        "no `correlation_id` header",
        "quarantine channel",
    )
    for promise in promises:
        assert promise in description


def test_channels_are_the_topics_of_the_default_settings(doc: dict[str, Any]) -> None:
    assert asyncapi.described_topics(doc) == ALL_TOPICS
    actions = {resolve(doc, op["channel"]["$ref"])["address"]: op["action"] for op in doc["operations"].values()}
    assert actions == {TOPICS.input: "receive"} | dict.fromkeys(ALL_TOPICS - {TOPICS.input}, "send")
    for operation in doc["operations"].values():  # an operation's messages are its channel's
        own = resolve(doc, operation["channel"]["$ref"])["messages"]
        assert [resolve(doc, m["$ref"]) for m in operation["messages"]] == list(own.values())
    assert doc["servers"] == {
        "kafka": {
            "host": "127.0.0.1:9092",
            "pathname": "",
            "protocol": "kafka",
            "protocolVersion": "auto",
            "description": doc["servers"]["kafka"]["description"],
        }
    }


def test_input_channel_has_one_message_per_content_mode(doc: dict[str, Any]) -> None:
    modes = messages(doc, TOPICS.input)
    assert list(modes) == ["caseEventStructured", "caseEventBinary"]
    assert modes["caseEventStructured"]["contentType"] == "application/cloudevents+json"
    assert modes["caseEventBinary"]["contentType"] == "application/json"
    assert ApplicationSchema.model_validate(doc).channels["case-events"].messages.keys() == modes.keys()


def test_structured_input_is_one_of_the_case_events(doc: dict[str, Any]) -> None:
    payload = messages(doc, TOPICS.input)["caseEventStructured"]["payload"]
    events = [resolve(doc, option["$ref"]) for option in payload["oneOf"]]
    assert [e["properties"]["type"]["const"] for e in events] == [event_type(cls) for cls in CASE_EVENTS]
    assert all({"specversion", "id", "source", "subject", "sender", "data"} <= set(e["required"]) for e in events)
    assert messages(doc, TOPICS.input)["caseEventStructured"]["correlationId"]["location"] == (
        "$message.payload#/correlationid"
    )


def test_binary_input_is_the_data_alone_with_attributes_in_headers(doc: dict[str, Any]) -> None:
    binary = messages(doc, TOPICS.input)["caseEventBinary"]
    events = [
        resolve(doc, option["$ref"])
        for option in messages(doc, TOPICS.input)["caseEventStructured"]["payload"]["oneOf"]
    ]
    assert binary["payload"]["oneOf"] == [event["properties"]["data"] for event in events]
    described = binary["headers"]
    assert list(described["properties"]) == [CONTENT_TYPE, *ATTRIBUTE_HEADERS, *PASSED]
    assert described["required"] == REQUIRED_ATTRIBUTES
    assert {CE_PREFIX + name for name in ("specversion", "id", "source", "type", "subject", "sender")} <= set(
        REQUIRED_ATTRIBUTES
    )
    assert CONTENT_TYPE not in described["required"]  # datacontenttype has a default
    properties = described["properties"]
    assert properties[CE_PREFIX + "type"]["enum"] == [event_type(cls) for cls in CASE_EVENTS]
    assert properties[CE_PREFIX + "specversion"]["const"] == "1.0"
    assert properties[CE_PREFIX + "time"]["format"] == "date-time"
    assert re.fullmatch(properties[CONTENT_TYPE]["pattern"], binary["contentType"])
    assert re.fullmatch(properties[CONTENT_TYPE]["pattern"], "application/json; charset=utf-8")
    assert all(schema["type"] == "string" for schema in properties.values())  # header values are text
    assert binary["correlationId"]["location"] == f"$message.header#/{CE_PREFIX}correlationid"


def test_structured_input_headers(doc: dict[str, Any]) -> None:
    described = messages(doc, TOPICS.input)["caseEventStructured"]["headers"]
    assert list(described["properties"]) == [CONTENT_TYPE, *PASSED]
    assert "required" not in described and described["additionalProperties"] is True


@pytest.mark.parametrize(
    ("topic", "model"), [(TOPICS.acks, Acknowledgment), (TOPICS.rejections, Rejection)], ids=["ack", "rejection"]
)
def test_outcome_messages_carry_the_outcome_schemas(
    doc: dict[str, Any], topic: str, model: type[Acknowledgment | Rejection]
) -> None:
    outcome = message(doc, topic)
    assert outcome["contentType"] == "application/cloudevents+json"
    assert outcome["bindings"]["kafka"]["key"]["type"] == "string"
    schema = resolve(doc, outcome["payload"]["$ref"])
    expected = model.model_json_schema(mode="validation")
    assert schema["title"] == model.__name__
    assert list(schema["properties"]) == list(expected["properties"])
    assert schema["required"] == expected["required"]
    assert schema["properties"]["type"]["const"] == model.model_fields["type"].default
    data = resolve(doc, schema["properties"]["data"]["$ref"])
    assert list(data["properties"]) == list(expected["$defs"][f"{model.__name__}Data"]["properties"])


def test_rejection_errors_name_code_and_field(doc: dict[str, Any]) -> None:
    data = resolve(doc, resolve(doc, message(doc, TOPICS.rejections)["payload"]["$ref"])["properties"]["data"]["$ref"])
    error = resolve(doc, data["properties"]["errors"]["items"]["$ref"])
    assert {"code", "path", "message_es", "message_en"} <= set(error["required"])


@pytest.mark.parametrize("topic", [TOPICS.acks, TOPICS.rejections], ids=["ack", "rejection"])
def test_outcomes_carry_exactly_content_type_and_the_passed_headers(doc: dict[str, Any], topic: str) -> None:
    described = message(doc, topic)["headers"]
    assert list(described["properties"]) == [CONTENT_TYPE, *PASSED]
    assert described["required"] == [CONTENT_TYPE]
    assert described["additionalProperties"] is False
    assert described["properties"][CONTENT_TYPE]["const"] == CLOUDEVENTS_JSON
    assert "no `correlation_id`" in described["description"]
    assert message(doc, topic)["correlationId"]["location"] == "$message.payload#/correlationid"


def test_dead_letters_are_raw_bytes_with_dlq_headers(doc: dict[str, Any]) -> None:
    letter = message(doc, TOPICS.dlq)
    assert letter["contentType"] == OCTET_STREAM
    value = resolve(doc, letter["payload"]["$ref"])
    assert value["format"] == "binary"
    assert "`unreadable`" in value["description"] and "`too_large`" in value["description"]
    described = letter["headers"]
    assert list(described["properties"]) == [CONTENT_TYPE, *PASSED, *DLQ_HEADERS]
    assert set(described["required"]) == {CONTENT_TYPE} | DLQ_REQUIRED
    assert described["additionalProperties"] is True  # every header of the original record
    assert "byte for byte and in order" in described["description"]
    assert {name: described["properties"][name]["description"] for name in DLQ_HEADERS} == DLQ_HEADERS
    assert "unreadable" in DLQ_HEADERS[headers.DLQ_REASON]


def test_quarantined_letters_are_dead_letters_with_their_origin(doc: dict[str, Any]) -> None:
    quarantined, letter = message(doc, TOPICS.quarantine), message(doc, TOPICS.dlq)
    assert channel(doc, TOPICS.quarantine)["bindings"]["kafka"]["topic"] == TOPICS.quarantine
    assert channel(doc, TOPICS.quarantine)["servers"] == [{"$ref": "#/servers/kafka"}]
    assert quarantined["payload"] == letter["payload"]
    assert quarantined["bindings"] == letter["bindings"]
    described = quarantined["headers"]
    assert list(described["properties"]) == [*letter["headers"]["properties"], DLQ_QUARANTINED_FROM]
    assert set(described["required"]) == {*letter["headers"]["required"], DLQ_QUARANTINED_FROM}


def test_every_message_is_keyed_by_a_string(doc: dict[str, Any]) -> None:
    for _, _, described in every_message(doc):
        assert described["bindings"]["kafka"]["key"]["type"] == "string"


def test_no_header_is_described_twice_differently(doc: dict[str, Any]) -> None:
    texts: dict[str, set[str]] = defaultdict(set)
    forms: dict[str, set[str]] = defaultdict(set)
    for _, _, described in every_message(doc):
        for name, schema in described["headers"]["properties"].items():
            texts[name].add(schema["description"])
            forms[name].add(repr(schema))
    assert {name: found for name, found in texts.items() if len(found) > 1} == {}
    # content-type alone changes its constraint per message (const, examples), never its meaning.
    assert {name: found for name, found in forms.items() if len(found) > 1 and name != CONTENT_TYPE} == {}


def test_every_header_of_the_owner_module_is_described(doc: dict[str, Any]) -> None:
    described = set().union(*asyncapi.described_headers(doc).values())
    owned = {CONTENT_TYPE, TRACEPARENT, *PASSED, *DLQ_HEADERS, DLQ_QUARANTINED_FROM, *ATTRIBUTE_HEADERS}
    assert described == owned


def test_the_generator_spells_no_header_name() -> None:
    """Header names come from gateway/kafka/headers.py, their one owner."""
    names = {CONTENT_TYPE, TRACEPARENT, *PASSED, *DLQ_HEADERS, DLQ_QUARANTINED_FROM, *ATTRIBUTE_HEADERS}
    modules = [Path(asyncapi.__file__).parent / f"{info.name}.py" for info in pkgutil.iter_modules(asyncapi.__path__)]
    assert len(modules) >= 5  # every module of the package, not only its __init__
    literals = {
        node.value
        for module in modules
        for node in ast.walk(ast.parse(module.read_text(encoding="utf-8")))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert literals & names == set()


def test_helpers_say_what_each_topic_carries(doc: dict[str, Any]) -> None:
    described = asyncapi.described_headers(doc)
    assert described.keys() == ALL_TOPICS
    assert described[TOPICS.acks] == described[TOPICS.rejections] == {CONTENT_TYPE, *PASSED}
    assert described[TOPICS.input] == {CONTENT_TYPE, *PASSED, *ATTRIBUTE_HEADERS}
    assert described[TOPICS.quarantine] == described[TOPICS.dlq] | {DLQ_QUARANTINED_FROM}
    required = asyncapi.required_headers(doc)
    assert required[TOPICS.input] == set()  # a structured event needs no header at all
    assert required[TOPICS.dlq] == {CONTENT_TYPE} | DLQ_REQUIRED
    assert asyncapi.open_header_topics(doc) == {TOPICS.input, TOPICS.dlq, TOPICS.quarantine}
    assert asyncapi.described_headers(yaml.safe_load(asyncapi.path().read_text(encoding="utf-8"))) == described


async def test_docs_app_serves_html_yaml_and_json(doc: dict[str, Any]) -> None:
    transport = httpx.ASGITransport(app=asyncapi.create_app(doc))
    async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        for path in asyncapi.HTML_PATHS:
            page = await client.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert all(topic in page.text for topic in ALL_TOPICS)
        assert yaml.safe_load((await client.get(asyncapi.YAML_PATH)).text) == doc
        assert (await client.get(asyncapi.JSON_PATH)).json() == doc
        assert (await client.get("/elsewhere")).status_code == 404
