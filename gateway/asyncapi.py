"""The AsyncAPI 3.0 document of the gateway, generated from its FastStream broker into ``contracts/asyncapi.yaml``.

FastStream describes the channels the gateway declares (``gateway/kafka/service.py``: the input subscriber and the
three outcome publishers); this module adds what FastStream cannot see: the case-event payloads (the handler takes
raw records), the CloudEvents content type and correlation id, the Kafka key (the case id) and the dead-letter
headers. The gateway is built from the settings' defaults, not the environment, and without connecting; the server
is pinned to the default bootstrap address and every map is sorted, so the file only changes when the code does.

``tests/unit/test_asyncapi.py`` fails when the file drifts; regenerate with ``make docs``
(``python -m gateway.asyncapi``). ``ecuapass-gateway docs`` calls ``serve()``: FastStream's HTML page on ``/`` and
``/asyncapi``, the document itself on ``/asyncapi.yaml`` and ``/asyncapi.json``.
"""

from __future__ import annotations

import asyncio
import json
import socket
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
from gateway.events import CASE_EVENTS
from gateway.kafka.service import REPLAY_COUNT, REPLAYED_FROM
from gateway.resources import contracts_dir
from gateway.settings import KafkaSettings, Settings
from gateway.signals import StopSignal

TITLE = "Ecuapass régimen-51 gateway"
SERVER = "kafka"
CLOUDEVENTS_JSON = "application/cloudevents+json"
_KAFKA_BINDING_VERSION = "0.4.0"

DESCRIPTION = """\
Customs agencies' back-ends publish **canonical case events** (CloudEvents 1.0, structured JSON mode) on the input
channel. The gateway maps each one to an XSD-valid XML e-document of régimen 51 (authorization request, export
declaration, warehouse entry), files it with the Ecuapass-style endpoint and publishes exactly one outcome per
consumed event: an **acknowledgment** with the official numbers, a **rejection** naming every offending field, or a
**dead letter** holding the original record byte for byte.

Delivery semantics:

- **At-least-once.** The gateway commits an input offset only after the outcome of that record is published. After a
  crash or a rebalance an event may be consumed again; it is never filed twice with customs (documents go under a
  message id derived from the event, checked with the status query first), but its outcome may be published twice.
- **Outcome ids are deterministic**: derived from the answered event's `source` and `id` and the outcome kind.
  Consumers deduplicate outcomes by `id`; `data.answered_event_id` names the event answered.
- **Keys are case ids**: every record, in and out, is keyed by the case id (the CloudEvent `subject`), so one case's
  events and outcomes stay in one partition and in order. Different cases are processed concurrently.
- Dead letters keep the original key and value; `dlq.*` headers say why and where from
  (`ecuapass-gateway dlq replay` publishes them again).

Topic names are the defaults of `GATEWAY_TOPICS__*`; the server is the default of `GATEWAY_KAFKA__BOOTSTRAP_SERVERS`.
"""

_CASE_ID_KEY = {
    "type": "string",
    "description": "Case id: the CloudEvent `subject` of the event answered (the original key, for dead letters).",
}
_DLQ_HEADERS: dict[str, str] = {
    "dlq.reason": "Why: not_json, not_a_cloudevent, unknown_type, too_large, delivery_failed or internal_error.",
    "dlq.error.class": "Class of the error behind the reason, e.g. PermanentDeliveryError.",
    "dlq.detail": "What went wrong, for a person.",
    "dlq.original.topic": "Topic the record was consumed from.",
    "dlq.original.partition": "Partition the record was consumed from.",
    "dlq.original.offset": "Offset of the record in that partition.",
    "dlq.original.key": "Key of the record (the case id), when it had one.",
    "dlq.attempts": "Filing attempts made before giving up (1 when the record was never filed).",
    "dlq.first.failure": "When the first attempt failed (ISO 8601, UTC).",
    "dlq.last.failure": "When the record was dead-lettered (ISO 8601, UTC).",
    "traceparent": "W3C trace context of the processing, when there was one.",
    REPLAY_COUNT: "How often `dlq replay` re-published this record (absent before the first replay).",
    REPLAYED_FROM: "The dead letter this record was replayed from (topic:partition:offset), after a replay.",
}
_DLQ_REQUIRED = [name for name in _DLQ_HEADERS if name.startswith("dlq.") and name != "dlq.original.key"]


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
    topics = settings.topics
    _describe_input(doc, _channel(doc, topics.input))
    for topic in (topics.acks, topics.rejections):
        _describe_cloudevent_outcome(doc, _channel(doc, topic))
    _describe_dead_letters(doc, _channel(doc, topics.dlq))
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


def _messages(doc: dict[str, Any], channel: dict[str, Any]) -> list[dict[str, Any]]:
    """The component messages of a channel (FastStream declares one per subscriber or publisher)."""
    found = []
    for reference in channel["messages"].values():
        name = reference["$ref"].removeprefix("#/components/messages/")
        found.append(doc["components"]["messages"][name])
    return found


def _describe_input(doc: dict[str, Any], channel: dict[str, Any]) -> None:
    """The handler reads raw records, so FastStream sees no payload: name the case events it accepts."""
    refs, definitions = models_json_schema(
        [(cls, "validation") for cls in CASE_EVENTS], ref_template="#/components/schemas/{model}"
    )
    schemas = doc["components"]["schemas"]
    for name, schema in definitions["$defs"].items():
        if name in schemas and schemas[name] != schema:
            raise ValueError(f"two different schemas are named {name}")
        schemas[name] = schema
    for message in _messages(doc, channel):
        old = message["payload"].get("$ref", "").removeprefix("#/components/schemas/")
        message["payload"] = {
            "oneOf": [refs[(cls, "validation")] for cls in CASE_EVENTS],
            "discriminator": "type",
            "description": "One case event; its `type` says which document to file.",
        }
        _cloudevent(message, "A canonical case event from an agency back-end (CloudEvents 1.0, structured mode).")
        if old and not _referenced(doc, f"#/components/schemas/{old}"):
            del schemas[old]


def _describe_cloudevent_outcome(doc: dict[str, Any], channel: dict[str, Any]) -> None:
    for message in _messages(doc, channel):
        _cloudevent(message, "An outcome (CloudEvents 1.0, structured mode); its `id` is derived from the event.")


def _cloudevent(message: dict[str, Any], summary: str) -> None:
    message["summary"] = summary
    message["contentType"] = CLOUDEVENTS_JSON
    message["correlationId"] = {
        "description": "The `correlationid` extension, echoed from the event on its outcome.",
        "location": "$message.payload#/correlationid",
    }
    message["bindings"] = {"kafka": {"key": _CASE_ID_KEY, "bindingVersion": _KAFKA_BINDING_VERSION}}


def _describe_dead_letters(doc: dict[str, Any], channel: dict[str, Any]) -> None:
    for message in _messages(doc, channel):
        message["summary"] = "A record the gateway could not process: the original value, byte for byte."
        message["contentType"] = "application/octet-stream"
        message.pop("correlationId", None)
        message["headers"] = {
            "type": "object",
            "properties": {name: {"type": "string", "description": text} for name, text in _DLQ_HEADERS.items()},
            "required": _DLQ_REQUIRED,
        }
        message["bindings"] = {"kafka": {"key": _CASE_ID_KEY, "bindingVersion": _KAFKA_BINDING_VERSION}}


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
