"""Warehouse entry: the event's form rules, the mapper's pointers, and the mock's rules, numbering and channel draw."""

from __future__ import annotations

import copy
import json
import random
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from lxml import etree

from ecuapass_mock.app import create_app
from ecuapass_mock.procedures import BY_NAME, Context, Grant
from ecuapass_mock.procedures import warehouse_entry as procedure
from ecuapass_mock.store import FilingStore
from gateway import documents
from gateway.contract.replies import read_reply
from gateway.documents import decode
from gateway.errors import InvalidEvent
from gateway.events.warehouse_entry import WarehouseEntryRegistered
from gateway.mapping.document import Document

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
DAE = "028-2026-51-00000007"
AUTHORIZATION = "028-2026-AUT51-00000003"
EXPORTER = "1790011674001"

EVENT: dict[str, Any] = {
    "specversion": "1.0",
    "id": "0d9a3c1e-51f4-4a77-9d0b-3f6c2e8a1b90",
    "source": "urn:warehouse:deposito-portuario-pacifico:wms",
    "type": "ecuapass.regime51.warehouse-entry-registered.v1",
    "subject": "CASE-2026-0001",
    "time": "2026-11-26T10:05:00-05:00",
    "dataschema": "urn:ecuapass-gateway:schema:warehouse-entry-registered:1",
    "sender": "0992339411001",
    "data": {
        "local_reference": "ING-2026-T001",
        "warehouse": {"oce_code": "05909371", "name": "Depósito Portuario del Pacífico S.A.", "ruc": "0992339411001"},
        "district": "028",
        "dae_number": DAE,
        "entry_time": "2026-11-26T09:40:00-05:00",
        "packages_received": 4,
        "package_type": "152",
        "gross_weight_received_kg": "2000",
        "transport_document": {"kind": "BL", "number": "MEDUGY551203"},
        "containers": [
            {"number": "MSCU1234566", "size_type": "22G1", "seals": ["EC-445120"]},
            {"number": "MAEU7654320", "size_type": "45G1", "seals": ["EC-445121", "ML-0091"]},
        ],
        "novelties": [],
    },
}


def _value(**data: Any) -> dict[str, Any]:
    value = copy.deepcopy(EVENT)
    value["data"].update(data)
    return value


def _decode(value: dict[str, Any]) -> WarehouseEntryRegistered:
    event = decode(json.dumps(value, ensure_ascii=False).encode())
    assert isinstance(event, WarehouseEntryRegistered)
    return event


def _errors(value: dict[str, Any]) -> set[tuple[str, str]]:
    with pytest.raises(InvalidEvent) as caught:
        _decode(value)
    return {(e.path, e.code) for e in caught.value.errors}


def _container(number: str, *seals: str) -> dict[str, Any]:
    return {"number": number, "size_type": "22G1", "seals": list(seals)}


# --- the event -------------------------------------------------------------------------------------------------


def test_a_valid_entry_decodes_to_its_class() -> None:
    event = _decode(EVENT)
    assert event.data.containers[1].seals == ["EC-445121", "ML-0091"]
    assert str(event.data.gross_weight_received_kg) == "2000"


def test_loose_cargo_needs_no_containers() -> None:
    value = _value()
    del value["data"]["containers"], value["data"]["novelties"]
    assert _decode(value).data.containers == []


@pytest.mark.parametrize(
    ("data", "path", "code"),
    [
        ({"containers": [_container("MSCU1234566")]}, "data.containers[0].seals", "GW-SEAL_REQUIRED"),
        (
            {"containers": [_container("MSCU1234566", "A1"), _container("MSCU1234566", "A2")]},
            "data.containers[1].number",
            "GW-CONTAINER_DUPLICATED",
        ),
        (
            {"containers": [_container("MSCU1234566", "A1"), _container("MAEU7654320", "B1", "A1")]},
            "data.containers[1].seals[1]",
            "GW-SEAL_DUPLICATED",
        ),
        (
            {"containers": [_container("MSCU1234567", "A1")]},
            "data.containers[0].number",
            "GW-CONTAINER_NUMBER_INVALID",
        ),
        (
            {"containers": [{"number": "MSCU1234566", "size_type": "20ft", "seals": ["A1"]}]},
            "data.containers[0].size_type",
            "GW-STRING_PATTERN_MISMATCH",
        ),
        (
            {
                "novelties": [
                    {"kind": "SHORTAGE", "description": "Falta un pallet"},
                    {"kind": "DAMAGE", "description": "Caja rota"},
                    {"kind": "OVERAGE", "description": "Sobra un pallet"},
                ]
            },
            "data.novelties[2].kind",
            "GW-NOVELTY_CONTRADICTORY",
        ),
        (
            {"novelties": [{"kind": "DAMAGE", "description": "Cajas rotas", "packages_affected": 5}]},
            "data.novelties[0].packages_affected",
            "GW-NOVELTY_EXCEEDS_RECEIVED",
        ),
        (
            {"packages_received": 0, "novelties": [{"kind": "DAMAGE", "description": "Caja rota"}]},
            "data.novelties[0].kind",
            "GW-NOVELTY_EXCEEDS_RECEIVED",
        ),
        ({"dae_number": "999-2026-51-00000007"}, "data.dae_number", "GW-STRING_PATTERN_MISMATCH"),
        ({"dae_number": "028-2026-40-00000007"}, "data.dae_number", "GW-STRING_PATTERN_MISMATCH"),
        ({"entry_time": "2026-11-26T09:40:00"}, "data.entry_time", "GW-TIMEZONE_AWARE"),
        ({"packages_received": -1}, "data.packages_received", "GW-GREATER_THAN_EQUAL"),
        ({"packages_received": "4"}, "data.packages_received", "GW-INT_TYPE"),
        ({"gross_weight_received_kg": "2000.0001"}, "data.gross_weight_received_kg", "GW-DECIMAL_MAX_PLACES"),
        ({"package_type": "35"}, "data.package_type", "GW-STRING_PATTERN_MISMATCH"),
        ({"transport_document": {"kind": "MAWB", "number": "X1"}}, "data.transport_document.kind", "GW-LITERAL_ERROR"),
        ({"warehouse": {"oce_code": "0590937", "name": "D"}}, "data.warehouse.oce_code", "GW-STRING_PATTERN_MISMATCH"),
        ({"warehouse": {"oce_code": "05909371", "name": "D"}}, "data.warehouse.ruc", "GW-MISSING"),
    ],
)
def test_form_rules_point_at_the_field(data: dict[str, Any], path: str, code: str) -> None:
    assert (path, code) in _errors(_value(**data))


def test_every_error_comes_out_under_data() -> None:
    found = _errors(
        _value(
            district="999",
            containers=[_container("MSCU1234567", "A1"), {"number": "MAEU7654320", "size_type": "22G1"}],
            local_reference=None,
        )
    )
    assert found == {
        ("data.district", "GW-DISTRICT_UNKNOWN"),
        ("data.containers[0].number", "GW-CONTAINER_NUMBER_INVALID"),
        ("data.containers[1].seals", "GW-MISSING"),
        ("data.local_reference", "GW-STRING_TYPE"),
    }


# --- the e-document --------------------------------------------------------------------------------------------


def _document(value: dict[str, Any] | None = None) -> Document:
    return documents.build(_decode(value or EVENT))


def test_pointers_map_back_to_event_fields() -> None:
    document = _document(_value(novelties=[{"kind": "DAMAGE", "description": "Caja rota", "packages_affected": 1}]))
    root = "/ing:WarehouseEntry"
    assert document.field_for(f"{root}/ing:TransportEquipment[2]/ing:Seal[2]") == "data.containers[1].seals[1]"
    assert document.field_for(f"{root}/ing:TransportEquipment[2]/ing:ID") == "data.containers[1].number"
    assert document.field_for(f"{root}/ing:TransportEquipment[1]/ing:SizeTypeCode") == "data.containers[0].size_type"
    assert document.field_for(f"{root}/ing:TransportEquipment[1]/ing:SequenceNumeric") == "data.containers[0]"
    assert document.field_for(f"{root}/ing:TransportEquipment") == "data.containers"
    assert document.field_for(f"{root}/ing:Warehouse/cmn:OceCode") == "data.warehouse.oce_code"
    assert document.field_for(f"{root}/ing:ExportDeclarationNumber") == "data.dae_number"
    assert document.field_for(f"{root}/ing:ReceivedGrossWeightKg") == "data.gross_weight_received_kg"
    assert document.field_for(f"{root}/ing:TransportContractDocument/ing:ID") == "data.transport_document.number"
    novelty = f"{root}/ing:Novelty/ing:AffectedPackageQuantity"
    assert document.field_for(novelty) == "data.novelties[0].packages_affected"


def test_the_warehouse_oce_code_is_the_first_of_the_document() -> None:
    # The mock numbers the submission with the first cmn:OceCode: the sender's, here the warehouse.
    root = _document().root
    assert root.xpath("string(*/cmn:OceCode)", namespaces={"cmn": "urn:ecuapass-gateway:xsd:common:1"}) == "05909371"


def test_weights_are_written_with_three_decimals_and_loose_cargo_has_no_equipment() -> None:
    value = _value(gross_weight_received_kg="1480.5", containers=[])
    root = _document(value).root
    assert root.findtext("{*}ReceivedGrossWeightKg") == "1480.500"
    assert root.find("{*}TransportEquipment") is None


# --- the mock's rules --------------------------------------------------------------------------------------------


def _store(*grants: Grant) -> FilingStore:
    store = FilingStore(":memory:")
    for n, grant in enumerate(grants):
        store.record(
            message_id=f"m-{n}",
            kind=grant.kind,
            sender=EXPORTER,
            reference=f"ref-{n}",
            digest="0" * 64,
            content=f"c-{n}",
            status="ACCEPTED",
            reply=b"<reply/>",
            filed_at=NOW.isoformat(),
            decided_at=NOW.isoformat(),
            submission_number=None,
            grant=grant,
        )
    return store


def _dae(**details: Any) -> Grant:
    base: dict[str, Any] = {"district": "028", "packages": 4, "gross_weight_kg": "2000.000"}
    return Grant(DAE, "export-declaration", EXPORTER, parent=AUTHORIZATION, details=base | details)


def _context(store: FilingStore, message_id: str = "11111111-2222-4333-8444-555555555555", seed: int = 51) -> Context:
    return Context(store, NOW, random.Random(f"{seed}:{message_id}"), message_id)


def _findings(store: FilingStore, value: dict[str, Any] | None = None) -> tuple[Document, list[tuple[str, str]]]:
    document = _document(value)
    found = procedure.check(document.root, _context(store))
    return document, [(f.code, document.field_for(f.pointer or "")) for f in found]


def test_an_entry_matching_its_dae_is_accepted_with_a_number_and_a_channel() -> None:
    store = _store(_dae())
    document, found = _findings(store)
    assert found == []
    acceptance, grant = procedure.accept(document.root, _context(store), ())
    assert acceptance.official_number == "028-2026-IE51-00000001"
    assert acceptance.inspection_channel in procedure.CHANNELS
    assert grant is not None and (grant.kind, grant.parent, grant.exporter) == ("warehouse-entry", DAE, EXPORTER)
    assert grant.details["packages"] == 4 and grant.details["gross_weight_kg"] == "2000.000"
    again, _ = procedure.accept(document.root, _context(store), ())
    assert again.official_number == "028-2026-IE51-00000002"
    assert BY_NAME["warehouse-entry"].accept is procedure.accept


@pytest.mark.parametrize(
    ("grants", "data", "expected"),
    [
        ((), {}, [("R51-ING-001", "data.dae_number")]),
        ((Grant(DAE, "authorization-request", EXPORTER),), {}, [("R51-ING-001", "data.dae_number")]),
        (
            (_dae(), Grant("028-2026-IE51-00000009", "warehouse-entry", EXPORTER, parent=DAE)),
            {},
            [("R51-ING-002", "data.dae_number")],
        ),
        ((_dae(district="055"),), {}, [("R51-ING-003", "data.district")]),
        ((_dae(packages=5),), {}, [("R51-ING-004", "data.packages_received")]),
        ((_dae(),), {"gross_weight_received_kg": "1860"}, [("R51-ING-005", "data.gross_weight_received_kg")]),
        ((_dae(),), {"gross_weight_received_kg": "2140"}, [("R51-ING-005", "data.gross_weight_received_kg")]),
        ((_dae(),), {"gross_weight_received_kg": "1790"}, [("R51-ING-006", "data.gross_weight_received_kg")]),
        ((_dae(),), {"entry_time": "2026-11-27T07:10:00-05:00"}, [("R51-ING-007", "data.entry_time")]),
    ],
)
def test_each_rule_names_its_code_and_field(
    grants: tuple[Grant, ...], data: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    assert _findings(_store(*grants), _value(**data))[1] == expected


@pytest.mark.parametrize(
    ("weight", "novelty", "code"),
    [
        ("1900", None, None),  # exactly 5 % short: tolerated
        ("1860", "SHORTAGE", None),  # 7 % short, declared
        ("2140", "OVERAGE", None),  # 7 % over, declared
        ("1860", "OVERAGE", "R51-ING-005"),  # the novelty says the opposite of the scale
        ("1860", "DAMAGE", "R51-ING-005"),
        ("1790", "SHORTAGE", "R51-ING-006"),  # beyond 10 %: a novelty does not save it
        ("2201", "OVERAGE", "R51-ING-006"),
    ],
)
def test_weight_tolerance_and_novelties(weight: str, novelty: str | None, code: str | None) -> None:
    novelties = [] if novelty is None else [{"kind": novelty, "description": "Diferencia de peso en báscula"}]
    _, found = _findings(_store(_dae()), _value(gross_weight_received_kg=weight, novelties=novelties))
    assert [c for c, _ in found] == ([] if code is None else [code])


def test_a_few_minutes_of_clock_difference_are_tolerated() -> None:
    _, found = _findings(_store(_dae()), _value(entry_time="2026-11-27T07:04:00-05:00"))
    assert found == []


@pytest.mark.parametrize(
    "details",
    [{}, {"district": 28, "packages": "many", "gross_weight_kg": None}, {"packages": True, "gross_weight_kg": "NaN"}],
)
def test_dae_details_are_read_defensively(details: dict[str, Any]) -> None:
    grant = Grant(DAE, "export-declaration", EXPORTER, parent=AUTHORIZATION, details=details)
    assert _findings(_store(grant))[1] == []


def test_a_company_ruc_failing_mod11_is_only_a_warning() -> None:
    value = _value(warehouse={"oce_code": "05909371", "name": "Depósito S.A.", "ruc": "0992339412001"})
    _, found = _findings(_store(_dae()), value)
    assert found == [("R51-ID-001", "data.warehouse.ruc")]


def test_the_channel_draw_is_reproducible_and_every_channel_occurs() -> None:
    store = _store()
    ids = [f"00000000-0000-4000-8000-{n:012d}" for n in range(400)]
    draws = [procedure.draw_channel(_context(store, message_id)) for message_id in ids]
    assert draws == [procedure.draw_channel(_context(store, message_id)) for message_id in ids]
    assert set(draws) == set(procedure.CHANNELS) == {"AUTOMATIC", "ELECTRONIC", "DOCUMENTARY", "PHYSICAL"}
    assert [procedure.draw_channel(_context(store, m, seed=7)) for m in ids] != draws


async def test_filed_over_http_the_entry_gets_its_submission_number_and_channel() -> None:
    store = _store(_dae())
    app = create_app(store, clock=lambda: NOW)
    document = _document()
    another = _value(local_reference="ING-2026-T002") | {"id": "5b1e7f02-8c43-4d19-a6e5-0f2d9c7b3a14"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        response = await client.post("/api/v1/documents", content=document.to_bytes())
        second = await client.post("/api/v1/documents", content=_document(another).to_bytes())
    reply = read_reply(response.content)
    assert reply.status == "ACCEPTED" and reply.reception is not None and reply.acceptance is not None
    assert reply.reception.submission_number.startswith("05909371" + "2026")
    assert reply.acceptance.official_number == "028-2026-IE51-00000001"
    assert reply.acceptance.inspection_channel == procedure.draw_channel(_context(store, document.message_id))
    rejected = read_reply(second.content)
    assert rejected.rejection is not None
    assert [(e.code, e.pointer) for e in rejected.rejection.errors] == [
        ("R51-ING-002", "/ing:WarehouseEntry/ing:ExportDeclarationNumber")
    ]
    assert etree.QName(document.root).localname == "WarehouseEntry"
