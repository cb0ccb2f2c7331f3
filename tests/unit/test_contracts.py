"""The published JSON Schemas: generated from the models, and accepting every example that reaches customs."""

from __future__ import annotations

import json

import jsonschema
import pytest

from gateway import jsonschemas
from gateway.examples import Example
from gateway.resources import contracts_dir
from tests.conftest import example_params


def test_schemas_on_disk_match_the_models() -> None:
    folder = contracts_dir() / "schemas"
    expected = jsonschemas.schemas()
    on_disk = {path.name for path in folder.glob("*.json")}
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
