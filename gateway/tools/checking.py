"""``ecuapass-gateway validate``: check event files (JSON) and e-documents (XML) without filing anything.

Events go through the same decoder as the pipeline; XML documents are recognised by their root element and checked
against their XSD with xmlschema, whose messages name the expected values (the hot path uses libxml2 instead).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from gateway import documents
from gateway.contract.documents import DocumentSpec
from gateway.contract.parsing import parse_xml
from gateway.contract.schemas import schema_path
from gateway.documents import decode
from gateway.errors import InvalidEvent, UndecodableEvent, UnsafeXmlError
from gateway.tools.examples import resolve_references


@dataclass(frozen=True, slots=True)
class Problem:
    file: Path
    location: str  # JSON path for events, XPath (and line) for XML
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}: {self.location or '(document)'}: {self.code}: {self.message}"


@cache
def _detailed_schema(name_or_spec: str | DocumentSpec) -> Any:
    import xmlschema  # only this command needs it

    path = schema_path(name_or_spec).resolve()
    return xmlschema.XMLSchema(str(path), base_url=str(path.parent), allow="sandbox")


def check_file(path: Path) -> list[Problem]:
    """Every problem of one file; ``{{example}}`` references of the contract examples count as sample numbers."""
    data = resolve_references(path.read_bytes())
    if data.lstrip().startswith(b"<"):
        return _check_xml(path, data)
    return _check_event(path, data)


def _check_event(path: Path, data: bytes) -> list[Problem]:
    try:
        documents.build(decode(data))
    except InvalidEvent as exc:
        return [Problem(path, e.path, e.code, e.message_en) for e in exc.errors]
    except UndecodableEvent as exc:
        return [Problem(path, "", f"DLQ-{exc.reason}", exc.detail or exc.reason)]
    return []


def _check_xml(path: Path, data: bytes) -> list[Problem]:
    try:
        root = parse_xml(data)
    except UnsafeXmlError as exc:
        return [Problem(path, "", "XML-UNSAFE", str(exc))]
    kind = documents.BY_ROOT.get(root.tag)
    schema: str | DocumentSpec | None = kind.spec if kind else ("reply" if root.tag.endswith("}Reply") else None)
    if schema is None:
        return [Problem(path, "", "XML-UNKNOWN", f"not an e-document or reply: root element {root.tag}")]
    return [
        Problem(path, f"{error.path} (line {error.sourceline})", "XSD", str(error.reason))
        for error in _detailed_schema(schema).iter_errors(root.getroottree())
    ]
