"""XSDs compiled once and cached; validation that reports reason, element path and line.

The hot path uses lxml's ``XMLSchema`` (libxml2): validating a built document costs a fraction of a millisecond.
Schemas are read from ``gateway.resources.xsd_dir()`` without network access. ``compile_all`` compiles every
document's XSD and the reply's when a service is built, so that a broken or missing XSD stops start-up with a
``ConfigurationError`` naming the file instead of turning the first event of its kind into a dead letter; it
compiles the XSDs that no document keys (``INITIATED_FILES``: the notification feed) as well.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from gateway import resources
from gateway.contract.documents import DOCUMENTS, DocumentSpec
from gateway.errors import ConfigurationError

REPLY_XSD = "reply.xsd"
NOTIFICATIONS_XSD = "notifications.xsd"
#: The XSD of each document by name, and the reply's (``"reply"``).
SCHEMA_FILES: dict[str, str] = {**{spec.name: spec.xsd for spec in DOCUMENTS}, "reply": REPLY_XSD}
#: The XSDs of what customs sends on its own initiative, keyed by no document: the feed (``notifications.py``).
INITIATED_FILES: dict[str, str] = {"notifications": NOTIFICATIONS_XSD}


@dataclass(frozen=True, slots=True)
class SchemaViolation:
    """One XSD error: libxml2's message, the XPath of the element (prefixes of ``PREFIXES``) and the line."""

    message: str
    path: str
    line: int


def schema_path(name_or_spec: str | DocumentSpec) -> Path:
    """Where the XSD of a document (its spec, or a name of ``SCHEMA_FILES`` or ``INITIATED_FILES``) is."""
    if isinstance(name_or_spec, DocumentSpec):
        file = name_or_spec.xsd
    else:
        try:
            file = {**SCHEMA_FILES, **INITIATED_FILES}[name_or_spec]
        except KeyError:
            raise ConfigurationError(f"no XSD is registered as {name_or_spec!r}") from None
    return resources.xsd_dir() / file


@cache
def schema(name_or_spec: str | DocumentSpec) -> etree.XMLSchema:
    """The compiled XSD of a document (its spec, or a name of ``schema_path``), compiled on first use."""
    path = schema_path(name_or_spec)
    parser = etree.XMLParser(no_network=True, resolve_entities=False)
    try:
        return etree.XMLSchema(etree.parse(str(path), parser=parser))
    except OSError as exc:
        raise ConfigurationError(f"cannot load XSD {path}: {exc}") from exc
    except (etree.XMLSchemaParseError, etree.XMLSyntaxError) as exc:
        raise ConfigurationError(f"cannot load XSD {path}: {_first_complaint(exc, path)}") from exc


def _first_complaint(exc: etree.XMLSchemaParseError | etree.XMLSyntaxError, path: Path) -> str:
    """libxml2's first complaint and the file it is about: the XSD itself, or one it imports (``common-types.xsd``),
    which the exception's message does not name."""
    entries: Iterable[Any] = exc.error_log  # type: ignore[assignment]  # iterable, whatever lxml-stubs says
    first = next(iter(entries), None)
    if first is None:
        return str(exc)
    where = "" if first.filename == str(path) else f"{first.filename}, "
    return f"{where}line {first.line}: {first.message}"


def compile_all(specs: Iterable[DocumentSpec] = DOCUMENTS) -> None:
    """Compile the XSD of every document of ``specs``, the reply's and the feed's; ``ConfigurationError`` names the
    first file that does not compile."""
    for spec in specs:
        schema(spec)
    schema("reply")
    for name in INITIATED_FILES:
        schema(name)


def violations(name_or_spec: str | DocumentSpec, root: etree._Element) -> list[SchemaViolation]:
    """Every violation of the document's XSD in ``root``; empty when the document is valid."""
    compiled = schema(name_or_spec)
    if compiled.validate(root):
        return []
    return [SchemaViolation(e.message, e.path or "", e.line) for e in compiled.error_log]  # type: ignore[attr-defined]
