from __future__ import annotations

import json
from dataclasses import replace

import pytest
from lxml import etree

from gateway import documents
from gateway.contract.schemas import violations
from gateway.documents import decode
from gateway.errors import InvalidEvent
from gateway.mapping.document import fixed
from gateway.tools.examples import Example
from tests.conftest import example_params


@pytest.mark.parametrize("example", example_params("accepted"))
def test_golden_xml(example: Example) -> None:
    """The built document equals the expected XML file, compared canonically (C14N 2.0, blank text stripped)."""
    assert example.expected_xml is not None and example.expected_xml.is_file(), "missing golden XML"
    built = documents.build(decode(example.payload()))
    expected = etree.canonicalize(example.expected_xml.read_text(encoding="utf-8"), strip_text=True)
    assert etree.canonicalize(built.to_bytes().decode(), strip_text=True) == expected


@pytest.mark.parametrize("example", example_params("accepted", "rejected"))
def test_built_documents_are_xsd_valid(example: Example) -> None:
    document = documents.build(decode(example.payload()))
    assert violations(document.kind, document.root) == []


def test_message_id_is_derived_from_the_event(example_by_name: dict[str, Example]) -> None:
    raw = example_by_name["authorization-request/accepted/minimal"].payload()
    first, again = documents.build(decode(raw)), documents.build(decode(raw))
    assert first.message_id == again.message_id
    changed = json.loads(raw)
    changed["id"] = "another-event-id"
    assert documents.build(decode(json.dumps(changed).encode())).message_id != first.message_id


def test_special_characters_survive_the_round_trip(example_by_name: dict[str, Example]) -> None:
    event = decode(example_by_name["authorization-request/accepted/full-multiline"].payload())
    xml = documents.build(event).to_bytes()
    parsed = etree.fromstring(xml)
    description = parsed.find(".//{*}Purpose/{*}Description")
    assert description is not None
    assert description.text == event.data.purpose.description
    assert "<control> & cableado" in (description.text or "") and "🚢" in (description.text or "")


def test_pointers_map_back_to_event_fields(example_by_name: dict[str, Example]) -> None:
    document = documents.build(decode(example_by_name["authorization-request/accepted/full-multiline"].payload()))
    assert document.field_for("/aut:AuthorizationRequest/aut:Item[2]/aut:TariffCode") == "data.items[1].tariff_code"
    assert document.field_for("/aut:AuthorizationRequest/aut:Item[3]/aut:Quantity") == "data.items[2].quantity.value"
    assert document.field_for("/aut:AuthorizationRequest/aut:Applicant/cmn:Ruc") == "data.applicant.ruc"
    assert document.field_for("/aut:AuthorizationRequest/aut:Header/cmn:MessageId") == "id"
    assert document.field_for("/aut:AuthorizationRequest/aut:Item[2]") == "data.items[1]"
    assert document.field_for("/aut:AuthorizationRequest/aut:SupportingDocument") == "data.documents"
    assert document.field_for("/aut:AuthorizationRequest/aut:Nothing") == "data"
    assert document.field_for("not an xpath [") == "data"


def test_xsd_errors_are_reported_against_event_fields(
    example_by_name: dict[str, Example], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The models already refuse what the XSD refuses; to see the XSD's own reporting, break the mapper's output.
    from gateway.mapping import authorization

    real = authorization.map_authorization

    def broken(event: object, message_id: str):  # type: ignore[no-untyped-def]
        document = real(event, message_id)  # type: ignore[arg-type]
        tariff = document.root.find(".//{*}Item/{*}TariffCode")
        assert tariff is not None
        tariff.text = "12"
        return document

    kind = documents.BY_EVENT_TYPE["ecuapass.regime51.authorization-requested.v1"]
    monkeypatch.setitem(
        documents.BY_EVENT_TYPE,
        kind.event_type,
        replace(kind, mapper=broken),
    )
    with pytest.raises(InvalidEvent) as caught:
        documents.build(decode(example_by_name["authorization-request/accepted/minimal"].payload()))
    (error,) = caught.value.errors
    assert error.code == "GW-XSD_INVALID"
    assert error.path == "data.items[0].tariff_code"
    assert error.pointer == "/aut:AuthorizationRequest/aut:Item/aut:TariffCode"


@pytest.mark.parametrize(
    ("value", "places", "text"),
    [
        ("12.5", 2, "12.50"),
        ("0", 3, "0.000"),
        ("-0.00", 2, "0.00"),
        ("1250.5", 3, "1250.500"),
        ("7", 2, "7.00"),
    ],
)
def test_fixed_decimals(value: str, places: int, text: str) -> None:
    from decimal import Decimal

    assert fixed(Decimal(value), places) == text
