"""JSON Schemas of the events, outcomes and customs notifications, generated from the models into
``contracts/schemas/``.

Two schemas per event class, both published contract for back-end developers, named by its CloudEvents ``type``
(the customs notifications, one class for every type of the catalogue, by its ``SCHEMA_NAME``):

    contracts/schemas/<name>.json        the whole event (structured mode: the Kafka value is the envelope),
                                         ``$id`` ``urn:ecuapass-gateway:jsonschema:<name>``
    contracts/schemas/data/<name>.json   ``data`` alone (binary mode: the Kafka value is the data),
                                         ``$id`` the event's ``dataschema`` (``urn:ecuapass-gateway:schema:…``)

The envelope's ``data`` is a ``$ref`` to the ``dataschema`` URN, and the envelope bundles that data schema in its
``$defs`` (a JSON Schema 2020-12 compound document), so each envelope file still validates on its own.
``tests/unit/test_contracts.py`` fails when the files drift from the code. Regenerate with ``make docs``
(``python -m gateway.tools.jsonschemas``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, get_args

from pydantic import BaseModel

from gateway.documents import CASE_EVENTS
from gateway.events import CloudEvent
from gateway.intake.records import NotificationEvent
from gateway.outcomes import Acknowledgment, Rejection
from gateway.resources import contracts_dir

DIALECT = "https://json-schema.org/draft/2020-12/schema"
ENVELOPE_PREFIX = "urn:ecuapass-gateway:jsonschema:"
DATA_FOLDER = "data"
#: Every event with published schemas: what agencies send, what the gateway answers, what customs notifies.
EVENTS: tuple[type[CloudEvent], ...] = (*CASE_EVENTS, Acknowledgment, Rejection, NotificationEvent)
_LOCAL_DEF = "#/$defs/"


def pinned(cls: type[CloudEvent], attribute: str) -> str:
    """The value an event class pins an attribute to (``type``, ``dataschema``)."""
    return str(get_args(cls.model_fields[attribute].annotation)[0])


def schema_name(cls: type[CloudEvent]) -> str:
    """The name of ``cls``'s schema files: its one CloudEvents ``type``, or the ``SCHEMA_NAME`` of a class of many."""
    name = getattr(cls, "SCHEMA_NAME", None)
    return name if isinstance(name, str) else pinned(cls, "type")


def data_schema(cls: type[CloudEvent]) -> dict[str, Any]:
    """The schema of ``cls``'s ``data`` alone, identified by the event's ``dataschema``."""
    model = cls.model_fields["data"].annotation
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        raise TypeError(f"{cls.__name__}: data is not a model ({model})")
    schema = model.model_json_schema(mode="validation")
    return {"$schema": DIALECT, "$id": pinned(cls, "dataschema"), **schema}


def envelope_schema(cls: type[CloudEvent]) -> dict[str, Any]:
    """The schema of the whole event: Pydantic's, with ``data`` referring to the bundled data schema by its URN."""
    schema = cls.model_json_schema(mode="validation")
    data_ref = schema["properties"]["data"]["$ref"]
    if not data_ref.startswith(_LOCAL_DEF):
        raise ValueError(f"{cls.__name__}: data is not a local definition ({data_ref})")
    bundled = data_schema(cls)
    schema["properties"]["data"] = {**schema["properties"]["data"], "$ref": bundled["$id"]}
    # The data's definitions now live in the bundled schema; keep only those the envelope still uses itself.
    definitions = schema.pop("$defs")
    kept = {name: definitions[name] for name in _reachable(schema, definitions)}
    kept[data_ref.removeprefix(_LOCAL_DEF)] = bundled
    return {"$schema": DIALECT, "$id": f"{ENVELOPE_PREFIX}{schema_name(cls)}", **schema, "$defs": kept}


def _reachable(schema: Any, definitions: dict[str, Any]) -> set[str]:
    """Names of the local definitions ``schema`` refers to, directly or through other definitions."""
    found: set[str] = set()
    pending = [schema]
    while pending:
        node = pending.pop()
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_LOCAL_DEF):
                name = ref.removeprefix(_LOCAL_DEF)
                if name not in found:
                    found.add(name)
                    pending.append(definitions[name])
            pending.extend(node.values())
        elif isinstance(node, list):
            pending.extend(node)
    return found


def schemas() -> dict[str, dict[str, Any]]:
    """Path relative to ``contracts/schemas/`` -> JSON Schema: the envelope and the data of every event."""
    generated = {}
    for cls in EVENTS:
        name = f"{schema_name(cls)}.json"
        generated[name] = envelope_schema(cls)
        generated[f"{DATA_FOLDER}/{name}"] = data_schema(cls)
    return generated


def render(schema: dict[str, Any]) -> str:
    return json.dumps(schema, indent=2, ensure_ascii=False, sort_keys=True) + "\n"


def write(folder: Path | None = None) -> list[Path]:
    target = folder or contracts_dir() / "schemas"
    written = []
    for name, schema in schemas().items():
        path = target / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(schema), encoding="utf-8")
        written.append(path)
    return written


if __name__ == "__main__":
    for path in write():
        print(path)
