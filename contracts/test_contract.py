"""The gateway's contract, checked from the outside: publish every example event, read what comes back.

The same cases run in every environment (``--contract-env``): each example must get exactly the outcome its place
in the examples folder names (``gateway.tools.examples.verdict``), in the shape the published JSON Schemas describe, and
answering the event that was sent.
"""

from __future__ import annotations

import json
import re

import pytest

from gateway.contract.customs_codes import BY_CODE
from gateway.devstack.environments import ContractRun
from gateway.resources import contracts_dir
from gateway.tools.examples import Example, Received, verdict

OFFICIAL_NUMBER = {
    "authorization-request": re.compile(r"\d{3}-\d{4}-AUT51-\d{8}"),
    "export-declaration": re.compile(r"\d{3}-\d{4}-51-\d{8}"),
    "warehouse-entry": re.compile(r"\d{3}-\d{4}-IE51-\d{8}"),
}


def _outcome(run: ContractRun, case: Example) -> Received:
    received = run.outcomes.get(case)
    if received is None:
        waiting = [name for name in case.requires() if run.outcomes.get(_by_name(run, name)) is None]
        why = f"its prerequisite {waiting} got none" if waiting else f"none within {run.timeout_s:.0f} s"
        pytest.fail(f"no outcome for {case.name} ({run.environment}): {why}")
    return received


def _by_name(run: ContractRun, name: str) -> Example | None:
    return next((case for case in run.outcomes if case.name == name), None)


def _data(received: Received) -> dict[str, object]:
    data = received.body().get("data")
    assert isinstance(data, dict), received.value[:200]
    return data


def test_case_gets_its_expected_outcome(contract_run: ContractRun, case: Example) -> None:
    problem = verdict(case, _outcome(contract_run, case))
    assert problem is None, f"{case.name} ({contract_run.environment}): {problem}"


def test_outcome_answers_the_event_it_was_sent(contract_run: ContractRun, case: Example) -> None:
    received = _outcome(contract_run, case)
    sent = contract_run.payloads[case]
    if received.outcome == "dead-letter":
        assert received.value == sent, "a dead letter carries the original record byte for byte"
        assert received.headers.get("dlq.original.topic") == contract_run.settings.topics.input
        assert received.headers.get("dlq.reason"), received.headers
        return
    event = json.loads(sent)
    body = received.body()
    assert received.headers.get("content-type", "").startswith("application/cloudevents+json")
    assert body["specversion"] == "1.0"
    assert body["subject"] == event["subject"]
    data = _data(received)
    assert data["answered_event_id"] == event["id"]
    assert data["answered_event_type"] == event["type"]
    assert data["case_id"] == event["subject"]


def test_outcome_follows_the_published_schema(contract_run: ContractRun, answered_case: Example) -> None:
    jsonschema = pytest.importorskip("jsonschema")
    received = _outcome(contract_run, answered_case)
    body = received.body()
    schema_file = contracts_dir() / "schemas" / f"{body['type']}.json"
    assert schema_file.is_file(), f"outcome type {body['type']} has no published schema"
    schema = json.loads(schema_file.read_text(encoding="utf-8"))
    jsonschema.validate(body, schema, cls=jsonschema.Draft202012Validator)


def test_acknowledgment_carries_the_official_numbers(contract_run: ContractRun, accepted_case: Example) -> None:
    received = _outcome(contract_run, accepted_case)
    assert received.outcome == "accepted"
    data = _data(received)
    assert re.fullmatch(r"\d{21}", str(data["submission_number"])), data
    pattern = OFFICIAL_NUMBER.get(str(data.get("document")))
    assert pattern is not None, data
    assert pattern.fullmatch(str(data["official_number"])), data
    if data.get("document") == "authorization-request":
        assert data.get("valid_until"), "an authorization states its validity"


def test_rejection_names_every_error_with_a_published_code(contract_run: ContractRun, rejected_case: Example) -> None:
    received = _outcome(contract_run, rejected_case)
    assert received.outcome == "rejected"
    data = _data(received)
    errors = data["errors"]
    assert isinstance(errors, list), data
    assert errors, data
    for error in errors:
        assert all(error.get(field) for field in ("path", "message_es", "message_en")), error
        if data["rejected_by"] == "gateway":
            assert data["stage"] == "CONTRACT", data
            assert str(error["code"]).startswith("GW-"), error
        else:
            assert error["code"] in BY_CODE, f"{error['code']} is not in contracts/rejection-codes.md"
            assert data["stage"] == BY_CODE[str(error["code"])].stage, error
