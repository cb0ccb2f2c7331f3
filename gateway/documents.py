"""The e-documents the gateway files: for each event type, its mapper and its XSD.

Adding a document is adding an event class (``gateway.events``), a mapper (``gateway.mapping``), an XSD
(``schemas/xsd``) and one ``DocumentKind`` here; the pipeline, adapters and mock need no change.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from gateway.errors import InvalidEvent
from gateway.events import AuthorizationRequested, CaseEvent, CaseEventBase, event_type
from gateway.events.export_declaration import ExportDeclarationSubmitted
from gateway.events.validation import FieldError
from gateway.events.warehouse_entry import WarehouseEntryRegistered
from gateway.mapping.authorization import map_authorization
from gateway.mapping.document import Document
from gateway.mapping.export_declaration import map_export_declaration
from gateway.mapping.warehouse_entry import map_warehouse_entry
from gateway.xml.namespaces import AUTHORIZATION_REQUEST, EXPORT_DECLARATION, WAREHOUSE_ENTRY
from gateway.xml.schemas import violations

_MESSAGE_NAMESPACE = uuid.UUID("0b7d0c55-3a0e-5d1c-8f6a-51e0c1a5e251")


@dataclass(frozen=True, slots=True)
class DocumentKind:
    name: str
    event: type[CaseEventBase]
    mapper: Callable[[Any, str], Document]
    schema: str
    root: str  # Clark name of the root element, how the mock recognises the document

    @property
    def event_type(self) -> str:
        return event_type(self.event)


DOCUMENT_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind(
        name="authorization-request",
        event=AuthorizationRequested,
        mapper=map_authorization,
        schema="authorization-request",
        root=f"{{{AUTHORIZATION_REQUEST}}}AuthorizationRequest",
    ),
    DocumentKind(
        name="export-declaration",
        event=ExportDeclarationSubmitted,
        mapper=map_export_declaration,
        schema="export-declaration",
        root=f"{{{EXPORT_DECLARATION}}}ExportDeclaration",
    ),
    DocumentKind(
        name="warehouse-entry",
        event=WarehouseEntryRegistered,
        mapper=map_warehouse_entry,
        schema="warehouse-entry",
        root=f"{{{WAREHOUSE_ENTRY}}}WarehouseEntry",
    ),
)
BY_EVENT_TYPE: dict[str, DocumentKind] = {kind.event_type: kind for kind in DOCUMENT_KINDS}
BY_ROOT: dict[str, DocumentKind] = {kind.root: kind for kind in DOCUMENT_KINDS}


def message_id(event: CaseEventBase) -> str:
    """The id a document is filed under: derived from the event, so a redelivered event files nothing new."""
    return str(uuid.uuid5(_MESSAGE_NAMESPACE, f"{event.source}\x1f{event.id}"))


def build(event: CaseEvent) -> Document:
    """Map the event to its e-document and check it against the XSD; ``InvalidEvent`` names the fields."""
    document = map_event(event)
    check(event, document)
    return document


def map_event(event: CaseEvent) -> Document:
    """The e-document of an event (pure)."""
    return BY_EVENT_TYPE[event.type].mapper(event, message_id(event))


def check(event: CaseEvent, document: Document) -> None:
    """XSD validation of a built document; ``InvalidEvent`` with the event fields behind each violation."""
    kind = BY_EVENT_TYPE[event.type]
    problems = violations(kind.schema, document.root)
    if problems:
        raise InvalidEvent(
            [
                FieldError(
                    code="GW-XSD_INVALID",
                    path=document.field_for(problem.path),
                    pointer=problem.path,
                    message_en=problem.message,
                    message_es=f"El documento generado no cumple el esquema XSD: {problem.message}",
                )
                for problem in problems
            ],
            event_id=event.id,
        )
