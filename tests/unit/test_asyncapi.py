"""The AsyncAPI document: ``contracts/asyncapi.yaml`` is what the code generates, and it describes the real topics."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
import yaml
from faststream.specification.asyncapi.v3_0_0.schema import ApplicationSchema

from gateway import __version__, asyncapi
from gateway.events import CASE_EVENTS, event_type
from gateway.outcomes import Acknowledgment, Rejection
from gateway.settings import TopicSettings

TOPICS = TopicSettings()  # the defaults the published document names


@pytest.fixture(scope="module")
def doc() -> dict[str, Any]:
    generated: dict[str, Any] = asyncapi.document()
    return generated


def resolve(doc: dict[str, Any], ref: str) -> dict[str, Any]:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    assert isinstance(node, dict)
    return node


def channel(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    (found,) = [c for c in doc["channels"].values() if c["address"] == topic]
    return found


def message(doc: dict[str, Any], topic: str) -> dict[str, Any]:
    (reference,) = channel(doc, topic)["messages"].values()
    return resolve(doc, reference["$ref"])


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
    description = doc["info"]["description"]
    for promise in ("At-least-once", "deduplicate outcomes by `id`", "keyed by the case id"):
        assert promise in description


def test_channels_are_the_topics_of_the_default_settings(doc: dict[str, Any]) -> None:
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {TOPICS.input, TOPICS.acks, TOPICS.rejections, TOPICS.dlq}
    actions = {resolve(doc, op["channel"]["$ref"])["address"]: op["action"] for op in doc["operations"].values()}
    assert actions == {TOPICS.input: "receive", TOPICS.acks: "send", TOPICS.rejections: "send", TOPICS.dlq: "send"}
    assert doc["servers"] == {
        "kafka": {
            "host": "127.0.0.1:9092",
            "pathname": "",
            "protocol": "kafka",
            "protocolVersion": "auto",
            "description": doc["servers"]["kafka"]["description"],
        }
    }


def test_input_message_is_one_of_the_case_events(doc: dict[str, Any]) -> None:
    payload = message(doc, TOPICS.input)["payload"]
    events = [resolve(doc, option["$ref"]) for option in payload["oneOf"]]
    assert [e["properties"]["type"]["const"] for e in events] == [event_type(cls) for cls in CASE_EVENTS]
    assert all({"specversion", "id", "source", "subject", "sender", "data"} <= set(e["required"]) for e in events)


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


def test_dead_letters_are_raw_bytes_with_dlq_headers(doc: dict[str, Any]) -> None:
    letter = message(doc, TOPICS.dlq)
    assert letter["contentType"] == "application/octet-stream"
    assert resolve(doc, letter["payload"]["$ref"])["format"] == "binary"
    assert {"dlq.reason", "dlq.original.topic", "dlq.original.offset"} <= set(letter["headers"]["properties"])


async def test_docs_app_serves_html_yaml_and_json(doc: dict[str, Any]) -> None:
    transport = httpx.ASGITransport(app=asyncapi.create_app(doc))
    async with httpx.AsyncClient(transport=transport, base_url="http://docs") as client:
        for path in asyncapi.HTML_PATHS:
            page = await client.get(path)
            assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
            assert all(topic in page.text for topic in (TOPICS.input, TOPICS.acks, TOPICS.rejections, TOPICS.dlq))
        assert yaml.safe_load((await client.get(asyncapi.YAML_PATH)).text) == doc
        assert (await client.get(asyncapi.JSON_PATH)).json() == doc
        assert (await client.get("/elsewhere")).status_code == 404
