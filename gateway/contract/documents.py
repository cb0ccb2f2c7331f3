"""The e-documents of the contract: one ``DocumentSpec`` each, the one place a document's identity is written.

Everything keyed by a document is derived from ``DOCUMENTS``: the XSD of each name (``schemas.SCHEMA_FILES``), the
prefixes of error pointers (``namespaces.PREFIXES``), the offline sample numbers (``gateway.tools.examples``), and,
on each side, the registry that attaches what that side does with the document: the gateway's event model and mapper
(``gateway.documents.DOCUMENT_KINDS``), the mock's rules and numbering (``ecuapass_mock.procedures.PROCEDURES``).

Adding a document is one ``DocumentSpec`` here, one ``DocumentKind`` in the gateway and one ``Procedure`` in the
mock, plus its files: its XSD in ``schemas/xsd/``, its name among the ``DocumentTypeCode`` values of ``reply.xsd``
(a test checks they match ``DOCUMENTS``) and its examples (``tests/unit/test_toy_document.py`` files a toy document
that way).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DocumentSpec:
    """What both sides agree on about one e-document."""

    name: str  # its name everywhere: outcomes' ``document``, the reply's DocumentType, examples/<name>/, metrics
    namespace: str  # the XSD's target namespace
    prefix: str  # the namespace's prefix in error pointers (XPaths of replies and rejections)
    root: str  # local name of the root element: how the mock recognises the document
    xsd: str  # its XSD: a file of ``schemas/xsd/``
    sample_number: str  # the official number used offline for ``{{<name>/…}}`` references of the examples

    @property
    def root_tag(self) -> str:
        """Clark name of the root element, as lxml gives it: ``{urn:…}Root``."""
        return f"{{{self.namespace}}}{self.root}"


AUTHORIZATION_REQUEST = DocumentSpec(
    name="authorization-request",
    namespace="urn:ecuapass-gateway:xsd:authorization-request:1",
    prefix="aut",
    root="AuthorizationRequest",
    xsd="authorization-request.xsd",
    sample_number="028-2026-AUT51-00000001",
)
EXPORT_DECLARATION = DocumentSpec(
    name="export-declaration",
    namespace="urn:ecuapass-gateway:xsd:export-declaration:1",
    prefix="dae",
    root="ExportDeclaration",
    xsd="export-declaration.xsd",
    sample_number="028-2026-51-00000001",
)
WAREHOUSE_ENTRY = DocumentSpec(
    name="warehouse-entry",
    namespace="urn:ecuapass-gateway:xsd:warehouse-entry:1",
    prefix="ing",
    root="WarehouseEntry",
    xsd="warehouse-entry.xsd",
    sample_number="028-2026-IE51-00000001",
)

DOCUMENTS: tuple[DocumentSpec, ...] = (AUTHORIZATION_REQUEST, EXPORT_DECLARATION, WAREHOUSE_ENTRY)
BY_NAME: dict[str, DocumentSpec] = {spec.name: spec for spec in DOCUMENTS}
