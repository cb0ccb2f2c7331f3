"""An e-document being built: its lxml tree plus, for every element, the event field it came from.

Mappers build through ``DocumentBuilder`` so that any pointer into the document (an XSD error path, or the
``Pointer`` of a customs error) can be traced back to the JSON path of the field in the publisher's event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from lxml import etree

from gateway.contract.documents import DocumentSpec
from gateway.contract.namespaces import COMMON, PREFIXES
from gateway.errors import InvalidEvent
from gateway.events.validation import FieldError
from gateway.gateway_codes import BY_CODE

_INDEX = re.compile(r"\[\d+\]$")


@dataclass(slots=True)
class Document:
    """A built e-document, ready to validate and file."""

    kind: str
    message_id: str
    root: etree._Element
    sources: dict[etree._Element, str] = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        return etree.tostring(self.root, xml_declaration=True, encoding="UTF-8")

    def field_for(self, pointer: str) -> str:
        """The event field behind an XPath into this document: its nearest mapped ancestor, the list when the
        pointer names every element of a repeated group, or ``data`` when it names nothing."""
        try:
            found = self.root.xpath(pointer, namespaces=PREFIXES) if pointer else []
        except etree.XPathError:
            found = []
        elements = [node for node in found if isinstance(node, etree._Element)] if isinstance(found, list) else []
        if not elements:
            return "data"
        paths = {self._nearest(node) for node in elements}
        if len(paths) > 1:
            lists = {_INDEX.sub("", path) for path in paths}
            return lists.pop() if len(lists) == 1 else "data"
        return paths.pop()

    def _nearest(self, node: etree._Element | None) -> str:
        while node is not None:
            if node in self.sources:
                return self.sources[node]
            node = node.getparent()
        return "data"


Scalar = str | int | Decimal | date | datetime


class DocumentBuilder:
    """Appends elements to a document and records which event field each one holds."""

    def __init__(self, spec: DocumentSpec, message_id: str) -> None:
        root = etree.Element(spec.root_tag, nsmap={"cmn": COMMON, spec.prefix: spec.namespace})
        self.document = Document(spec.name, message_id, root, {root: "data"})

    @property
    def root(self) -> etree._Element:
        return self.document.root

    def group(self, parent: etree._Element, tag: str, source: str) -> etree._Element:
        """A container element standing for the object at ``source``."""
        element = etree.SubElement(parent, tag)
        self.document.sources[element] = source
        return element

    def value(self, parent: etree._Element, tag: str, value: Scalar, source: str) -> etree._Element:
        """A leaf element holding one field's value, written in its canonical XSD lexical form."""
        element = etree.SubElement(parent, tag)
        try:
            element.text = lexical(value)
        except ValueError as exc:  # lxml refuses characters XML 1.0 cannot carry
            raise InvalidEvent([xml_char_error(source, value)]) from exc
        self.document.sources[element] = source
        return element

    def optional(self, parent: etree._Element, tag: str, value: Scalar | None, source: str) -> None:
        if value is not None:
            self.value(parent, tag, value, source)


def lexical(value: Scalar) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        raise TypeError("decimals need a fixed number of places: use fixed(value, places)")
    return str(value)


def fixed(value: Decimal, places: int) -> str:
    """``Decimal('12.5')`` with 2 places -> ``'12.50'``; never ``-0.00``."""
    if value.is_zero():
        value = abs(value)
    return f"{value:.{places}f}"


def xml_char_error(path: str, value: object) -> FieldError:
    return FieldError(
        code="GW-XML_CHAR_INVALID",
        path=path,
        value=str(value)[:200],
        message_en="contains characters XML 1.0 cannot carry (control characters or non-characters)",
        message_es=BY_CODE["GW-XML_CHAR_INVALID"].message_es,
    )
