"""The e-documents the gateway files: each document of the contract with the event it comes from and its mapper.

    DOCUMENT_KINDS   one ``DocumentKind`` per document: its spec (``gateway.contract.documents``), event, mapper
    Documents        what is derived from them: lookups by event type and root element, the decoder of their
                     events, building (map, then XSD check), and compiling their XSDs when the gateway is built

Adding a document is its spec and XSD in the contract, an event class (``gateway.events``), a mapper
(``gateway.mapping``) and one ``DocumentKind`` here; the mock adds one ``Procedure``. The pipeline, the adapters
and the decoder need no change (``tests/unit/test_toy_document.py`` files a toy document that way).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.contract.documents import AUTHORIZATION_REQUEST, EXPORT_DECLARATION, WAREHOUSE_ENTRY, DocumentSpec
from gateway.contract.schemas import compile_all, violations
from gateway.errors import ConfigurationError, InvalidEvent
from gateway.events import AuthorizationRequested, CaseEventBase, EventDecoder, event_type
from gateway.events.binding import Mode
from gateway.events.export_declaration import ExportDeclarationSubmitted
from gateway.events.validation import FieldError
from gateway.events.warehouse_entry import WarehouseEntryRegistered
from gateway.mapping.authorization import map_authorization
from gateway.mapping.document import Document
from gateway.mapping.export_declaration import map_export_declaration
from gateway.mapping.warehouse_entry import map_warehouse_entry

_MESSAGE_NAMESPACE = uuid.UUID("0b7d0c55-3a0e-5d1c-8f6a-51e0c1a5e251")


@dataclass(frozen=True, slots=True)
class DocumentKind:
    """A document of the contract as the gateway files it: from which event, through which mapper."""

    spec: DocumentSpec
    event: type[CaseEventBase]
    mapper: Callable[[Any, str], Document]

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def event_type(self) -> str:
        return event_type(self.event)

    @property
    def root(self) -> str:
        """Clark name of the root element."""
        return self.spec.root_tag


class Documents:
    """The documents the gateway files, and everything keyed by them."""

    def __init__(self, kinds: Sequence[DocumentKind]) -> None:
        self.kinds = tuple(kinds)
        for what, key in (("name", "name"), ("event type", "event_type"), ("root element", "root")):
            keys = [getattr(kind, key) for kind in self.kinds]
            if twice := sorted({k for k in keys if keys.count(k) > 1}):
                raise ConfigurationError(f"two documents share the {what} {', '.join(twice)}")
        self.by_event_type: dict[str, DocumentKind] = {kind.event_type: kind for kind in self.kinds}
        self.by_root: dict[str, DocumentKind] = {kind.root: kind for kind in self.kinds}
        self.events: tuple[type[CaseEventBase], ...] = tuple(kind.event for kind in self.kinds)
        self._decoder = EventDecoder(self.events)

    def compile(self) -> None:
        """Compile every XSD the gateway uses (its documents', the reply's): ``ConfigurationError`` names the file
        that does not compile. Called when the gateway is built, so that a broken XSD stops start-up."""
        compile_all(kind.spec for kind in self.kinds)

    def decode(self, raw: bytes, mode: Mode = "structured") -> CaseEventBase:
        """One event of these documents from its JSON (``gateway.events.EventDecoder``)."""
        return self._decoder.decode(raw, mode)

    def build(self, event: CaseEventBase) -> Document:
        """Map the event to its e-document and check it against the XSD; ``InvalidEvent`` names the fields."""
        document = self.map_event(event)
        self.check(event, document)
        return document

    def map_event(self, event: CaseEventBase) -> Document:
        """The e-document of an event (pure)."""
        return self.by_event_type[event.type].mapper(event, message_id(event))

    def check(self, event: CaseEventBase, document: Document) -> None:
        """XSD validation of a built document; ``InvalidEvent`` with the event fields behind each violation."""
        problems = violations(self.by_event_type[event.type].spec, document.root)
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


DOCUMENT_KINDS: tuple[DocumentKind, ...] = (
    DocumentKind(AUTHORIZATION_REQUEST, AuthorizationRequested, map_authorization),
    DocumentKind(EXPORT_DECLARATION, ExportDeclarationSubmitted, map_export_declaration),
    DocumentKind(WAREHOUSE_ENTRY, WarehouseEntryRegistered, map_warehouse_entry),
)
DOCUMENTS = Documents(DOCUMENT_KINDS)
BY_EVENT_TYPE = DOCUMENTS.by_event_type
BY_ROOT = DOCUMENTS.by_root
CASE_EVENTS = DOCUMENTS.events


def message_id(event: CaseEventBase) -> str:
    """The id a document is filed under: derived from the event, so a redelivered event files nothing new."""
    return str(uuid.uuid5(_MESSAGE_NAMESPACE, f"{event.source}\x1f{event.id}"))


def decode(raw: bytes, mode: Mode = "structured") -> CaseEventBase:
    """One event of the gateway's documents (``Documents.decode``)."""
    return DOCUMENTS.decode(raw, mode)


def build(event: CaseEventBase) -> Document:
    """Map and check (``Documents.build``)."""
    return DOCUMENTS.build(event)


def map_event(event: CaseEventBase) -> Document:
    """The e-document of an event (``Documents.map_event``)."""
    return DOCUMENTS.map_event(event)


def check(event: CaseEventBase, document: Document) -> None:
    """XSD validation of a built document (``Documents.check``)."""
    DOCUMENTS.check(event, document)
