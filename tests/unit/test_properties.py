"""Properties over every document, driven by the contract examples and the models (hypothesis).

1. Every valid event maps to XSD-valid XML: valid examples with their free texts, amounts and codes replaced by
   arbitrary admissible values either decode and build into a schema-valid document whose texts round-trip, or are
   refused with field errors (cross-field rules) — never a broken document.
2. Every mutated invalid event yields a rejection naming the mutated field.
3. No input makes the decoder, mapper, validator or reply parser raise anything but the gateway's own errors.
"""

from __future__ import annotations

import contextlib
import json
import types
import typing
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import BaseModel

from gateway import documents, gateway_codes
from gateway.contract.replies import read_reply
from gateway.contract.schemas import violations
from gateway.documents import CASE_EVENTS
from gateway.errors import ContractError, InvalidEvent, UnsafeXmlError
from gateway.events import event_type
from gateway.events.validation import json_path
from gateway.tools.examples import Example, examples

VALID = [e for e in examples() if e.expected in ("accepted", "rejected")]
MODELS = {event_type(cls): cls for cls in CASE_EVENTS}
# Attributes whose damage makes a record "not a CloudEvent we know": a dead letter, not a rejection.
ENVELOPE_IDENTITY = {("specversion",), ("id",), ("source",), ("type",)}
# Any character XML 1.0 carries, including markup characters and characters outside the BMP.
XML_TEXT = st.text(
    alphabet=st.characters(
        codec="utf-8",
        exclude_categories=("Cs",),
        exclude_characters="".join(map(chr, [*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), 0xFFFE, 0xFFFF])),
    ),
    min_size=1,
    max_size=60,
).filter(str.strip)
HYPOTHESIS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[tuple[Any, ...], Any]]:
    if isinstance(value, dict):
        return [leaf for key, item in value.items() for leaf in _leaves(item, (*path, key))]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in _leaves(item, (*path, index))]
    return [(path, value)]


def _field(model: type[BaseModel], path: tuple[Any, ...]) -> tuple[Any, bool]:
    """The annotation of the field at ``path`` and whether it is required."""
    annotation: Any = model
    required = True
    for part in path:
        annotation = _unwrap(annotation)
        if isinstance(part, int):
            annotation = typing.get_args(annotation)[0]
            required = True
            continue
        info = annotation.model_fields[part]
        annotation, required = info.annotation, info.is_required()
    return _unwrap(annotation), required


def _unwrap(annotation: Any) -> Any:
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            annotation = next(a for a in typing.get_args(annotation) if a is not type(None))
        else:
            return annotation


def _set(event: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    target: Any = event
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value


def _delete(event: dict[str, Any], path: tuple[Any, ...]) -> None:
    target: Any = event
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]


def _event(example: Example) -> dict[str, Any]:
    value = json.loads(example.payload())
    assert isinstance(value, dict)
    return value


@st.composite
def varied_valid_events(draw: st.DrawFn) -> dict[str, Any]:
    """A valid example with free texts, amounts and enumerated codes replaced by arbitrary admissible values."""
    event = _event(draw(st.sampled_from(VALID)))
    model = MODELS[event["type"]]
    for path, value in _leaves(event["data"], ("data",)):
        annotation, _ = _field(model, path)
        literal = typing.get_args(annotation) if typing.get_origin(annotation) is typing.Literal else ()
        if literal and draw(st.booleans()):
            _set(event, path, draw(st.sampled_from(literal)))
        elif annotation is Decimal and draw(st.booleans()):
            amount = draw(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999999"), places=2))
            _set(event, path, str(amount) if draw(st.booleans()) else float(amount))
        elif annotation is str and isinstance(value, str) and " " in value and draw(st.booleans()):
            _set(event, path, draw(XML_TEXT))  # free text: descriptions, names, addresses
    return event


@pytest.mark.skipif(not VALID, reason="no valid examples")
@HYPOTHESIS
@given(varied_valid_events())
def test_every_valid_event_maps_to_xsd_valid_xml(event: dict[str, Any]) -> None:
    try:
        document = documents.build(_decode(event))
    except InvalidEvent as refused:  # a cross-field rule (totals, line order...) may refuse the variation
        assert all(error.path.startswith("data") for error in refused.errors)  # noqa: PT017
        return
    assert violations(document.kind, document.root) == []
    reparsed = etree.fromstring(document.to_bytes())
    texts = {node.text for node in reparsed.iter() if node.text}
    for path, value in _leaves(event["data"], ("data",)):
        if isinstance(value, str) and " " in value:
            assert value in texts, json_path(path)


@st.composite
def mutated_events(draw: st.DrawFn) -> tuple[dict[str, Any], str, str]:
    """A valid example with one field broken: (event, JSON path of the field, how it was broken)."""
    event = _event(draw(st.sampled_from(VALID)))
    model = MODELS[event["type"]]
    leaves = [(path, value) for path, value in _leaves(event) if path not in ENVELOPE_IDENTITY]
    path, value = draw(st.sampled_from(leaves))
    annotation, required = _field(model, path)
    if required and isinstance(path[-1], str) and draw(st.booleans()):
        _delete(event, path)
        return event, json_path(path), "deleted"
    if isinstance(value, str):
        broken: Any = draw(st.sampled_from(["\x01", "\x1b[0m", "\ufffe"])) + draw(st.text(max_size=5))
    elif isinstance(value, bool) or annotation is int:
        broken = draw(st.sampled_from(["seven", 3.5, True, [1], *([None] if required else [])]))
    else:
        broken = draw(st.sampled_from(["not a number", True, [1], {"a": 1}]))
    _set(event, path, broken)
    return event, json_path(path), f"set to {broken!r}"


@pytest.mark.skipif(not VALID, reason="no valid examples")
@HYPOTHESIS
@given(mutated_events())
def test_every_mutated_event_is_rejected_naming_the_field(mutation: tuple[dict[str, Any], str, str]) -> None:
    event, path, how = mutation
    with pytest.raises(InvalidEvent) as refused:
        documents.build(_decode(event))
    paths = {error.path for error in refused.value.errors}
    assert path in paths, f"{path} {how}: got {sorted(paths)}"
    _assert_catalogued(refused.value)


def _assert_catalogued(refused: InvalidEvent) -> None:
    """Every code a rejection by the gateway carries is in its published catalogue (contracts/gateway-codes.md)."""
    unknown = {error.code for error in refused.errors} - set(gateway_codes.BY_CODE)
    assert not unknown, f"codes missing from gateway.gateway_codes: {sorted(unknown)}"


def _decode(event: dict[str, Any]) -> Any:
    from gateway.documents import decode

    return decode(json.dumps(event).encode())


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


@HYPOTHESIS
@given(st.binary(max_size=300) | JSON_VALUES.map(lambda v: json.dumps(v).encode()))
def test_arbitrary_records_never_crash_the_decoder(raw: bytes) -> None:
    from gateway.documents import decode

    try:
        documents.build(decode(raw))
    except InvalidEvent as refused:
        _assert_catalogued(refused)
    except ContractError:
        pass


@pytest.mark.skipif(not VALID, reason="no valid examples")
@HYPOTHESIS
@given(st.sampled_from(VALID), JSON_VALUES)
def test_arbitrary_data_inside_a_known_envelope_is_answered(example: Example, data: Any) -> None:
    event = _event(example)
    event["data"] = data
    with pytest.raises(InvalidEvent) as refused:
        documents.build(_decode(event))
    _assert_catalogued(refused.value)


@HYPOTHESIS
@given(st.binary(max_size=400) | st.text(max_size=200).map(lambda t: f"<rep:Reply>{t}</rep:Reply>".encode()))
def test_arbitrary_replies_never_crash_the_reply_parser(raw: bytes) -> None:
    with contextlib.suppress(UnsafeXmlError):
        read_reply(raw)
