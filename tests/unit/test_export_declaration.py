"""The DAE under régimen 51: its form rules (model), its e-document (mapper) and customs' rules on it (mock)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from lxml import etree

from ecuapass_mock.procedures import authorization, export_declaration
from ecuapass_mock.procedures.common import Context
from ecuapass_mock.store import FilingStore, Grant
from gateway import documents
from gateway.documents import decode
from gateway.errors import InvalidEvent
from gateway.events.export_declaration import ExportDeclarationSubmitted
from gateway.mapping.document import Document
from gateway.tools.examples import Example, examples

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
MINIMAL = "export-declaration/accepted/minimal"
FULL = "export-declaration/accepted/full-multiline"


def _event(example: Example, numbers: dict[str, str] | None = None) -> dict[str, Any]:
    value = json.loads(example.payload(numbers))
    assert isinstance(value, dict)
    return value


def _build(event: dict[str, Any]) -> Document:
    return documents.build(decode(json.dumps(event, ensure_ascii=False).encode()))


def _context(store: FilingStore, now: datetime = NOW) -> Context:
    return Context(store, now, random.Random(51), "00000000-0000-4000-8000-000000000000")


def _record(store: FilingStore, grant: Grant) -> None:
    store.record(
        message_id=grant.number,
        kind=grant.kind,
        sender="1790011674001",
        reference=grant.number,
        digest="-",
        content="-",
        status="ACCEPTED",
        reply=b"",
        filed_at=NOW.isoformat(),
        decided_at=NOW.isoformat(),
        submission_number=None,
        grant=grant,
    )


class Customs:
    """The mock's store with the authorizations the DAE examples name, filed through the real procedure."""

    def __init__(self, examples: dict[str, Example]) -> None:
        self.store = FilingStore(":memory:")
        self.examples = examples
        self.numbers: dict[str, str] = {}

    def event(self, name: str) -> dict[str, Any]:
        example = self.examples[name]
        for required in example.requires():
            if required not in self.numbers:
                document = _build(_event(self.examples[required]))
                _, grant = authorization.accept(document.root, _context(self.store), ())
                _record(self.store, grant)
                self.numbers[required] = grant.number
        return _event(example, self.numbers)

    def check(self, event: dict[str, Any], now: datetime = NOW) -> tuple[Document, list[tuple[str, str, str]]]:
        """The findings on ``event``'s DAE as (code, severity, event field the pointer maps back to)."""
        document = _build(event)
        findings = export_declaration.check(document.root, _context(self.store, now))
        return document, [(f.code, f.severity, document.field_for(f.pointer or "")) for f in findings]

    def accept(self, event: dict[str, Any]) -> tuple[str, Grant]:
        document = _build(event)
        acceptance, grant = export_declaration.accept(document.root, _context(self.store), ())
        _record(self.store, grant)
        return acceptance.official_number, grant


@pytest.fixture
def customs(example_by_name: dict[str, Example]) -> Customs:
    return Customs(example_by_name)


# --- the event: form rules ---------------------------------------------------------------------------------------


def _set(path: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(event: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        target: Any = event
        for part in parents:
            target = target[int(part)] if part.isdigit() else target[part]
        target[last] = value

    return mutate


@pytest.mark.parametrize(
    ("mutate", "path", "code"),
    [
        (_set("data.exporter.oce_code", None), "data.exporter.oce_code", "GW-OCE_CODE_REQUIRED"),
        (_set("data.transport_mode", "4"), "data.incoterm", "GW-INCOTERM_MODE_MISMATCH"),
        (_set("data.net_weight_kg", "1480.001"), "data.net_weight_kg", "GW-NET_WEIGHT_ABOVE_GROSS"),
        (_set("data.expected_return_date", "2026-12-07"), "data.expected_return_date", "GW-RETURN_BEFORE_SHIPMENT"),
        (_set("data.items.0.line_number", 2), "data.items[0].line_number", "GW-LINE_NUMBER_OUT_OF_SEQUENCE"),
        (_set("data.invoice.currency", "XYZ"), "data.invoice.currency", "GW-CURRENCY_UNKNOWN"),
        (_set("data.incoterm", "FOT"), "data.incoterm", "GW-INCOTERM_UNKNOWN"),
        (
            _set("data.authorization_number", "028-2026-51-00000001"),
            "data.authorization_number",
            "GW-STRING_PATTERN_MISMATCH",
        ),
        (
            _set("data.authorization_number", "999-2026-AUT51-00000001"),
            "data.authorization_number",
            "GW-STRING_PATTERN_MISMATCH",
        ),
        (_set("data.packages.package_type", "35"), "data.packages.package_type", "GW-STRING_PATTERN_MISMATCH"),
        (_set("data.packages.count", 0), "data.packages.count", "GW-GREATER_THAN_EQUAL"),
        (_set("data.regime", "40"), "data.regime", "GW-LITERAL_ERROR"),
        (_set("data.items", []), "data.items", "GW-TOO_SHORT"),
    ],
)
def test_form_rules_point_at_the_field(
    example_by_name: dict[str, Example], mutate: Callable[[dict[str, Any]], None], path: str, code: str
) -> None:
    event = _event(example_by_name[MINIMAL])
    mutate(event)
    with pytest.raises(InvalidEvent) as caught:
        decode(json.dumps(event).encode())
    assert (path, code) in {(e.path, e.code) for e in caught.value.errors}
    assert all(e.path.startswith("data.") for e in caught.value.errors)  # the union's tag is not in the path


def test_any_mode_incoterms_go_by_air_and_sea_terms_by_sea_only(example_by_name: dict[str, Example]) -> None:
    event = _event(example_by_name[MINIMAL])
    event["data"].update(transport_mode="4", incoterm="FCA")
    assert isinstance(decode(json.dumps(event).encode()), ExportDeclarationSubmitted)
    event["data"].update(transport_mode="3", incoterm="CFR")
    with pytest.raises(InvalidEvent):
        decode(json.dumps(event).encode())


def test_invoice_currency_defaults_to_usd(example_by_name: dict[str, Example]) -> None:
    event = decode(example_by_name[MINIMAL].payload())
    assert isinstance(event, ExportDeclarationSubmitted)
    assert event.data.invoice.currency == "USD"
    assert event.data.declarant is None and event.data.regime == "51"


# --- the e-document -------------------------------------------------------------------------------------------------


def test_pointers_map_back_to_event_fields(example_by_name: dict[str, Example]) -> None:
    document = _build(_event(example_by_name[FULL]))
    root = "/dae:ExportDeclaration"
    assert document.field_for(f"{root}/dae:Item[4]/dae:Quantity") == "data.items[3].quantity.value"
    assert document.field_for(f"{root}/dae:Item[2]/dae:AuthorisedLineNumeric") == "data.items[1].authorised_line_number"
    assert document.field_for(f"{root}/dae:Invoice/dae:TotalAmount") == "data.invoice.total_value"
    assert document.field_for(f"{root}/dae:Invoice/dae:CurrencyCode") == "data.invoice.currency"
    assert document.field_for(f"{root}/dae:Packages/dae:Quantity") == "data.packages.count"
    assert document.field_for(f"{root}/dae:Declarant/cmn:Ruc") == "data.declarant.ruc"
    assert document.field_for(f"{root}/dae:Consignee/cmn:Address") == "data.consignee.address"
    assert document.field_for(f"{root}/dae:LoadingLocation") == "data.port_of_loading"
    assert document.field_for(f"{root}/dae:TradeTermsCode") == "data.incoterm"
    assert document.field_for(f"{root}/dae:TotalNetWeightKg") == "data.net_weight_kg"
    assert document.field_for(f"{root}/dae:SupportingDocument[2]/cmn:Reference") == "data.documents[1].reference"
    assert document.field_for(f"{root}/dae:Item") == "data.items"


def test_quantities_carry_their_unit_and_optional_parties_are_left_out(example_by_name: dict[str, Example]) -> None:
    full = _build(_event(example_by_name[FULL])).root
    quantity = full.find(".//{*}Item[3]/{*}Quantity")
    assert quantity is not None and (quantity.text, quantity.get("unitCode")) == ("350.500", "MTR")
    minimal = _build(_event(example_by_name[MINIMAL])).root
    assert minimal.find("{*}Declarant") is None
    assert [etree.QName(e).localname for e in minimal][:4] == ["Header", "District", "Regime", "AuthorizationNumber"]


# --- customs: rules and numbering ------------------------------------------------------------------------------------

# Where each rule points, as the event field the gateway reports; one rejected example per rule.
EXPECTED_FINDINGS: dict[str, set[tuple[str, str]]] = {
    "R51-DAE-001": {("R51-DAE-001", "data.authorization_number")},
    "R51-DAE-002": {("R51-DAE-002", "data.exporter.ruc")},
    "R51-DAE-003": {("R51-DAE-003", "data.authorization_number")},
    "R51-DAE-004": {("R51-DAE-004", "data.expected_return_date")},
    "R51-DAE-005": {
        ("R51-DAE-005", "data.items[0].tariff_code"),
        ("R51-DAE-005", "data.items[1].authorised_line_number"),
    },
    "R51-DAE-006": {("R51-DAE-006", "data.items[0].quantity.value")},
    "R51-DAE-007": {("R51-DAE-007", "data.net_weight_kg")},
    "R51-DAE-008": {("R51-DAE-008", "data.total_fob_usd")},
    "R51-DAE-009": {("R51-DAE-009", "data.invoice.total_value")},
    "R51-DAE-010": {("R51-DAE-010", "data.port_of_loading")},
    "R51-DAE-011": {("R51-DAE-011", "data.transport_mode")},
}
DAE_EXAMPLES = [e for e in examples() if e.document == "export-declaration"]


def _params(expected: str) -> list[object]:
    return [pytest.param(e, id=e.name) for e in DAE_EXAMPLES if e.expected == expected]


def test_every_rule_has_a_rejected_example() -> None:
    assert {code for e in DAE_EXAMPLES if e.expected == "rejected" for code in e.codes} == set(EXPECTED_FINDINGS)


@pytest.mark.parametrize("example", _params("rejected"))
def test_rejected_examples_break_exactly_their_rule(customs: Customs, example: Example) -> None:
    _, findings = customs.check(customs.event(example.name))
    errors = {(code, path) for code, severity, path in findings if severity == "ERROR"}
    assert errors == set().union(*(EXPECTED_FINDINGS[code] for code in example.codes))


@pytest.mark.parametrize("example", _params("accepted"))
def test_accepted_examples_pass_and_are_numbered(customs: Customs, example: Example) -> None:
    event = customs.event(example.name)
    assert customs.check(event)[1] == []
    number, grant = customs.accept(event)
    district = event["data"]["district"]
    assert number == f"{district}-2026-51-00000001"
    assert grant.kind == "export-declaration"
    assert grant.parent == event["data"]["authorization_number"]
    assert grant.exporter == event["data"]["exporter"]["ruc"]
    assert grant.details["district"] == district
    assert grant.details["packages"] == event["data"]["packages"]["count"]
    assert Decimal(grant.details["gross_weight_kg"]) == Decimal(event["data"]["gross_weight_kg"])


def test_numbering_runs_per_district_and_year(customs: Customs) -> None:
    first = customs.event(FULL)
    assert customs.accept(first)[0] == "028-2026-51-00000001"
    again = json.loads(json.dumps(first))
    again["data"]["items"] = again["data"]["items"][:1]  # 600 more cards: 1400 of 1200 would be refused by check
    assert customs.accept(again)[0] == "028-2026-51-00000002"
    assert customs.accept(customs.event("export-declaration/accepted/from-regime20"))[0] == "055-2026-51-00000001"


def test_exported_quantities_add_up_over_every_dae_of_an_authorization(customs: Customs) -> None:
    event = customs.event(FULL)
    _, grant = customs.accept(event)
    assert grant.details["exported"] == {"1": "800.000", "2": "350.500", "3": "20.000"}
    second = json.loads(json.dumps(event))
    second["data"]["local_reference"] = "DAE-2026-0099"
    cabinets = second["data"]["items"][3]
    second["data"]["items"] = [{**cabinets, "line_number": 1, "quantity": {"value": "20", "unit": "H87"}}]
    second["data"].update(net_weight_kg="320.000", total_fob_usd="2800.25")
    second["data"]["invoice"]["total_value"] = "2800.25"
    assert customs.check(second)[1] == []  # 20 + 20 of 40 authorised
    second["data"]["items"][0]["quantity"]["value"] = "20.001"
    assert customs.check(second)[1] == [("R51-DAE-006", "ERROR", "data.items[0].quantity.value")]


def test_a_line_in_another_unit_is_refused_and_not_counted(customs: Customs) -> None:
    event = customs.event(MINIMAL)
    event["data"]["items"][0]["quantity"] = {"value": "2", "unit": "SET"}
    assert customs.check(event)[1] == [("R51-DAE-005", "ERROR", "data.items[0].quantity.value")]


def test_validity_ends_on_the_last_valid_day(customs: Customs) -> None:
    event = customs.event(MINIMAL)  # planned shipment 2026-12-05 + 90 days: valid until 2027-03-05
    assert customs.check(event, datetime(2027, 3, 5, 23, 0, tzinfo=UTC))[1] == []
    late = customs.check(event, datetime(2027, 3, 6, 0, 0, tzinfo=UTC))[1]
    assert late == [("R51-DAE-003", "ERROR", "data.authorization_number")]


def test_totals_tolerances(customs: Customs) -> None:
    event = customs.event(MINIMAL)
    event["data"].update(net_weight_kg="1256.750", gross_weight_kg="1480.000")  # 1250.5 is within 0.5 %
    event["data"]["invoice"]["total_value"] = "85000.01"
    assert customs.check(event)[1] == []
    event["data"]["invoice"].update(currency="EUR", total_value="78000.00")  # only a USD invoice must match
    assert customs.check(event)[1] == []


def test_an_air_district_accepts_any_airport_by_air(customs: Customs) -> None:
    event = customs.event("export-declaration/accepted/from-regime20")
    event["data"]["port_of_loading"] = "ECGYE"
    assert customs.check(event)[1] == []
    event["data"].update(transport_mode="3")
    assert customs.check(event)[1] == [("R51-DAE-011", "ERROR", "data.transport_mode")]


def test_a_district_without_a_port_accepts_any_loading_place(customs: Customs) -> None:
    event = customs.event(MINIMAL)
    event["data"].update(district="073", port_of_loading="ECTUL", transport_mode="3", incoterm="DAP")
    assert customs.check(event)[1] == []


def test_ruc_check_digit_failures_are_warnings_only(customs: Customs) -> None:
    holder = _event(customs.examples["authorization-request/accepted/company-ruc-fails-mod11-warning"])
    _, grant = authorization.accept(_build(holder).root, _context(customs.store), ())
    _record(customs.store, grant)
    event = customs.event(MINIMAL)
    event["data"]["authorization_number"] = grant.number
    event["data"]["exporter"]["ruc"] = holder["data"]["applicant"]["ruc"]
    dae, findings = customs.check(event)
    assert findings == [("R51-ID-001", "WARNING", "data.exporter.ruc")]
    warnings = tuple(export_declaration.check(dae.root, _context(customs.store)))
    acceptance, _ = export_declaration.accept(dae.root, _context(customs.store), warnings)
    assert acceptance.warnings == warnings
