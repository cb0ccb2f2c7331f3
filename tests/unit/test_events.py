from __future__ import annotations

import json
from typing import Any

import pytest

from gateway.documents import CASE_EVENTS, decode
from gateway.errors import InvalidEvent, UndecodableEvent
from gateway.events import AuthorizationRequested, EventDecoder, event_type
from gateway.tools.examples import Example
from tests.conftest import example_params


def _event(example: Example) -> dict[str, Any]:
    value = json.loads(example.payload())
    assert isinstance(value, dict)
    return value


def _decode(value: dict[str, Any]) -> AuthorizationRequested:
    return decode(json.dumps(value, ensure_ascii=False).encode())


@pytest.mark.parametrize("example", example_params("accepted", "rejected"))
def test_examples_that_reach_customs_are_valid_events(example: Example) -> None:
    event = decode(example.payload())
    assert event.subject == _event(example)["subject"]


@pytest.mark.parametrize("example", example_params("invalid"))
def test_invalid_examples_name_their_errors(example: Example) -> None:
    with pytest.raises(InvalidEvent) as caught:
        decode(example.payload())
    codes = [e.code for e in caught.value.errors]
    assert set(example.codes) <= set(codes)
    assert caught.value.event_id == _event(example)["id"]
    for error in caught.value.errors:
        assert error.path.startswith("data."), error
        assert error.message_es and error.message_en


@pytest.mark.parametrize("example", example_params("dead-letter"))
def test_dead_letter_examples_are_undecodable(example: Example) -> None:
    with pytest.raises(UndecodableEvent) as caught:
        decode(example.payload())
    assert caught.value.reason in example.codes


def test_every_problem_is_reported_at_once(example_by_name: dict[str, Example]) -> None:
    value = _event(example_by_name["authorization-request/accepted/minimal"])
    value["data"]["items"][0]["tariff_code"] = "7700000000"  # chapter 77 is unused
    value["data"]["items"][0]["fob_value_usd"] = "12.345"
    value["data"]["processor"]["country"] = "XX"
    value["data"]["unexpected"] = 1
    value["time"] = "2026-11-20T14:30:00"  # no offset
    with pytest.raises(InvalidEvent) as caught:
        _decode(value)
    found = {(e.path, e.code) for e in caught.value.errors}
    assert found == {
        ("data.items[0].tariff_code", "GW-STRING_PATTERN_MISMATCH"),
        ("data.items[0].fob_value_usd", "GW-DECIMAL_MAX_PLACES"),
        ("data.processor.country", "GW-COUNTRY_UNKNOWN"),
        ("data.unexpected", "GW-EXTRA_FORBIDDEN"),
        ("time", "GW-TIMEZONE_AWARE"),
    }


@pytest.mark.parametrize(
    ("mutate", "path", "code"),
    [
        (
            lambda d: d["data"]["applicant"].update(oce_code=None),
            "data.applicant.oce_code",
            "GW-OCE_CODE_REQUIRED",
        ),
        (
            lambda d: d["data"].update(planned_return_date="2026-12-01"),
            "data.planned_return_date",
            "GW-RETURN_BEFORE_SHIPMENT",
        ),
        (
            lambda d: d["data"]["items"][0].update(line_number=2),
            "data.items[0].line_number",
            "GW-LINE_NUMBER_OUT_OF_SEQUENCE",
        ),
        (
            lambda d: d["data"]["purpose"].update(description="bad \x07 bell"),
            "data.purpose.description",
            "GW-XML_CHAR_INVALID",
        ),
        (
            lambda d: d["data"]["items"][0].update(net_weight_kg=float("nan")),
            "data.items[0].net_weight_kg",
            "GW-FINITE_NUMBER",
        ),
        (lambda d: d.update(sender="1790011674000"), "sender", "GW-RUC_INVALID"),
    ],
)
def test_rule_errors_point_at_the_field(example_by_name: dict[str, Example], mutate: Any, path: str, code: str) -> None:
    value = _event(example_by_name["authorization-request/accepted/minimal"])
    mutate(value)
    with pytest.raises(InvalidEvent) as caught:
        decode(json.dumps(value).encode())  # NaN travels as the non-standard JSON literal
    assert (path, code) in {(e.path, e.code) for e in caught.value.errors}


def test_unknown_type_and_non_cloudevents_are_dead_letters() -> None:
    with pytest.raises(UndecodableEvent) as caught:
        decode(b'{"specversion": "1.0", "id": "1", "source": "s", "type": "other.v1"}')
    assert caught.value.reason == "unknown_type"
    with pytest.raises(UndecodableEvent) as caught:
        decode(b"[1, 2, 3]")
    assert caught.value.reason == "not_a_cloudevent"
    with pytest.raises(UndecodableEvent) as caught:
        decode(b"\xff\xfe not utf-8")
    assert caught.value.reason == "not_json"


def test_decimal_amounts_accept_strings_and_numbers(example_by_name: dict[str, Example]) -> None:
    value = _event(example_by_name["authorization-request/accepted/minimal"])
    value["data"]["items"][0]["fob_value_usd"] = 85000.5
    assert str(_decode(value).data.items[0].fob_value_usd) == "85000.5"


@pytest.mark.parametrize("example", example_params("invalid"))
def test_a_decoder_of_one_event_class_names_the_same_fields(example: Example) -> None:
    # The gateway's decoder is a discriminated union; with one class there is no union, and no discriminator value
    # leading the error locations to drop.
    with pytest.raises(InvalidEvent) as caught:
        decode(example.payload())
    (cls,) = [c for c in CASE_EVENTS if event_type(c) == _event(example)["type"]]
    with pytest.raises(InvalidEvent) as alone:
        EventDecoder([cls]).decode(example.payload())
    assert [(e.path, e.code) for e in alone.value.errors] == [(e.path, e.code) for e in caught.value.errors]
