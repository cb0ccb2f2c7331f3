"""The published envelope JSON Schemas: generated from the models, and accepting every example that reaches customs.

The data schemas (``contracts/schemas/data/``, what ``dataschema`` names) have their own tests:
``test_dataschemas.py``.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from referencing import Registry
from referencing._core import Resolver  # not re-exported by the package; only a type here
from referencing.jsonschema import DRAFT202012

from gateway.events import CloudEvent
from gateway.resources import contracts_dir
from gateway.tools import jsonschemas
from gateway.tools.examples import Example
from tests.conftest import example_params

EVENTS: tuple[type[CloudEvent], ...] = jsonschemas.EVENTS


def test_schemas_on_disk_match_the_models() -> None:
    folder = contracts_dir() / "schemas"
    expected = jsonschemas.schemas()
    on_disk = {path.relative_to(folder).as_posix() for path in folder.rglob("*.json")}
    assert on_disk == set(expected), "run: make docs"
    for name, schema in expected.items():
        assert (folder / name).read_text(encoding="utf-8") == jsonschemas.render(schema), f"{name}: run make docs"


@pytest.mark.parametrize("example", example_params("accepted", "rejected"))
def test_examples_follow_the_published_schema(example: Example) -> None:
    event = json.loads(example.payload())
    schema = json.loads((contracts_dir() / "schemas" / f"{event['type']}.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(event, schema, cls=jsonschema.Draft202012Validator)


def test_schema_refuses_what_the_gateway_refuses(example_by_name: dict[str, Example]) -> None:
    event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    event["data"]["district"] = "999"
    event["data"]["surprise"] = True
    schema = json.loads(
        (contracts_dir() / "schemas" / "ecuapass.regime51.authorization-requested.v1.json").read_text(encoding="utf-8")
    )
    errors = list(jsonschema.Draft202012Validator(schema).iter_errors(event))
    assert {tuple(e.absolute_path) for e in errors} >= {("data", "district"), ("data",)}


def _envelope(cls: type[CloudEvent]) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(
        (contracts_dir() / "schemas" / f"{jsonschemas.schema_name(cls)}.json").read_text(encoding="utf-8")
    )
    return schema


def _resolver(schema: dict[str, Any], uri: str) -> Resolver[Any]:
    """A resolver that sees ``schema`` alone (and the resources it bundles), nothing else."""
    return Registry().with_resource(uri, DRAFT202012.create_resource(schema)).crawl().resolver(base_uri=uri)


def _expanded(node: Any, resolver: Resolver[Any]) -> Any:
    """``node`` with each ``$ref`` replaced by an ``allOf`` of its target, expanded too; ids and definitions dropped.

    Two schemas with equal expansions accept exactly the same instances (the models have no recursive types)."""
    if isinstance(node, list):
        return [_expanded(item, resolver) for item in node]
    if not isinstance(node, dict):
        return node
    if "$id" in node:
        resolver = resolver.in_subresource(DRAFT202012.create_resource(node))
    expanded = {k: _expanded(v, resolver) for k, v in node.items() if k not in {"$ref", "$defs", "$id", "$schema"}}
    if "$ref" in node:
        target = resolver.lookup(node["$ref"])
        expanded["allOf"] = [*expanded.get("allOf", []), _expanded(target.contents, target.resolver)]
    return expanded


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.__name__)
def test_envelope_data_is_the_data_schema_its_dataschema_names(cls: type[CloudEvent]) -> None:
    envelope = _envelope(cls)
    dataschema = envelope["properties"]["dataschema"]["const"]
    assert envelope["properties"]["data"] == {"$ref": dataschema}
    bundled = _resolver(envelope, envelope["$id"]).lookup(dataschema).contents
    data_file = contracts_dir() / "schemas" / "data" / f"{jsonschemas.schema_name(cls)}.json"
    assert bundled == json.loads(data_file.read_text(encoding="utf-8"))


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.__name__)
def test_envelope_accepts_what_the_models_own_schema_accepts(cls: type[CloudEvent]) -> None:
    """Referring to the data schema changed no rule: the envelope expands to Pydantic's schema of the whole event."""
    envelope = _envelope(cls)
    before = cls.model_json_schema(mode="validation")
    assert _expanded(envelope, _resolver(envelope, envelope["$id"])) == _expanded(
        before, _resolver(before, "urn:test:pydantic-envelope")
    )
