"""XSDs compiled once and cached; validation that reports reason, element path and line.

The hot path uses lxml's ``XMLSchema`` (libxml2): validating a built document costs a fraction of a millisecond.
Schemas are read from ``gateway.resources.xsd_dir()`` without network access.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from lxml import etree

from gateway.errors import ConfigurationError
from gateway.resources import xsd_dir

SCHEMA_FILES: dict[str, str] = {
    "authorization-request": "authorization-request.xsd",
    "export-declaration": "export-declaration.xsd",
    "warehouse-entry": "warehouse-entry.xsd",
    "reply": "reply.xsd",
}


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One XSD error: libxml2's message, the XPath of the element (prefixes of ``PREFIXES``) and the line."""

    message: str
    path: str
    line: int


@cache
def schema(name: str) -> etree.XMLSchema:
    """The compiled XSD called ``name`` (a key of ``SCHEMA_FILES``)."""
    try:
        path = xsd_dir() / SCHEMA_FILES[name]
    except KeyError:
        raise ConfigurationError(f"no XSD is registered as {name!r}") from None
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser=parser))
    except (OSError, etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ConfigurationError(f"cannot load XSD {path}: {exc}") from exc


def violations(name: str, root: etree._Element) -> list[SchemaViolation]:
    """Every violation of schema ``name`` in ``root``; empty when the document is valid."""
    compiled = schema(name)
    if compiled.validate(root):
        return []
    return [SchemaViolation(e.message, e.path or "", e.line) for e in compiled.error_log]  # type: ignore[attr-defined]
