"""Warehouse entry registered (event) -> WarehouseEntry (e-document). Pure: no I/O, no clock."""

from __future__ import annotations

from gateway.contract.documents import WAREHOUSE_ENTRY
from gateway.contract.namespaces import COMMON as CMN
from gateway.events.warehouse_entry import WarehouseEntryRegistered
from gateway.mapping.common import header
from gateway.mapping.document import Document, DocumentBuilder, fixed

ING = WAREHOUSE_ENTRY.namespace


def map_warehouse_entry(event: WarehouseEntryRegistered, message_id: str) -> Document:
    data = event.data
    b = DocumentBuilder(WAREHOUSE_ENTRY, message_id)
    root = b.root
    header(b, event, message_id, data.local_reference)
    b.value(root, f"{{{ING}}}District", data.district, "data.district")
    # The warehouse sends this document: its cmn:OceCode is the first of the document, the one the submission
    # number starts with.
    warehouse = b.group(root, f"{{{ING}}}Warehouse", "data.warehouse")
    b.value(warehouse, f"{{{CMN}}}Ruc", data.warehouse.ruc, "data.warehouse.ruc")
    b.value(warehouse, f"{{{CMN}}}Name", data.warehouse.name, "data.warehouse.name")
    b.value(warehouse, f"{{{CMN}}}OceCode", data.warehouse.oce_code, "data.warehouse.oce_code")
    b.value(root, f"{{{ING}}}ExportDeclarationNumber", data.dae_number, "data.dae_number")
    b.value(root, f"{{{ING}}}EntryDateTime", data.entry_time, "data.entry_time")
    b.value(root, f"{{{ING}}}ReceivedPackageQuantity", data.packages_received, "data.packages_received")
    b.value(root, f"{{{ING}}}PackageTypeCode", data.package_type, "data.package_type")
    weight = fixed(data.gross_weight_received_kg, 3)
    b.value(root, f"{{{ING}}}ReceivedGrossWeightKg", weight, "data.gross_weight_received_kg")
    transport = b.group(root, f"{{{ING}}}TransportContractDocument", "data.transport_document")
    b.value(transport, f"{{{ING}}}TypeCode", data.transport_document.kind, "data.transport_document.kind")
    b.value(transport, f"{{{ING}}}ID", data.transport_document.number, "data.transport_document.number")
    for index, container in enumerate(data.containers):
        at = f"data.containers[{index}]"
        equipment = b.group(root, f"{{{ING}}}TransportEquipment", at)
        b.value(equipment, f"{{{ING}}}SequenceNumeric", index + 1, at)
        b.value(equipment, f"{{{ING}}}ID", container.number, f"{at}.number")
        b.value(equipment, f"{{{ING}}}SizeTypeCode", container.size_type, f"{at}.size_type")
        for n, seal in enumerate(container.seals):
            b.value(equipment, f"{{{ING}}}Seal", seal, f"{at}.seals[{n}]")
    for index, novelty in enumerate(data.novelties):
        at = f"data.novelties[{index}]"
        element = b.group(root, f"{{{ING}}}Novelty", at)
        b.value(element, f"{{{ING}}}TypeCode", novelty.kind, f"{at}.kind")
        b.value(element, f"{{{ING}}}Description", novelty.description, f"{at}.description")
        b.optional(element, f"{{{ING}}}AffectedPackageQuantity", novelty.packages_affected, f"{at}.packages_affected")
    return b.document
