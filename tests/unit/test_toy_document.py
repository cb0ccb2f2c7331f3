"""Adding a document is one entry on each side plus its files.

A toy document, defined here and nowhere else: its specification (the contract), its event and mapper (one
``DocumentKind`` on the gateway's side), its rules and numbering (one ``Procedure`` on the mock's side), and its files
(its XSD, and its name among reply.xsd's document types: a copy of ``schemas/xsd/`` stands for the folder). With
those, the pipeline decodes the toy event, maps it, validates it against its XSD and files it over HTTP
(``httpx.ASGITransport``, in memory) with the mock app, which recognises, validates, numbers and accepts it; without
them, the same event and document are unknown on each side.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

import httpx
import pytest
from lxml import etree

from adapters.http_customs_endpoint import HttpCustomsEndpoint
from ecuapass_mock.app import create_app
from ecuapass_mock.procedures import PROCEDURES, Context, Grant, Procedure
from ecuapass_mock.procedures.common import identifiers
from ecuapass_mock.store import FilingStore
from gateway import resources
from gateway.contract.documents import DocumentSpec
from gateway.contract.namespaces import COMMON
from gateway.contract.replies import Acceptance, ReplyError, read_reply
from gateway.contract.schemas import schema
from gateway.documents import DOCUMENT_KINDS, DocumentKind, Documents, build, decode
from gateway.errors import InvalidEvent, UndecodableEvent
from gateway.events import CaseEventBase
from gateway.events.common import Model, Reference
from gateway.mapping.common import header
from gateway.mapping.document import Document, DocumentBuilder
from gateway.outcomes import Acknowledgment
from gateway.pipeline import InboundRecord, Pipeline
from gateway.resources import contracts_dir, xsd_dir
from gateway.settings import EcuapassSettings, RetrySettings
from gateway.tools.examples import examples

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
TOY_NAMESPACE = "urn:ecuapass-gateway:xsd:toy-permit:1"

TOY_XSD = """<?xml version="1.0" encoding="UTF-8"?>
<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:cmn="{common}" xmlns:toy="{namespace}"
           targetNamespace="{namespace}" elementFormDefault="qualified">
  <xs:import namespace="{common}" schemaLocation="common-types.xsd"/>
  <xs:element name="ToyPermit">
    <xs:complexType>
      <xs:sequence>
        <xs:element name="Header" type="cmn:MessageHeaderType"/>
        <xs:element name="Colour">
          <xs:simpleType>
            <xs:restriction base="xs:string">
              <xs:enumeration value="RED"/>
              <xs:enumeration value="BLUE"/>
            </xs:restriction>
          </xs:simpleType>
        </xs:element>
      </xs:sequence>
    </xs:complexType>
  </xs:element>
</xs:schema>
"""


# --- the gateway's side: an event and a mapper; the mock's side: rules and numbering -----------------------------


class ToyPermit(Model):
    local_reference: Reference
    colour: Literal["RED", "BLUE"]


class ToyPermitRequested(CaseEventBase):
    type: Literal["ecuapass.regime51.toy-permit-requested.v1"]
    dataschema: Literal["urn:ecuapass-gateway:schema:toy-permit-requested:1"]
    data: ToyPermit


def toy_mapper(spec: DocumentSpec) -> Callable[[ToyPermitRequested, str], Document]:
    def map_toy_permit(event: ToyPermitRequested, message_id: str) -> Document:
        b = DocumentBuilder(spec, message_id)
        header(b, event, message_id, event.data.local_reference)
        b.value(b.root, f"{{{spec.namespace}}}Colour", event.data.colour, "data.colour")
        return b.document

    return map_toy_permit


def check_toy_permit(root: etree._Element, context: Context) -> list[ReplyError]:
    return identifiers(root, context)


def accept_toy_permit(
    root: etree._Element, context: Context, warnings: tuple[ReplyError, ...]
) -> tuple[Acceptance, Grant | None]:
    number = f"TOY-{context.now.year}-{context.store.next_sequence('toy-permit'):08d}"
    return Acceptance(number, context.now, warnings=warnings), None


@dataclass(frozen=True)
class Toy:
    """The toy's spec (the contract) and its one entry on each side."""

    spec: DocumentSpec
    kind: DocumentKind  # the gateway's entry
    procedure: Procedure  # the mock's entry


@pytest.fixture
def toy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Toy]:
    """The toy's spec and entries, and its files: the XSD folder with toy-permit.xsd added and reply.xsd's
    ``DocumentTypeCode`` naming it, in place of the installed one."""
    root = tmp_path / "data"
    folder = root / "schemas" / "xsd"
    shutil.copytree(xsd_dir(), folder)
    (root / "contracts").symlink_to(contracts_dir())
    (folder / "toy-permit.xsd").write_text(TOY_XSD.format(common=COMMON, namespace=TOY_NAMESPACE), "utf-8")
    reply = folder / "reply.xsd"
    last = '<xs:enumeration value="warehouse-entry"/>'
    reply.write_text(reply.read_text("utf-8").replace(last, f'{last}<xs:enumeration value="toy-permit"/>'), "utf-8")
    monkeypatch.setattr(resources, "data_root", lambda: root)
    spec = DocumentSpec(
        name="toy-permit",
        namespace=TOY_NAMESPACE,
        prefix="toy",
        root="ToyPermit",
        xsd="toy-permit.xsd",
        sample_number="TOY-2026-00000001",
    )
    schema.cache_clear()  # compiled again from the folder with the toy's files
    yield Toy(
        spec,
        DocumentKind(spec, ToyPermitRequested, toy_mapper(spec)),
        Procedure(spec, check_toy_permit, accept_toy_permit),
    )
    schema.cache_clear()


def _event(colour: str = "RED") -> bytes:
    return json.dumps(
        {
            "specversion": "1.0",
            "id": "5f1c7a52-7d55-4b0e-9c61-3c1d0c7e2a11",
            "source": "urn:agency:toys:erp",
            "type": "ecuapass.regime51.toy-permit-requested.v1",
            "subject": "CASE-TOY-0001",
            "time": "2026-11-26T10:05:00-05:00",
            "dataschema": "urn:ecuapass-gateway:schema:toy-permit-requested:1",
            "sender": "1790011674001",
            "data": {"local_reference": "TOY-1", "colour": colour},
        }
    ).encode()


@pytest.fixture
async def mock_store() -> AsyncIterator[FilingStore]:
    store = FilingStore(":memory:")
    yield store
    store.close()


def _endpoint(app: object) -> HttpCustomsEndpoint:
    return HttpCustomsEndpoint(
        EcuapassSettings(url="http://customs.test/", token="t0ken"),  # type: ignore[arg-type]
        RetrySettings(max_attempts=1),  # type: ignore[call-arg]
        transport=httpx.ASGITransport(app=app),  # type: ignore[arg-type]
    )


async def test_a_toy_document_files_end_to_end_with_one_entry_per_side(toy: Toy, mock_store: FilingStore) -> None:
    documents = Documents((*DOCUMENT_KINDS, toy.kind))  # the gateway's one entry
    procedures = (*PROCEDURES, toy.procedure)  # the mock's one entry
    documents.compile()  # the toy's XSD with the others, as when the gateway is built
    app = create_app(mock_store, clock=lambda: NOW, require_token="t0ken", procedures=procedures)
    endpoint = _endpoint(app)
    pipeline = Pipeline(endpoint, source="urn:test-gateway", clock=lambda: NOW, documents=documents)
    try:
        outcome = await pipeline.process(InboundRecord(_event(), b"CASE-TOY-0001", (), "in", 0, 1))
    finally:
        await endpoint.aclose()
    assert isinstance(outcome, Acknowledgment), outcome
    assert (outcome.data.document, outcome.data.official_number) == ("toy-permit", "TOY-2026-00000001")
    assert outcome.data.local_reference == "TOY-1" and outcome.data.case_id == "CASE-TOY-0001"
    (filed,) = mock_store.log()
    assert (filed["document"], filed["case_id"], filed["status"]) == ("toy-permit", "CASE-TOY-0001", "ACCEPTED")


async def test_the_toy_xsd_is_checked_on_both_sides(toy: Toy, mock_store: FilingStore) -> None:
    documents = Documents((*DOCUMENT_KINDS, toy.kind))
    with pytest.raises(InvalidEvent) as caught:
        documents.build(documents.decode(_event("GREEN")))
    assert {(e.path, e.code) for e in caught.value.errors} == {("data.colour", "GW-LITERAL_ERROR")}
    document = documents.build(documents.decode(_event("BLUE")))
    colour = document.root.find(f"{{{TOY_NAMESPACE}}}Colour")
    assert colour is not None
    colour.text = "GREEN"  # past the gateway, the mock's XSD check refuses it
    app = create_app(mock_store, procedures=(*PROCEDURES, toy.procedure))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://mock") as client:
        answer = await client.post("/api/v1/documents", content=document.to_bytes())
    reply = read_reply(answer.content)
    assert reply.rejection is not None and reply.rejection.stage == "VALIDATION"
    assert [e.code for e in reply.rejection.errors] == ["R51-VAL-001"] and mock_store.log() == []


async def test_without_its_entries_the_toy_is_unknown_on_each_side(toy: Toy, mock_store: FilingStore) -> None:
    with pytest.raises(UndecodableEvent) as caught:
        Documents(DOCUMENT_KINDS).decode(_event())
    assert caught.value.reason == "unknown_type"
    document = Documents((*DOCUMENT_KINDS, toy.kind)).build(ToyPermitRequested.model_validate_json(_event()))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=create_app(mock_store)), base_url="http://m") as c:
        answer = await c.post("/api/v1/documents", content=document.to_bytes())
    assert answer.status_code == 400
    assert [e.code for e in read_reply(answer.content).rejection.errors] == ["R51-REC-002"]  # type: ignore[union-attr]


def test_with_the_toy_the_real_documents_build_as_before(toy: Toy) -> None:
    extended = Documents((*DOCUMENT_KINDS, toy.kind))
    accepted = [example for example in examples() if example.expected == "accepted"]
    assert {example.document for example in accepted} == {kind.name for kind in DOCUMENT_KINDS}
    for example in accepted:
        built = extended.build(extended.decode(example.payload()))
        assert built.to_bytes() == build(decode(example.payload())).to_bytes(), example.name
