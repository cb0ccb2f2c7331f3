"""What customs does with each kind of e-document: its business rules and, once accepted, its numbering.

One module per document kind, each exposing ``check(root, context)`` (every finding: errors and warnings) and
``accept(root, context, warnings)`` (the acceptance with official numbers, plus what it grants for later documents).
The mock reads the filed XML only; it never sees the gateway's events.
"""

from __future__ import annotations

from adapters.ecuapass_mock.procedures import authorization, export_declaration, warehouse_entry
from adapters.ecuapass_mock.procedures.common import Context, Grant, Procedure

PROCEDURES: dict[str, Procedure] = {
    "authorization-request": Procedure(authorization.check, authorization.accept),
    "export-declaration": Procedure(export_declaration.check, export_declaration.accept),
    "warehouse-entry": Procedure(warehouse_entry.check, warehouse_entry.accept),
}

__all__ = ["PROCEDURES", "Context", "Grant", "Procedure"]
