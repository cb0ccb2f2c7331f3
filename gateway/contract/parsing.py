"""The one way XML from outside is parsed: no DTD, no entities, no network, bounded size.

Used for documents the mock receives and replies the gateway receives. Anything else is refused with
``gateway.errors.UnsafeXmlError`` before a tree is built.
"""

from __future__ import annotations

from lxml import etree

from gateway.errors import UnsafeXmlError

MAX_XML_BYTES = 5 * 1024 * 1024

_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    load_dtd=False,
    dtd_validation=False,
    huge_tree=False,
    remove_comments=True,
    remove_pis=True,
    collect_ids=False,
)


def parse_xml(data: bytes, *, max_bytes: int = MAX_XML_BYTES) -> etree._Element:
    """Parse untrusted XML bytes into an element, refusing DTDs, entities and oversized input."""
    if len(data) > max_bytes:
        raise UnsafeXmlError(f"XML of {len(data)} bytes exceeds the {max_bytes}-byte limit")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise UnsafeXmlError("XML with a DTD or entity declarations is refused")
    try:
        root = etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise UnsafeXmlError(f"malformed XML: {exc}") from exc
    if root is None:
        raise UnsafeXmlError("empty XML document")
    if root.getroottree().docinfo.internalDTD is not None:
        raise UnsafeXmlError("XML with a DTD is refused")
    return root
