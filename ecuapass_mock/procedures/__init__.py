"""What customs does with each kind of e-document: its business rules and, once accepted, its numbering.

One module per document kind, each exposing ``check(root, context)`` (every finding: errors and warnings) and
``accept(root, context, warnings)`` (the acceptance with official numbers, plus what it grants for later documents).
``PROCEDURES`` is the mock's one entry per document (its spec of ``gateway.contract.documents`` and those two), and
everything the mock keys by document is derived from it. The mock reads the filed XML only; it never sees the
gateway's events.
"""

from __future__ import annotations

from collections.abc import Iterable

from ecuapass_mock.procedures import authorization, export_declaration, warehouse_entry
from ecuapass_mock.procedures.common import Context, Grant, Procedure
from gateway.contract.documents import AUTHORIZATION_REQUEST, EXPORT_DECLARATION, WAREHOUSE_ENTRY

PROCEDURES: tuple[Procedure, ...] = (
    Procedure(AUTHORIZATION_REQUEST, authorization.check, authorization.accept),
    Procedure(EXPORT_DECLARATION, export_declaration.check, export_declaration.accept),
    Procedure(WAREHOUSE_ENTRY, warehouse_entry.check, warehouse_entry.accept),
)


def by_root(procedures: Iterable[Procedure]) -> dict[str, Procedure]:
    """The procedures by the Clark name of their document's root element: how a received document is recognised."""
    return {procedure.spec.root_tag: procedure for procedure in procedures}


BY_NAME: dict[str, Procedure] = {procedure.name: procedure for procedure in PROCEDURES}
BY_ROOT: dict[str, Procedure] = by_root(PROCEDURES)

__all__ = ["BY_NAME", "BY_ROOT", "PROCEDURES", "Context", "Grant", "Procedure", "by_root"]
