"""The data schemas (``contracts/schemas/data/``): what an event's ``dataschema`` names, for binary-mode producers.

Checked with the ``jsonschema`` library, not Pydantic: every schema is found through a ``referencing`` registry of
the shipped files, by its ``$id`` (the ``dataschema`` value), never by its path.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, get_args

import pytest
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from adapters.fake_customs_endpoint import FakeCustomsEndpoint
from gateway.events import CloudEvent
from gateway.outcomes import Acknowledgment, Rejection
from gateway.pipeline import InboundRecord, Pipeline
from gateway.resources import contracts_dir
from gateway.tools import jsonschemas
from gateway.tools.examples import Example
from tests.conftest import example_params

EVENTS: tuple[type[CloudEvent], ...] = jsonschemas.EVENTS
DATA_FOLDER = contracts_dir() / "schemas" / "data"


@cache
def shipped() -> dict[str, dict[str, Any]]:
    """Every shipped schema file, by its path relative to ``contracts/schemas/``."""
    folder = contracts_dir() / "schemas"
    return {
        path.relative_to(folder).as_posix(): json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(folder.rglob("*.json"))
    }


@cache
def registry() -> Registry[Any]:
    """The shipped files by ``$id``. Each envelope bundles a copy of its data schema under the same ``$id``
    (``test_contracts.py`` checks they are equal); the data files come last, so a ``dataschema`` resolves to them."""
    envelopes, data = [], []
    for path, schema in shipped().items():
        (data if path.startswith("data/") else envelopes).append((schema["$id"], Resource.from_contents(schema)))
    return Registry().with_resources(envelopes).crawl().with_resources(data).crawl()


def validator(schema_id: str) -> Draft202012Validator:
    """A validator for the shipped schema with this ``$id``, resolved through the registry."""
    return Draft202012Validator({"$ref": schema_id}, registry=registry())


def pinned(cls: type[CloudEvent], attribute: str) -> str:
    return str(get_args(cls.model_fields[attribute].annotation)[0])


def problems(schema_id: str, instance: object) -> list[str]:
    return [f"{e.json_path}: {e.message}" for e in validator(schema_id).iter_errors(instance)]


@pytest.mark.parametrize("cls", EVENTS, ids=lambda cls: cls.__name__)
def test_every_dataschema_is_the_id_of_exactly_one_shipped_schema(cls: type[CloudEvent]) -> None:
    dataschema = pinned(cls, "dataschema")
    holders = [path for path, schema in shipped().items() if schema.get("$id") == dataschema]
    assert holders == [f"data/{jsonschemas.schema_name(cls)}.json"]


@pytest.mark.parametrize("path", sorted(DATA_FOLDER.glob("*.json")), ids=lambda path: path.stem)
def test_data_schemas_are_draft_2020_12_schemas_of_an_object(path: Path) -> None:
    schema = shipped()[f"data/{path.name}"]
    Draft202012Validator.check_schema(schema)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["type"] == "object" and schema["additionalProperties"] is False


def test_there_is_one_data_schema_per_event() -> None:
    expected = sorted(f"{jsonschemas.schema_name(cls)}.json" for cls in EVENTS)
    assert sorted(p.name for p in DATA_FOLDER.glob("*.json")) == expected


@pytest.mark.parametrize("example", example_params("accepted", "rejected"))
def test_example_data_follows_the_schema_its_dataschema_names(example: Example) -> None:
    event = json.loads(example.payload())
    assert problems(event["dataschema"], event["data"]) == []


@pytest.mark.parametrize(
    "name",
    [
        "authorization-request/accepted/minimal",
        "export-declaration/accepted/minimal",
        "warehouse-entry/accepted/minimal",
    ],
)
def test_data_schema_refuses_a_broken_data_naming_the_path(name: str, example_by_name: dict[str, Example]) -> None:
    event = json.loads(example_by_name[name].payload())
    data = event["data"]
    data["district"] = "999"
    data["surprise"] = True
    del data["local_reference"]
    errors = list(validator(event["dataschema"]).iter_errors(data))
    assert {(e.json_path, e.validator) for e in errors} == {
        ("$.district", "enum"),
        ("$", "additionalProperties"),
        ("$", "required"),
    }
    assert any("'surprise'" in e.message for e in errors if e.validator == "additionalProperties")


def test_data_schema_names_the_path_of_a_nested_error(example_by_name: dict[str, Example]) -> None:
    event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    event["data"]["items"][0]["tariff_code"] = "84"
    event["data"]["applicant"]["nickname"] = "x"
    paths = {e.json_path for e in validator(event["dataschema"]).iter_errors(event["data"])}
    assert paths == {"$.items[0].tariff_code", "$.applicant"}


def test_a_data_schema_is_not_the_envelope_schema(example_by_name: dict[str, Example]) -> None:
    """A binary-mode producer validating a whole envelope by mistake is told so."""
    event = json.loads(example_by_name["authorization-request/accepted/minimal"].payload())
    assert problems(event["dataschema"], event) != []


@pytest.mark.parametrize("example", example_params("accepted", "invalid"))
async def test_outcomes_the_gateway_publishes_follow_both_their_schemas(example: Example) -> None:
    """Accepted examples are acknowledged, invalid ones rejected by the gateway: real outcomes, as published."""
    pipeline = Pipeline(FakeCustomsEndpoint(), source="urn:test-gateway", max_event_bytes=64 * 1024)
    outcome = await pipeline.process(InboundRecord(example.payload(), example.key(), {}, "in", 0, 0))
    assert isinstance(outcome, Acknowledgment if example.expected == "accepted" else Rejection)
    body = json.loads(outcome.model_dump_json())
    assert problems(body["dataschema"], body["data"]) == []
    assert problems(f"urn:ecuapass-gateway:jsonschema:{body['type']}", body) == []
